import { ReembedError } from './errors.js';

/**
 * A FIFO counting semaphore: bounds what is in flight across concurrent callers — the requests of one
 * embedder (a provider's rate limit is per key, not per call), the embedding calls and store writes of a
 * backfill worker's ranges. Waiting is abortable.
 */
export class Semaphore {
  #available: number;
  #permits: number;
  readonly #waiters: { grant: () => void; reject: (error: unknown) => void }[] = [];

  /** `waitingFor`: what a caller waits to start, for the `ABORTED` message ("Embedding", "The write"). */
  constructor(
    permits: number,
    readonly waitingFor = 'Embedding',
  ) {
    this.#permits = permits;
    this.#available = permits;
  }

  get permits(): number {
    return this.#permits;
  }

  get inUse(): number {
    return this.#permits - this.#available;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Changes the number of permits (at least 1). Growing admits waiters at once; shrinking takes effect as
   * holders release (nothing in flight is interrupted).
   */
  resize(permits: number): void {
    const next = Math.max(1, Math.floor(permits));
    this.#available += next - this.#permits;
    this.#permits = next;
    while (this.#available > 0 && this.#waiters.length > 0) {
      this.#available--;
      this.#waiters.shift()?.grant();
    }
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
      // After a shrink the permit is retired instead of passed on.
      if (this.#available < 0) {
        this.#available++;
        return;
      }
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
