import { isDerivedSpace } from '../core/derived-space.js';
import { ReembedError } from '../core/errors.js';
import type { Space } from '../core/space.js';
import type { Embedder, EmbedderFactory } from '../ports/embedder.js';

/**
 * Tries factories in order; the first that does not answer `UNSUPPORTED` builds the embedder.
 * Lets the local models and remote providers be composed without either knowing the other.
 */
export function composeFactories(...factories: EmbedderFactory[]): EmbedderFactory {
  return {
    async create(space) {
      let last: unknown;
      for (const factory of factories) {
        try {
          return await factory.create(space);
        } catch (error) {
          if (error instanceof ReembedError && error.code === 'UNSUPPORTED') {
            last = error;
            continue;
          }
          throw error;
        }
      }
      throw (
        last ??
        new ReembedError('UNSUPPORTED', `No embedder for provider "${space.spec.provider}".`, {
          details: { provider: space.spec.provider },
        })
      );
    },
  };
}

/** One embedder per space fingerprint for the life of an app (models are loaded once). */
export class EmbedderCache {
  readonly #factory: EmbedderFactory;
  readonly #byFingerprint = new Map<string, Promise<Embedder>>();

  constructor(factory: EmbedderFactory) {
    this.#factory = factory;
  }

  get(space: Space): Promise<Embedder> {
    if (isDerivedSpace(space)) {
      // Invariant 9: nothing a model embeds may enter a derived namespace, whose vectors come from its adapter.
      return Promise.reject(
        new ReembedError(
          'DERIVED_VECTOR_REFUSED',
          `${space.name} is a derived space: its vectors come only from its adapter (${String(space.spec.params.adapter)}), never from a model. Embed in the native space instead; queries of a derived namespace are embedded in its target space.`,
          { details: { space: space.name, adapter: space.spec.params.adapter } },
        ),
      );
    }
    let embedder = this.#byFingerprint.get(space.fingerprint);
    if (!embedder) {
      embedder = this.#factory.create(space);
      embedder.catch(() => this.#byFingerprint.delete(space.fingerprint));
      this.#byFingerprint.set(space.fingerprint, embedder);
    }
    return embedder;
  }

  /** Replaces the embedder of a space (tests inject faulty or slow embedders this way). */
  set(space: Space, embedder: Embedder): void {
    this.#byFingerprint.set(space.fingerprint, Promise.resolve(embedder));
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled(this.#byFingerprint.values());
    this.#byFingerprint.clear();
    for (const result of all) if (result.status === 'fulfilled') await result.value.close?.();
  }
}
