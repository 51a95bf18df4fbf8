/**
 * The record keys an ANN index holds, ascending, in a growable Float64Array (8 bytes per key; keys are
 * SQLite integers below 2^53). Keys arrive in increasing order (records keys only grow), so adding is an
 * append; a removed key is negated in place (order by |key| is kept, so binary search still works) and
 * the holes are compacted once they are a quarter of the list.
 */
export class KeyList {
  #keys: Float64Array;
  #length = 0;
  #holes = 0;

  constructor(sorted?: Float64Array) {
    this.#keys = sorted ? Float64Array.from(sorted) : new Float64Array(1024);
    this.#length = sorted ? sorted.length : 0;
  }

  get size(): number {
    return this.#length - this.#holes;
  }

  get last(): number {
    return this.#length === 0 ? 0 : Math.abs(this.#keys[this.#length - 1] as number);
  }

  add(key: number): void {
    if (this.#length > 0 && key <= this.last) {
      // Out of order (never expected: keys grow): keep the list sorted the slow way.
      const at = this.#find(key);
      if (at >= 0 && (this.#keys[at] as number) === key) return;
      if (at >= 0) {
        this.#keys[at] = key;
        this.#holes--;
        return;
      }
      const where = -at - 1;
      this.#reserve(this.#length + 1);
      this.#keys.copyWithin(where + 1, where, this.#length);
      this.#keys[where] = key;
      this.#length++;
      return;
    }
    this.#reserve(this.#length + 1);
    this.#keys[this.#length++] = key;
  }

  /** Removes a key if present; returns whether it was. */
  remove(key: number): boolean {
    const at = this.#find(key);
    if (at < 0 || (this.#keys[at] as number) !== key) return false;
    this.#keys[at] = -key;
    this.#holes++;
    if (this.#holes * 4 > this.#length) this.#compact();
    return true;
  }

  has(key: number): boolean {
    const at = this.#find(key);
    return at >= 0 && (this.#keys[at] as number) === key;
  }

  /** Live keys, ascending. */
  toArray(): Float64Array {
    const out = new Float64Array(this.size);
    let j = 0;
    for (let i = 0; i < this.#length; i++) {
      const k = this.#keys[i] as number;
      if (k > 0) out[j++] = k;
    }
    return out;
  }

  /** Index of |key| in the list (its slot, live or a hole), or -(insertion point) - 1. */
  #find(key: number): number {
    let lo = 0;
    let hi = this.#length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = Math.abs(this.#keys[mid] as number);
      if (v < key) lo = mid + 1;
      else if (v > key) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  #compact(): void {
    const live = this.toArray();
    this.#keys = new Float64Array(Math.max(1024, live.length * 2));
    this.#keys.set(live);
    this.#length = live.length;
    this.#holes = 0;
  }

  #reserve(length: number): void {
    if (length <= this.#keys.length) return;
    const grown = new Float64Array(Math.max(length, Math.ceil(this.#keys.length * 1.5)));
    grown.set(this.#keys.subarray(0, this.#length));
    this.#keys = grown;
  }
}
