import { backoffDelay } from '../core/backoff.js';
import { type ErrorCode, isReembedError, ReembedError } from '../core/errors.js';

/**
 * How the backfill treats a failure:
 * - `transient`: the same call may succeed later (provider hiccup, rate limit, timeout, busy database) —
 *   retry the batch with backoff;
 * - `item`: something about the input makes it fail every time (bad vector, wrong dimension, refused
 *   input) — bisect the batch to find the poison items and dead-letter them;
 * - `fatal`: retrying cannot help and no item is to blame (aborted, wrong space, missing namespace) —
 *   stop the job; it resumes from its checkpoint once the cause is fixed.
 */
export type FailureKind = 'transient' | 'item' | 'fatal';

const TRANSIENT: readonly ErrorCode[] = ['EMBEDDER_TRANSIENT', 'RATE_LIMITED', 'STORE_FAILED'];
const ITEM: readonly ErrorCode[] = [
  'INVALID_VECTOR',
  'DIMENSION_MISMATCH',
  'EMBEDDER_FAILED',
  'INVALID_INPUT',
  'NOT_HELD',
];

export function classifyFailure(error: unknown): FailureKind {
  if (isReembedError(error)) {
    if (TRANSIENT.includes(error.code)) return 'transient';
    if (ITEM.includes(error.code)) return 'item';
    return 'fatal';
  }
  // Anything else (a socket reset, a TypeError from fetch) is treated as transient: retries are
  // bounded, and the job stops with the error rather than dead-lettering healthy documents.
  return 'transient';
}

export interface RetryPolicy {
  readonly maxRetries: number;
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxRetries: 6, baseMs: 250, capMs: 30_000 });

/**
 * Delay before retry number `attempt` (0-based): exponential backoff with full jitter, but never shorter
 * than a provider's `retryAfterMs` hint.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: unknown,
  random: () => number,
): number {
  const jittered = backoffDelay(attempt, policy.baseMs, policy.capMs, random);
  const hint = isReembedError(error) ? error.details.retryAfterMs : undefined;
  return typeof hint === 'number' && hint > jittered ? Math.min(hint, policy.capMs) : jittered;
}

/**
 * Runs `fn` with a deadline. The deadline aborts the signal handed to `fn` and rejects even if `fn`
 * ignores the signal, so a hung provider call cannot stall a worker.
 */
export async function withTimeout<T>(
  timeoutMs: number | null,
  signal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (timeoutMs === null) return fn(signal);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ReembedError(
        'EMBEDDER_TRANSIENT',
        `The embedder did not answer within ${timeoutMs} ms; the batch will be retried.`,
        {
          details: { timeoutMs },
        },
      );
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([fn(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
