import { ReembedError } from '../core/errors.js';

export interface PoolOptions {
  /** Calls in flight at once (default 4). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** Called after each item settles, in completion order. */
  readonly onSettled?: (done: number, total: number) => void;
}

/** Longest stretch of calls between two turns of the event loop (ms). */
const YIELD_MS = 20;

/**
 * Runs `fn` over `items` with bounded concurrency and returns the results in input order. When `fn`
 * throws, no new item starts and the first error is rethrown after in-flight calls settle; an abort
 * stops the same way with `ABORTED`.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  fn: (item: T, index: number) => Promise<R>,
  options: PoolOptions = {},
): Promise<R[]> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ReembedError(
      'INVALID_INPUT',
      `concurrency=${concurrency} is invalid: use a positive integer such as 4.`,
    );
  }
  const results: R[] = new Array(items.length);
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | null = null;
  let turn = performance.now();
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      // Calls that never wait on I/O (an embedded store, a local model) would otherwise run the whole pool
      // without one turn of the event loop: no SIGINT handler could run, so `signal` could not abort.
      // Only with a signal to notice: a turn waits behind every pending microtask, and callers without
      // one (cutover gates while queries run in the same process) keep their ordering as before.
      if (options.signal && performance.now() - turn > YIELD_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        turn = performance.now();
        continue; // another worker may have taken the last item, or failed, meanwhile
      }
      if (options.signal?.aborted) {
        failure = {
          error: new ReembedError('ABORTED', 'Evaluation aborted.', { cause: options.signal.reason }),
        };
        return;
      }
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
        return;
      }
      done++;
      options.onSettled?.(done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}
