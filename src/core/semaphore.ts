import { ReembedError } from './errors.js';

/**
 * A FIFO counting semaphore: bounds what is in flight across concurrent callers — the requests of one
 * embedder (a provider's rate limit is per key, not per call), the embedding calls and store writes of a
 * backfill worker's ranges. Waiting is abortable.
 */
export class Semaphore {
  #available: number;
  readonly #waiters: { grant: () => void; reject: (error: unknown) => void }[] = [];

  /** `waitingFor`: what a caller waits to start, for the `ABORTED` message ("Embedding", "The write"). */
  constructor(
    readonly permits: number,
    readonly waitingFor = 'Embedding',
  ) {
    this.#available = permits;
  }

  get inUse(): number {
    return this.permits - this.#available;
  }

  /** Resolves with a release function once a permit is free; rejects with `ABORTED` if `signal` fires first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(aborted(this.waitingFor, signal));
    if (this.#available > 0) {
      this.#available--;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#releaser());
        },
        reject,
      };
      const onAbort = (): void => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(aborted(this.waitingFor, signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      // Hand the permit straight to the next waiter so a late arrival cannot overtake the queue.
      if (next) next.grant();
      else this.#available++;
    };
  }
}

function aborted(what: string, signal: AbortSignal | undefined): ReembedError {
  return new ReembedError('ABORTED', `${what} was aborted before it could start.`, {
    cause: signal?.reason,
  });
}
