import { ReembedError } from '../core/errors.js';

/**
 * A FIFO counting semaphore: bounds the requests one embedder has in flight, across every concurrent
 * `embed` call (a provider's rate limit is per key, not per call). Waiting is abortable.
 */
export class Semaphore {
  #available: number;
  readonly #waiters: { grant: () => void; reject: (error: unknown) => void }[] = [];

  constructor(readonly permits: number) {
    this.#available = permits;
  }

  get inUse(): number {
    return this.permits - this.#available;
  }

  /** Resolves with a release function once a permit is free; rejects with `ABORTED` if `signal` fires first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(aborted(signal));
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
        reject(aborted(signal));
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

function aborted(signal: AbortSignal | undefined): ReembedError {
  return new ReembedError('ABORTED', 'Embedding was aborted before its request could start.', {
    cause: signal?.reason,
  });
}
