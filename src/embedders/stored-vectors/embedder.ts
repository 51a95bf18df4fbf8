import { ReembedError } from '../../core/errors.js';
import { describeSpace, type Space } from '../../core/space.js';
import { countWordTokens } from '../../core/tokenize.js';
import type { Embedder, EmbedOptions } from '../../ports/embedder.js';
import { throwIfAborted } from '../common.js';
import { vectorByText } from './lookup.js';
import type { StoredVectors } from './store.js';

/** How many texts a stored-vectors embedder answered from the folder and how many it sent to its live model. */
export interface StoredVectorsCounts {
  readonly stored: number;
  readonly live: number;
}

export interface StoredVectorsEmbedder extends Embedder {
  readonly stored: StoredVectors;
  /** True when texts the folder does not hold go to a live embedder of the same space (combined mode). */
  readonly combined: boolean;
  counts(): StoredVectorsCounts;
}

/** A live embedder, or how to build it on the first text the folder does not hold. */
export type LiveEmbedder = Embedder | (() => Promise<Embedder>);

/** Texts per call: lookups are free, so this only bounds how much one call hands to the live model. */
const STORED_MAX_BATCH = 256;

/**
 * An embedder that answers from stored vectors: each text is looked up by the sha256 of its exact
 * text (the pipeline's output, before any input-type prefix). Texts it does not hold go to `live` — an
 * embedder of the same space (same fingerprint), e.g. the live `minilm` model, built on the first miss
 * when given as a function (so a run the folder fully answers never loads the model) — or, without one,
 * fail the call with `NOT_HELD` (a backfill then dead-letters those documents and writes the others).
 * `countTokens` counts word tokens (an estimate: held vectors cost nothing).
 *
 * @example
 * const stored = await loadStoredVectors('../shared/datasets/scifact/embeddings/minilm-l6-v2');
 * const embedder = createStoredVectorsEmbedder(space, stored, await createMinilmEmbedder(space));
 */
export function createStoredVectorsEmbedder(
  space: Space,
  stored: StoredVectors,
  live?: LiveEmbedder,
): StoredVectorsEmbedder {
  if (stored.fingerprint !== space.fingerprint) {
    throw new ReembedError(
      'INVALID_SPEC',
      `The vectors in ${stored.dir} belong to space ${stored.fingerprint} (from their MANIFEST.json), not to ` +
        `${describeSpace(space)}. Define the space from the folder (storedVectorsSpace / space add --provider stored-vectors --from).`,
      {
        details: {
          space: space.name,
          expected: space.fingerprint,
          actual: stored.fingerprint,
          dir: stored.dir,
        },
      },
    );
  }
  if (typeof live === 'object') assertLiveSpace(space, live);
  let liveEmbedder: Promise<Embedder> | undefined;
  const liveOf = (build: () => Promise<Embedder>): Promise<Embedder> => {
    liveEmbedder ??= build().then((e) => assertLiveSpace(space, e));
    liveEmbedder.catch(() => {
      liveEmbedder = undefined;
    });
    return liveEmbedder;
  };
  let fromStore = 0;
  let fromLive = 0;
  return Object.freeze({
    space,
    stored,
    combined: live !== undefined,
    maxBatchSize: STORED_MAX_BATCH,
    countTokens: countWordTokens,
    counts: () => ({ stored: fromStore, live: fromLive }),
    async embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]> {
      throwIfAborted(options.signal);
      const out: Float32Array[] = new Array(texts.length);
      const missing: number[] = [];
      texts.forEach((text, i) => {
        const vector = vectorByText(stored, text, options.inputType);
        if (vector) out[i] = vector;
        else missing.push(i);
      });
      if (missing.length > 0) {
        if (!live) throw notHeld(space, stored, texts, missing, options);
        const embedder = typeof live === 'function' ? await liveOf(live) : live;
        const vectors = await embedder.embed(
          missing.map((i) => texts[i] as string),
          options,
        );
        missing.forEach((i, j) => {
          out[i] = vectors[j] as Float32Array;
        });
      }
      fromStore += texts.length - missing.length;
      fromLive += missing.length;
      return out;
    },
    async close(): Promise<void> {
      const built = typeof live === 'object' ? live : await liveEmbedder?.catch(() => undefined);
      await built?.close?.();
    },
  });
}

function assertLiveSpace(space: Space, live: Embedder): Embedder {
  if (live.space.fingerprint !== space.fingerprint) {
    throw new ReembedError(
      'INVALID_SPEC',
      `The live embedder is of ${describeSpace(live.space)}, not of ${describeSpace(space)}: stored and live vectors must be one space.`,
      { details: { space: space.name, expected: space.fingerprint, actual: live.space.fingerprint } },
    );
  }
  return live;
}

function notHeld(
  space: Space,
  stored: StoredVectors,
  texts: readonly string[],
  missing: readonly number[],
  options: EmbedOptions,
): ReembedError {
  const first = texts[missing[0] as number] as string;
  const excerpt = first.length > 80 ? `${first.slice(0, 77)}...` : first;
  const set = options.inputType === 'query' ? 'queries' : 'corpus';
  const live = stored.manifest.liveProvider;
  const howToFix = live
    ? `The space was added with fallback "none", so such texts are refused; a space added with fallback "live" (the default ` +
      `for these vectors) embeds them with the live "${live}" model, in the same space`
    : 'No live model is known for these vectors: compute the missing ones with the model that made them and add them to the folder ' +
      '(or, for queries, search by vector)';
  return new ReembedError(
    'NOT_HELD',
    `Space "${space.name}" serves stored vectors from ${stored.dir} and holds none for ${missing.length} of ` +
      `${texts.length} ${options.inputType} text(s), e.g. "${excerpt}". Texts match by the sha256 of the exact ` +
      `text the vectors were computed from (${set} texts from: ${stored.texts.origin[set]}). ${howToFix}.`,
    {
      details: {
        space: space.name,
        dir: stored.dir,
        inputType: options.inputType,
        missing: missing.length,
        texts: texts.length,
        liveProvider: live ?? null,
      },
    },
  );
}
