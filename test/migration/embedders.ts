import { sha256Hex } from '../../src/core/canonical.js';
import { ReembedError } from '../../src/core/errors.js';
import type { Space } from '../../src/core/space.js';
import { normalizeInPlace } from '../../src/core/vector.js';
import { localEmbedder } from '../../src/embedders/common.js';
import { createHashingEmbedder } from '../../src/embedders/hashing.js';
import type { Embedder, EmbedderFactory } from '../../src/ports/embedder.js';

/**
 * Hashing embedders that take `delayMs` per call on average, like a remote provider's latency; with
 * `jitter`, between 0 and 2 × delayMs, so concurrent batches complete out of order.
 */
export function slowHashingFactory(delayMs: number, jitter = false): EmbedderFactory {
  let state = 12345;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return {
    async create(space: Space): Promise<Embedder> {
      if (space.spec.provider !== 'hashing') throw new ReembedError('UNSUPPORTED', 'not hashing');
      const base = createHashingEmbedder(space);
      return {
        ...base,
        embed: async (texts, options) => {
          await new Promise((r) => setTimeout(r, jitter ? 2 * delayMs * next() : delayMs));
          return base.embed(texts, options);
        },
      };
    },
  };
}

/**
 * A model with no notion of meaning: every text gets a pseudo-random unit vector. Same dimension as the
 * hashing spaces, so only the gates (not the store) can tell it is worse.
 */
export const noiseFactory: EmbedderFactory = {
  async create(space) {
    if (space.spec.provider !== 'noise') throw new ReembedError('UNSUPPORTED', 'not noise');
    return localEmbedder(space, (text) => {
      const v = new Float32Array(space.spec.dimension);
      let h = sha256Hex(text);
      for (let i = 0; i < v.length; i++) {
        if (i % 8 === 0) h = sha256Hex(h);
        v[i] = Number.parseInt(h.slice((i % 8) * 8, (i % 8) * 8 + 8), 16) / 2 ** 32 - 0.5;
      }
      return normalizeInPlace(v);
    });
  },
};

export interface FaultPlan {
  /** Probability that a call fails with EMBEDDER_TRANSIENT. */
  readonly transientRate: number;
  /** Probability that a call hangs past the runner's timeout. */
  readonly hangRate: number;
  /** Probability that a call answers 429 RATE_LIMITED with a retry hint. */
  readonly rateLimitRate: number;
  /** Texts the provider always answers badly: a NaN component or a vector of the wrong length. */
  readonly poison: (text: string) => 'nan' | 'dimension' | null;
  readonly random: () => number;
}

/** Wraps an embedder with transient faults at configured rates and deterministic poison texts. */
export function faultyEmbedder(base: Embedder, plan: FaultPlan): Embedder & { calls: number; hung: number } {
  const wrapper = {
    ...base,
    calls: 0,
    hung: 0,
    async embed(
      texts: readonly string[],
      options: Parameters<Embedder['embed']>[1],
    ): Promise<Float32Array[]> {
      wrapper.calls++;
      const roll = plan.random();
      if (roll < plan.transientRate) throw new ReembedError('EMBEDDER_TRANSIENT', 'provider returned 503');
      if (roll < plan.transientRate + plan.rateLimitRate) {
        throw new ReembedError('RATE_LIMITED', 'provider returned 429', { details: { retryAfterMs: 5 } });
      }
      if (roll < plan.transientRate + plan.rateLimitRate + plan.hangRate) {
        wrapper.hung++;
        return new Promise(() => undefined); // never answers; the runner's timeout must fire
      }
      const out = await base.embed(texts, options);
      return out.map((v, i) => {
        const poison = plan.poison(texts[i] as string);
        if (poison === 'nan') {
          const bad = Float32Array.from(v);
          bad[3] = Number.NaN;
          return bad;
        }
        if (poison === 'dimension') return v.subarray(0, v.length - 1);
        return v;
      });
    },
  };
  return wrapper;
}
