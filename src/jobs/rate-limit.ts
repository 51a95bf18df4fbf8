import { type Clock, systemClock } from '../ports/clock.js';

/**
 * A token bucket refilled continuously at `perMinute / 60` per second, holding at most one second of
 * refill (so a limit is never exceeded by a burst of a whole minute at start-up). A request larger than
 * the bucket waits for a full bucket and then borrows: the bucket goes negative and later takers wait
 * longer, so the long-run rate still equals the limit.
 */
export class TokenBucket {
  readonly perMinute: number;
  readonly capacity: number;
  readonly #clock: Clock;
  #level: number;
  #updated: number;
  /** Takers are served in order, so a large request is not starved by small ones. */
  #queue: Promise<void> = Promise.resolve();

  constructor(perMinute: number, clock: Clock = systemClock) {
    if (!(perMinute > 0) || !Number.isFinite(perMinute))
      throw new RangeError(`rate limit must be positive, got ${perMinute}`);
    this.perMinute = perMinute;
    this.capacity = Math.max(1, perMinute / 60);
    this.#clock = clock;
    this.#level = this.capacity;
    this.#updated = clock.now().getTime();
  }

  /** Waits until `amount` may be spent, then spends it. Rejects with the signal's reason on abort. */
  take(amount: number, signal?: AbortSignal): Promise<void> {
    const turn = this.#queue.then(() => this.#take(amount, signal));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #take(amount: number, signal?: AbortSignal): Promise<void> {
    const need = Math.min(amount, this.capacity);
    for (;;) {
      signal?.throwIfAborted();
      this.#refill();
      if (this.#level >= need) {
        this.#level -= amount;
        return;
      }
      const waitMs = ((need - this.#level) / this.perMinute) * 60_000;
      await this.#clock.sleep(Math.max(1, Math.ceil(waitMs)), signal);
    }
  }

  #refill(): void {
    const now = this.#clock.now().getTime();
    this.#level = Math.min(this.capacity, this.#level + ((now - this.#updated) / 60_000) * this.perMinute);
    this.#updated = now;
  }
}

export interface RateLimits {
  readonly requestsPerMinute: number | null;
  readonly tokensPerMinute: number | null;
}

/** Requests-per-minute and tokens-per-minute limits of one provider key, applied together. */
export class RateLimiter {
  readonly #requests: TokenBucket | null;
  readonly #tokens: TokenBucket | null;

  constructor(limits: RateLimits, clock: Clock = systemClock) {
    this.#requests = limits.requestsPerMinute ? new TokenBucket(limits.requestsPerMinute, clock) : null;
    this.#tokens = limits.tokensPerMinute ? new TokenBucket(limits.tokensPerMinute, clock) : null;
  }

  /** True when token counts are needed (they cost a tokenizer pass per text). */
  get countsTokens(): boolean {
    return this.#tokens !== null;
  }

  async acquire(requests: number, tokens: number, signal?: AbortSignal): Promise<void> {
    if (this.#requests) await this.#requests.take(requests, signal);
    if (this.#tokens && tokens > 0) await this.#tokens.take(tokens, signal);
  }
}
