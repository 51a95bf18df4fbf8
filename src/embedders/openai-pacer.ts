import type { Semaphore } from '../core/semaphore.js';
import type { Clock } from '../ports/clock.js';
import type { ProviderRateLimits } from '../ports/embedder.js';
import type { HeaderLookup } from './openai-retry.js';

/**
 * Adaptive pacing of one embedder's requests against its provider's rate limits, learned from the
 * provider's own answers — no user tuning.
 *
 * - **Rate.** OpenAI (and Azure, vLLM behind a gateway, …) send `x-ratelimit-limit-{requests,tokens}`,
 *   `x-ratelimit-remaining-*` and `x-ratelimit-reset-*` (time until the bucket is full again). From them
 *   the pacer keeps a mirror of each provider bucket: its size, its refill rate (`(limit − remaining) /
 *   reset`, so a limit per minute or per any other window is learned alike) and its level, resynchronised
 *   from every response (the header's remaining, refilled for the time since that request was sent, minus
 *   what this embedder sent after it). A request starts only when both mirrors hold its cost (one request,
 *   its counted tokens), so a backfill runs at the limit instead of bouncing off it. Other clients of the
 *   same key show up in `remaining` and are accounted for at the next response.
 * - **Concurrency.** When the limits are known, the permits follow Little's law: the allowed request rate
 *   × the measured latency, with head-room. Before that (or from a provider that sends no such headers)
 *   it is additive-increase / multiplicative-decrease: +1 permit per window of successes that had to
 *   queue for a permit, halved on a 429. `Retry-After` is honoured separately (the embedder's cooldown).
 */
export type LearnedLimits = ProviderRateLimits;

/** What `ProviderPacer.share` takes: `queue/global-rate.ts`'s `LearnedPgLimiter` fits. */
export interface SharedLimiter {
  acquire(requests: number, tokens: number, signal?: AbortSignal): Promise<void>;
}

export interface PacerOptions {
  readonly clock: Clock;
  /** The semaphore whose permits adapt; `null` keeps concurrency fixed (the user set it). */
  readonly semaphore: Semaphore | null;
  readonly maxConcurrency: number;
  /** Fraction of a learned limit to use (default 0.98): the margin absorbs clock and network jitter. */
  readonly utilisation?: number;
}

/** What a request hands back when it ends, so the pacer learns from it. */
export interface PacedTicket {
  /** Ms the request waited in the pacer (0: the rate limit was not what held it back). */
  readonly pacedMs: number;
  readonly queuedForPermit: boolean;
  done(outcome: { status: number | null; headers: HeaderLookup | null }): void;
}

const DEFAULT_WINDOW_MS = 60_000;

class Mirror {
  limit = 0;
  windowMs = DEFAULT_WINDOW_MS;
  windowKnown = false;
  #level = 0;
  #updated = 0;
  /** Cumulative cost this embedder has sent, to discount what a header could not have seen yet. */
  spent = 0;

  get known(): boolean {
    return this.limit > 0;
  }

  /** Units per ms. */
  rate(utilisation: number): number {
    return (this.limit / this.windowMs) * utilisation;
  }

  level(now: number, utilisation: number): number {
    this.#level = Math.min(this.limit, this.#level + (now - this.#updated) * this.rate(utilisation));
    this.#updated = now;
    return this.#level;
  }

  spend(cost: number): void {
    this.#level -= cost;
    this.spent += cost;
  }

  observe(
    limit: number,
    remaining: number,
    resetMs: number | undefined,
    sentAt: number,
    spentAfter: number,
    now: number,
  ): void {
    this.limit = limit;
    const used = limit - remaining;
    // The refill rate from one observation: reliable only once a few percent of the bucket is used
    // (remaining is rounded down, reset to the millisecond).
    if (resetMs !== undefined && resetMs > 0 && used >= Math.max(2, limit * 0.1)) {
      const observed = (resetMs * limit) / used;
      this.windowMs = this.windowKnown ? 0.7 * this.windowMs + 0.3 * observed : observed;
      this.windowKnown = true;
    }
    // The header's remaining, refilled since the request left and less what was sent after it, is an
    // upper bound of the level: the server admitted the request a little after it left (its refill
    // for that gap is counted twice here). So it may only lower the local estimate — except when it is
    // far above it (another client of the key went quiet, or the local estimate started cold).
    const refilled = Math.min(limit, remaining + (now - sentAt) * (limit / this.windowMs)) - spentAfter;
    const local = this.#updated === 0 ? Number.POSITIVE_INFINITY : this.level(now, 1);
    if (refilled < local || refilled - local > limit * 0.1) this.#level = refilled;
    this.#updated = now;
  }
}

export class ProviderPacer {
  readonly #requests = new Mirror();
  readonly #tokens = new Mirror();
  readonly #options: PacerOptions;
  readonly #utilisation: number;
  /** Serves waiters in order so a large request is not starved by small ones. */
  #queue: Promise<void> = Promise.resolve();
  #latencyMs = 0;
  #tokensPerRequest = 0;
  #successesSinceGrowth = 0;
  #shared: SharedLimiter | null = null;

  constructor(options: PacerOptions) {
    this.#options = options;
    this.#utilisation = options.utilisation ?? 0.98;
  }

  /**
   * A limiter shared with other clients of the same key (distributed workers: a PostgreSQL bucket),
   * taken from right before every request, retries included; null removes it.
   */
  share(limiter: SharedLimiter | null): void {
    this.#shared = limiter;
  }

  /** The limits learned from the provider's headers so far (null before the first one). */
  learned(): LearnedLimits | null {
    if (!this.#requests.known && !this.#tokens.known) return null;
    const perMinute = (m: Mirror): number | null =>
      m.known ? Math.round((m.limit * 60_000) / m.windowMs) : null;
    return { requestsPerMinute: perMinute(this.#requests), tokensPerMinute: perMinute(this.#tokens) };
  }

  /**
   * Waits until the learned limits allow a request of `tokens`, then counts it as sent. Call while
   * holding the embedder's permit, right before the request goes out.
   */
  pace(tokens: number, queuedForPermit: boolean, signal: AbortSignal): Promise<PacedTicket> {
    const turn = this.#queue.then(() => this.#pace(tokens, queuedForPermit, signal));
    this.#queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  async #pace(tokens: number, queuedForPermit: boolean, signal: AbortSignal): Promise<PacedTicket> {
    const { clock } = this.#options;
    const started = clock.now().getTime();
    for (;;) {
      signal.throwIfAborted();
      const now = clock.now().getTime();
      const wait = Math.max(this.#waitFor(this.#requests, 1, now), this.#waitFor(this.#tokens, tokens, now));
      if (wait <= 0) break;
      await clock.sleep(Math.max(1, Math.ceil(wait)), signal);
    }
    await this.#shared?.acquire(1, tokens, signal);
    const sentAt = clock.now().getTime();
    this.#requests.spend(1);
    this.#tokens.spend(tokens);
    const spentRequests = this.#requests.spent;
    const spentTokens = this.#tokens.spent;
    let finished = false;
    return {
      pacedMs: sentAt - started,
      queuedForPermit,
      done: ({ status, headers }) => {
        if (finished) return;
        finished = true;
        const now = clock.now().getTime();
        const learned = headers ? this.#observe(headers, sentAt, spentRequests, spentTokens, now) : false;
        if (status !== null && status >= 200 && status < 300) {
          this.#latencyMs =
            this.#latencyMs === 0 ? now - sentAt : 0.8 * this.#latencyMs + 0.2 * (now - sentAt);
          this.#tokensPerRequest =
            this.#tokensPerRequest === 0 ? tokens : 0.9 * this.#tokensPerRequest + 0.1 * tokens;
        }
        this.#adapt(status, learned, queuedForPermit, sentAt - started);
      },
    };
  }

  /** Ms until `mirror` holds `cost` (0 when it does, or when the limit is unknown). */
  #waitFor(mirror: Mirror, cost: number, now: number): number {
    if (!mirror.known || cost <= 0) return 0;
    const need = Math.min(cost, mirror.limit) - mirror.level(now, this.#utilisation);
    return need <= 0 ? 0 : need / mirror.rate(this.#utilisation);
  }

  #observe(
    headers: HeaderLookup,
    sentAt: number,
    spentRequests: number,
    spentTokens: number,
    now: number,
  ): boolean {
    let any = false;
    for (const [name, mirror, spent] of [
      ['requests', this.#requests, spentRequests],
      ['tokens', this.#tokens, spentTokens],
    ] as const) {
      const limit = headerNumber(headers, `x-ratelimit-limit-${name}`);
      const remaining = headerNumber(headers, `x-ratelimit-remaining-${name}`);
      if (limit === undefined || remaining === undefined || limit <= 0) continue;
      const reset = parseDuration(headers.get(`x-ratelimit-reset-${name}`));
      // Providers use one window for both limits: one learned from the busier bucket serves the other.
      const other = mirror === this.#requests ? this.#tokens : this.#requests;
      if (!mirror.windowKnown && other.windowKnown) mirror.windowMs = other.windowMs;
      mirror.observe(limit, remaining, reset, sentAt, mirror.spent - spent, now);
      any = true;
    }
    return any;
  }

  #adapt(status: number | null, learned: boolean, queuedForPermit: boolean, pacedMs: number): void {
    const semaphore = this.#options.semaphore;
    if (!semaphore) return;
    const max = this.#options.maxConcurrency;
    if (learned && this.#latencyMs > 0) {
      // Little's law: in flight = rate × latency; ×1.5 + 2 covers latency spread without overshooting much.
      let perMs = Number.POSITIVE_INFINITY;
      if (this.#requests.known) perMs = this.#requests.rate(1);
      if (this.#tokens.known && this.#tokensPerRequest > 0)
        perMs = Math.min(perMs, this.#tokens.rate(1) / this.#tokensPerRequest);
      if (Number.isFinite(perMs)) {
        const target = Math.ceil(perMs * this.#latencyMs * 1.5) + 2;
        semaphore.resize(Math.min(max, Math.max(1, target)));
        return;
      }
    }
    if (status === 429) {
      semaphore.resize(Math.max(1, Math.floor(semaphore.permits / 2)));
      this.#successesSinceGrowth = 0;
      return;
    }
    if (status === null || status < 200 || status >= 300) return;
    // Additive increase, only when requests queued for a permit and the rate was not what held them.
    if (!queuedForPermit || pacedMs > 0) return;
    if (++this.#successesSinceGrowth >= semaphore.permits && semaphore.permits < max) {
      semaphore.resize(semaphore.permits + 1);
      this.#successesSinceGrowth = 0;
    }
  }
}

function headerNumber(headers: HeaderLookup, name: string): number | undefined {
  const raw = headers.get(name)?.trim();
  if (!raw || !/^\d+(\.\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}

/**
 * OpenAI's reset durations: `20ms`, `1.5s`, `6m0s`, `1h2m3.5s`; a bare number is seconds. Undefined when
 * absent or unreadable.
 */
export function parseDuration(raw: string | null | undefined): number | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const match =
    /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/.exec(text);
  if (!match || match[0] === '') return undefined;
  const [, h, m, s, ms] = match;
  return Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000 + Number(ms ?? 0);
}
