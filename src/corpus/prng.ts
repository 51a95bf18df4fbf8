import { seededRandom } from '../core/random.js';

/**
 * The samplers the synthetic corpus needs, over the seeded generator of core/random.ts (mulberry32), so a
 * seed names one corpus forever.
 */
export { seededRandom as mulberry32 } from '../core/random.js';
export class Random {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** Index drawn from cumulative weights (see `zipfCdf`). */
  weighted(cdf: Float64Array): number {
    const u = this.#next() * (cdf[cdf.length - 1] as number);
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** `count` distinct indices drawn from cumulative weights, without replacement. */
  weightedDistinct(cdf: Float64Array, count: number): number[] {
    const out = new Set<number>();
    const limit = Math.min(count, cdf.length);
    for (let tries = 0; out.size < limit && tries < limit * 50; tries++) out.add(this.weighted(cdf));
    return [...out];
  }
}

/** Cumulative Zipf weights `1 / rank^exponent` for ranks 1..n: a few frequent items, a long tail. */
export function zipfCdf(n: number, exponent = 1): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1) ** exponent;
    cdf[r] = sum;
  }
  return cdf;
}
