/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * `random() × min(capMs, baseMs × 2^attempt)` for retry number `attempt` (0-based). Full jitter spreads
 * concurrent clients apart, which matters when many workers hit the same rate limit or the same
 * restarting database at once. Used by the HTTP embedders, the backfill's retries and the distributed
 * workers' database retries.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
