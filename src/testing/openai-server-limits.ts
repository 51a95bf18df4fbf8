import { estimateTokens } from '../embedders/openai-tokens.js';

/**
 * Requests-per-window and tokens-per-window limits enforced by the test server the way OpenAI enforces
 * its per-minute limits: two buckets that start full (`limit`), refill continuously at `limit / windowMs`,
 * and admit a request only when both hold its cost. Every embeddings response carries OpenAI's headers
 * (`x-ratelimit-limit-*`, `x-ratelimit-remaining-*`, `x-ratelimit-reset-*` as durations like `6m0s`,
 * `1.2s`, `120ms`); a request past a limit gets 429 with `retry-after` (whole seconds, rounded up),
 * `retry-after-ms` and nothing consumed. `windowMs` defaults to one minute; tests scale it down.
 */
export interface ServerRateLimits {
  readonly requestsPerWindow?: number;
  readonly tokensPerWindow?: number;
  /** Length of the window the limits are per (default 60 000: requests/min and tokens/min). */
  readonly windowMs?: number;
  /** How the server counts a text's tokens (default `estimateTokens`, the client's default estimate). */
  readonly countTokens?: (text: string) => number;
}

/** The realistic per-request latency: `baseMs + perTokenMs × tokens`, ± `jitter` (a fraction, seeded). */
export interface ServerLatency {
  readonly baseMs: number;
  readonly perTokenMs?: number;
  readonly jitter?: number;
}

export interface LimitDecision {
  readonly admitted: boolean;
  readonly headers: Record<string, string>;
  readonly tokens: number;
  /** When refused: how long until the request would fit. */
  readonly retryAfterMs: number;
  /** Which limit refused it. */
  readonly limit: 'requests' | 'tokens' | null;
}

class Bucket {
  #level: number;
  #updated: number;
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    now: number,
  ) {
    this.#level = limit;
    this.#updated = now;
  }
  level(now: number): number {
    this.#level = Math.min(this.limit, this.#level + ((now - this.#updated) / this.windowMs) * this.limit);
    this.#updated = now;
    return this.#level;
  }
  spend(amount: number): void {
    this.#level -= amount;
  }
  /** Ms until `amount` fits (0 when it does); a request larger than the whole bucket waits for a full one. */
  waitFor(amount: number, now: number): number {
    const need = Math.min(amount, this.limit) - this.level(now);
    return need <= 0 ? 0 : (need / this.limit) * this.windowMs;
  }
  /** Ms until the bucket is full again (OpenAI's `x-ratelimit-reset-*`). */
  resetMs(now: number): number {
    return ((this.limit - this.level(now)) / this.limit) * this.windowMs;
  }
}

export class ServerLimiter {
  readonly #requests: Bucket | null;
  readonly #tokens: Bucket | null;
  readonly #count: (text: string) => number;
  /** Requests admitted and refused, tokens admitted: what a benchmark divides by the limit. */
  admitted = 0;
  refused = 0;
  admittedTokens = 0;

  constructor(limits: ServerRateLimits, now: number) {
    const windowMs = limits.windowMs ?? 60_000;
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
    this.#requests = limits.requestsPerWindow ? new Bucket(limits.requestsPerWindow, windowMs, now) : null;
    this.#tokens = limits.tokensPerWindow ? new Bucket(limits.tokensPerWindow, windowMs, now) : null;
    this.#count = limits.countTokens ?? estimateTokens;
  }

  countTokens(inputs: readonly string[]): number {
    let total = 0;
    for (const text of inputs) total += this.#count(text);
    return total;
  }

  decide(inputs: readonly string[], now: number): LimitDecision {
    const tokens = this.countTokens(inputs);
    const waitRequests = this.#requests?.waitFor(1, now) ?? 0;
    const waitTokens = this.#tokens?.waitFor(tokens, now) ?? 0;
    const admitted = waitRequests === 0 && waitTokens === 0;
    if (admitted) {
      this.#requests?.spend(1);
      this.#tokens?.spend(tokens);
      this.admitted++;
      this.admittedTokens += tokens;
    } else this.refused++;
    const headers: Record<string, string> = {};
    for (const [name, bucket] of [
      ['requests', this.#requests],
      ['tokens', this.#tokens],
    ] as const) {
      if (!bucket) continue;
      headers[`x-ratelimit-limit-${name}`] = String(bucket.limit);
      headers[`x-ratelimit-remaining-${name}`] = String(Math.max(0, Math.floor(bucket.level(now))));
      headers[`x-ratelimit-reset-${name}`] = formatDuration(bucket.resetMs(now));
    }
    const retryAfterMs = Math.ceil(Math.max(waitRequests, waitTokens));
    if (!admitted) {
      headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
      headers['retry-after-ms'] = String(retryAfterMs);
    }
    return {
      admitted,
      headers,
      tokens,
      retryAfterMs,
      limit: admitted ? null : waitRequests >= waitTokens ? 'requests' : 'tokens',
    };
  }
}

/** OpenAI's reset format: `20ms`, `1.5s`, `6m0s`, `1h2m3s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds - hours * 3600 - minutes * 60;
  const s = `${Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${s}`;
  if (minutes > 0) return `${minutes}m${s}`;
  return s;
}

export function latencyFor(latency: ServerLatency, tokens: number, random: () => number): number {
  const mean = latency.baseMs + (latency.perTokenMs ?? 0) * tokens;
  const jitter = latency.jitter ?? 0;
  return Math.max(0, mean * (1 + jitter * (2 * random() - 1)));
}
