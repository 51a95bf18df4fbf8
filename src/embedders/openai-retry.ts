/**
 * Retry policy of remote embedders: which failures are worth another attempt, and how long to wait.
 */

/**
 * 408 (request timeout), 409 (OpenAI's "conflict, try again"), 425 (too early), 429 (rate limit) and
 * every 5xx are transient; every other status is the request's fault and retrying cannot help.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** The subset of `Headers` the parser reads (so it can be unit-tested with a plain map). */
export interface HeaderLookup {
  get(name: string): string | null;
}

/**
 * How long the server asked us to wait, in ms, or `undefined` when it did not say (or said nonsense).
 * `retry-after-ms` / `x-ms-retry-after-ms` (OpenAI, Azure) win over `Retry-After`, which is either
 * delta-seconds or an HTTP date (RFC 9110 §10.2.3); a date is measured against `nowMs`.
 */
export function parseRetryAfter(headers: HeaderLookup, nowMs: number): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const raw = headers.get(name)?.trim();
    if (raw && /^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw));
  }
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw) * 1000);
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
