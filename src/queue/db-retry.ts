import { backoffDelay } from '../core/backoff.js';
import { isReembedError } from '../core/errors.js';
import type { Clock } from '../ports/clock.js';

/**
 * True for failures of the database connection or server (Postgres restarting, network gone): the
 * range can simply be tried again from its checkpoint. Domain errors (namespace dropped, wrong space)
 * and provider failures that outlived their own retries are not retried here.
 */
export function isDatabaseFailure(error: unknown): boolean {
  if (isReembedError(error)) return error.code === 'STORE_FAILED';
  // Unwrapped driver errors carry a code: a SQLSTATE or a socket error (ECONNREFUSED, ECONNRESET ...).
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

/**
 * Runs `fn` again while it fails with a database failure, with jittered exponential backoff (200 ms up to
 * 5 s), for at most `budgetMs`; then rethrows, and the queue retries the job later. Each attempt starts
 * from the range's last committed checkpoint, so nothing is done twice beyond the batch in flight.
 */
export async function retryDatabase<T>(
  fn: () => Promise<T>,
  options: {
    budgetMs: number;
    clock: Clock;
    random: () => number;
    signal: AbortSignal;
    onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  },
): Promise<T> {
  const started = options.clock.now().getTime();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const elapsed = options.clock.now().getTime() - started;
      if (options.signal.aborted || !isDatabaseFailure(error) || elapsed >= options.budgetMs) throw error;
      const delayMs = Math.min(backoffDelay(attempt, 200, 5_000, options.random), options.budgetMs - elapsed);
      options.onRetry?.(attempt + 1, delayMs, error);
      await options.clock.sleep(Math.max(1, delayMs), options.signal);
    }
  }
}
