import { ReembedError } from '../core/errors.js';

/**
 * Drives a computation written as a generator of small synchronous units (each yields a label of what it
 * just did), returning to the event loop between units so a SIGINT handler — and so `signal` — can run:
 * without these turns synchronous arithmetic holds the thread until it ends. Aborted between two units, it
 * throws `ABORTED` with `interrupted(label of the last unit done)`.
 *
 * @example
 * const report = await runInSteps(fitAffineSteps(rows, options), signal, (after) =>
 *   `Fitting the adapter was interrupted (after ${after}); nothing was stored.`);
 */
export async function runInSteps<T>(
  steps: Generator<string, T>,
  signal: AbortSignal | undefined,
  interrupted: (after: string) => string,
): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new ReembedError('ABORTED', interrupted(step.value), { cause: signal.reason });
  }
}
