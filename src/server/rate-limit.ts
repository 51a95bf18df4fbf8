/**
 * Per-key token buckets: `perSecond` tokens refill continuously up to `burst`. In memory, per process
 * (several server processes each allow the rate). Idle buckets are dropped so the map stays small.
 */
export interface RateLimitOptions {
  /** Sustained requests per second per key; 0 disables the limit. */
  readonly perSecond: number;
  /** Requests a key may send at once after being idle (default 2 × perSecond). */
  readonly burst?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(options: RateLimitOptions, now: () => number = () => performance.now()) {
    this.#perSecond = options.perSecond;
    this.#burst = Math.max(1, options.burst ?? Math.ceil(options.perSecond * 2));
    this.#now = now;
  }

  /** Takes one token for `key`: 0 when allowed, else the seconds until a token is available. */
  take(key: string): number {
    if (this.#perSecond <= 0) return 0;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size > 10_000) this.#sweep(now);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.#perSecond;
  }

  #sweep(now: number): void {
    const full = (this.#burst / this.#perSecond) * 1000;
    for (const [key, bucket] of this.#buckets) if (now - bucket.at > full) this.#buckets.delete(key);
  }
}
