import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ReembedError } from '../core/errors.js';
import { applyInput } from '../core/pipeline.js';
import type { Space } from '../core/space.js';
import { countWordTokens } from '../core/tokenize.js';
import type { Embedder, EmbedOptions } from '../ports/embedder.js';

/**
 * Pieces shared by the local embedders: the Embedder shell around a synchronous `encode`, parameter
 * checks that name the offending field, and file identity (sha256) used as a space's `revision`.
 */

/** Texts per `embed` call the local embedders prefer; they are CPU-bound, so this only bounds latency. */
export const LOCAL_MAX_BATCH = 256;

/**
 * Wraps a synchronous text → vector function as an `Embedder` of `space`: applies truncation and the
 * input-type prefix (`applyInput`), honours the abort signal between texts, and counts word tokens.
 */
export function localEmbedder(space: Space, encode: (text: string) => Float32Array): Embedder {
  const spec = space.spec;
  return Object.freeze({
    space,
    maxBatchSize: LOCAL_MAX_BATCH,
    countTokens: countWordTokens,
    tokenizer: { name: "words (the local model's own tokens)", exact: true },
    async embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]> {
      const out: Float32Array[] = new Array(texts.length);
      for (let i = 0; i < texts.length; i++) {
        if ((i & 255) === 0) throwIfAborted(options.signal);
        out[i] = encode(applyInput(spec, texts[i] as string, options.inputType));
      }
      return out;
    },
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new ReembedError(
      'ABORTED',
      'Embedding was aborted by the caller; nothing was returned for this batch.',
    );
  }
}

/** Refuses params the embedder does not know, so a typo (`ngram` for `ngrams`) cannot pass silently. */
export function assertKnownParams(space: Space, known: readonly string[]): void {
  const unknown = Object.keys(space.spec.params).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new ReembedError(
      'INVALID_SPEC',
      `Space "${space.name}" (provider ${space.spec.provider}) has unknown params ${unknown.map((k) => `"${k}"`).join(', ')}. ` +
        `Known params: ${known.join(', ') || '(none)'}.`,
      { details: { space: space.name, unknown, known: [...known] } },
    );
  }
}

export function specError(
  space: Pick<Space, 'name'>,
  field: string,
  message: string,
  value?: unknown,
): ReembedError {
  return new ReembedError('INVALID_SPEC', `Space "${space.name}": ${field} ${message}`, {
    details: { space: space.name, field, value: value === undefined ? null : String(value) },
  });
}

/** `INVALID_SPEC` unless the space has the dimension of its model file; `has` says what the model holds. */
export function assertModelDimension(
  space: Pick<Space, 'name' | 'spec'>,
  dimension: number,
  has: string,
): void {
  if (space.spec.dimension !== dimension) {
    throw specError(space, 'dimension', `is ${space.spec.dimension} but ${has}`, space.spec.dimension);
  }
}

/** The bytes of a model file, or `NOT_FOUND` with `message(reason)` (the reason is the system's error). */
export function readModelFile(
  path: string,
  message: (reason: string) => string,
  details: Readonly<Record<string, unknown>> = { path },
): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ReembedError('NOT_FOUND', message((cause as Error).message), { details, cause });
  }
}

/** Identity of a model file: sha256 of its bytes, first 16 hex digits (a space's `revision`). */
export function fileRevision(path: string): string {
  return bytesRevision(readFileSync(path));
}

export function bytesRevision(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
