/**
 * Keeps the k best (highest-score) rows of a stream in a binary min-heap: O(n log k) for a filtered
 * scan, with the worst kept score at the root so most candidates are rejected by one comparison.
 */
export class TopK {
  readonly #k: number;
  readonly #scores: Float64Array;
  readonly #rows: Float64Array;
  #size = 0;

  constructor(k: number) {
    this.#k = k;
    this.#scores = new Float64Array(k);
    this.#rows = new Float64Array(k);
  }

  /** Whether k rows are kept: a push must then beat `worst` to change anything. */
  get full(): boolean {
    return this.#size === this.#k;
  }

  /** The lowest kept score (meaningful when `full`). */
  get worst(): number {
    return this.#scores[0] as number;
  }

  push(score: number, row: number): void {
    if (this.#k === 0) return;
    if (this.#size < this.#k) {
      let i = this.#size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if ((this.#scores[parent] as number) <= score) break;
        this.#scores[i] = this.#scores[parent] as number;
        this.#rows[i] = this.#rows[parent] as number;
        i = parent;
      }
      this.#scores[i] = score;
      this.#rows[i] = row;
      return;
    }
    if (score <= (this.#scores[0] as number)) return;
    this.#siftDown(score, row);
  }

  /** Rows and scores, best first. */
  sorted(): { rows: number[]; scores: number[] } {
    const order = Array.from({ length: this.#size }, (_, i) => i);
    order.sort((a, b) => (this.#scores[b] as number) - (this.#scores[a] as number));
    return {
      rows: order.map((i) => this.#rows[i] as number),
      scores: order.map((i) => this.#scores[i] as number),
    };
  }

  #siftDown(score: number, row: number): void {
    const n = this.#size;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child =
        right < n && (this.#scores[right] as number) < (this.#scores[left] as number) ? right : left;
      if ((this.#scores[child] as number) >= score) break;
      this.#scores[i] = this.#scores[child] as number;
      this.#rows[i] = this.#rows[child] as number;
      i = child;
    }
    this.#scores[i] = score;
    this.#rows[i] = row;
  }
}
