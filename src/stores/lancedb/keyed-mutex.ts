/**
 * Serialises async work per key (here: per namespace table). LanceDB retries conflicting commits on its
 * own, but a versioned write reads heads, plans, then commits; running one such sequence at a time per
 * namespace in this process means its plan is never stale because of a sibling call. Other processes
 * are handled by the version check and reconcile in the store.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
