/**
 * A mergeable latency histogram with log-spaced buckets (growth 2^(1/8), so any quantile is within ~9%
 * of the true value). Traffic statistics keep one sketch per namespace and minute: sketches of any time
 * window merge by adding counts, which a bounded reservoir of raw samples cannot do, and storage stays
 * bounded (at most ~220 buckets, sparse) however many queries a minute sees.
 *
 * @example
 * const s = new LatencySketch();
 * for (const ms of [1.2, 3.4, 250]) s.add(ms);
 * s.quantile(0.99); // ≈ 250
 */
const MIN_MS = 0.01;
const GROWTH = 2 ** (1 / 8);
const LOG_GROWTH = Math.log(GROWTH);
/** 0.01 ms × 2^(224/8) ≈ 2.7e6 ms (45 min): anything slower lands in the last bucket. */
const MAX_INDEX = 224;

/** Sparse bucket counts, keyed by bucket index: the JSON form stored per minute. */
export type SketchCounts = Readonly<Record<string, number>>;

export function bucketIndex(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(MAX_INDEX, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH - 1e-9));
}

/** Upper bound (ms) of a bucket; bucket i holds (upper(i-1), upper(i)]. */
export function bucketUpper(index: number): number {
  return MIN_MS * GROWTH ** index;
}

export class LatencySketch {
  readonly #counts = new Map<number, number>();
  #count = 0;

  static from(counts: SketchCounts): LatencySketch {
    const s = new LatencySketch();
    s.merge(counts);
    return s;
  }

  get count(): number {
    return this.#count;
  }

  add(ms: number, times = 1): void {
    if (!Number.isFinite(ms) || times <= 0) return;
    const i = bucketIndex(ms);
    this.#counts.set(i, (this.#counts.get(i) ?? 0) + times);
    this.#count += times;
  }

  merge(other: SketchCounts | LatencySketch): void {
    const entries = other instanceof LatencySketch ? other.#counts.entries() : Object.entries(other);
    for (const [key, n] of entries) {
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i > MAX_INDEX || !(n > 0)) continue;
      this.#counts.set(i, (this.#counts.get(i) ?? 0) + n);
      this.#count += n;
    }
  }

  /**
   * Estimated quantile in ms (`q` in [0, 1]), interpolated geometrically inside the bucket that holds the
   * rank; `null` when the sketch is empty.
   */
  quantile(q: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.min(Math.max(q, 0), 1) * (this.#count - 1);
    let seen = 0;
    for (const i of [...this.#counts.keys()].sort((a, b) => a - b)) {
      const n = this.#counts.get(i) as number;
      if (rank < seen + n) {
        const within = n === 1 ? 0.5 : (rank - seen) / (n - 1);
        if (i === 0) return MIN_MS;
        const lower = bucketUpper(i - 1);
        return lower * GROWTH ** within;
      }
      seen += n;
    }
    return bucketUpper(Math.max(...this.#counts.keys()));
  }

  toJSON(): SketchCounts {
    const out: Record<string, number> = {};
    for (const [i, n] of [...this.#counts.entries()].sort((a, b) => a[0] - b[0])) out[String(i)] = n;
    return out;
  }
}
