/**
 * The LangChain peer benchmark's `HashingEmbeddings` (../shared/peers/langchain-index/bench.mjs), re-created
 * as a reembed `Embedder` so both pipelines do exactly the same embedding work: lowercase, split on
 * `/[^a-z0-9]+/`, 32-bit FNV-1a of each token from `0x811c9dc5 ^ imul(seed, 0x9e3779b1)`, index
 * `(h & 0x7fffffff) % dim`, sign from bit 31, L2-normalised. Our built-in `hashing` provider differs (seed
 * bytes in the basis, murmur finaliser), hence a separate provider name, `peer-hashing`.
 *
 * `latencyMs` is awaited once per `embed` call of documents (the peer awaits once per `embedDocuments`
 * batch; queries wait nothing in either), and `maxBatchSize` is 128 like the peer's `batchSize`.
 */
import { ReembedError } from '../src/core/errors.js';
import { applyInput } from '../src/core/pipeline.js';
import { defineSpace, type Space } from '../src/core/space.js';
import { countWordTokens } from '../src/core/tokenize.js';
import type { Embedder, EmbedderFactory } from '../src/ports/embedder.js';

export const PEER_PROVIDER = 'peer-hashing';
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const TOKEN_SPLIT = /[^a-z0-9]+/;

/** A space of the peer's embedder: `peerSpace('v1', 384, 1)`, `peerSpace('v2', 768, 2)`. */
export function peerSpace(name: string, dimension: number, seed: number): Space {
  return defineSpace(name, {
    provider: PEER_PROVIDER,
    model: 'langchain-bench-fnv1a',
    dimension,
    params: { seed },
  });
}

function fnv1a(token: string, seed: number): number {
  let h = (FNV_OFFSET ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** One text → the peer's vector (computed in float64 like the peer, stored as float32). */
export function peerEmbed(text: string, dimension: number, seed: number): Float32Array {
  const v = new Float64Array(dimension);
  for (const token of text.toLowerCase().split(TOKEN_SPLIT)) {
    if (!token) continue;
    const h = fnv1a(token, seed);
    const index = (h & 0x7fffffff) % dimension;
    v[index] = (v[index] as number) + (h & 0x80000000 ? -1 : 1);
  }
  let norm = 0;
  for (let i = 0; i < dimension; i++) norm += (v[i] as number) * (v[i] as number);
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) out[i] = (v[i] as number) / norm;
  return out;
}

/** Document `embed` calls and texts, summed over every embedder the factory built. */
export interface EmbedCounter {
  calls: number;
  texts: number;
  /** Wall time inside document `embed` calls, summed (overlapping calls of a concurrent backfill add up). */
  ms: number;
}

/**
 * The factory to pass as `openReembed({ embedders: [factory] })`; answers `UNSUPPORTED` for any other
 * provider, so the built-in factories still serve the rest.
 */
export function peerEmbedderFactory(latencyMs: number, counter: EmbedCounter): EmbedderFactory {
  return {
    async create(space: Space): Promise<Embedder> {
      if (space.spec.provider !== PEER_PROVIDER) {
        throw new ReembedError(
          'UNSUPPORTED',
          `peer factory: provider ${space.spec.provider} is not ${PEER_PROVIDER}`,
        );
      }
      const { dimension } = space.spec;
      const seed = Number(space.spec.params.seed);
      return {
        space,
        maxBatchSize: 128,
        countTokens: countWordTokens,
        async embed(texts, options) {
          const started = performance.now();
          if (options.inputType === 'document' && latencyMs > 0)
            await new Promise((r) => setTimeout(r, latencyMs));
          const out = texts.map((t) =>
            peerEmbed(applyInput(space.spec, t, options.inputType), dimension, seed),
          );
          if (options.inputType === 'document') {
            counter.calls++;
            counter.texts += texts.length;
            counter.ms += performance.now() - started;
          }
          return out;
        },
      };
    },
  };
}
