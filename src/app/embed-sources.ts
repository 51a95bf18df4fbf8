import { ReembedError } from '../core/errors.js';
import { chunkIdOf, sourceChunkTexts } from '../core/pipeline.js';
import { type ChunkVector, type SourceDocument, type SourceWrite, sourceWriteOf } from '../core/records.js';
import { validateVector } from '../core/vector.js';
import type { Embedder, EmbedOptions } from '../ports/embedder.js';

export interface EmbedSourcesOptions {
  readonly signal?: AbortSignal;
  /** Every retry the embedder makes inside these calls (a backfill counts them). */
  readonly onRetry?: EmbedOptions['onRetry'];
}

/**
 * Chunks and embeds source documents with one space's embedder and returns versioned writes.
 * Every vector is validated (length, finite) before it can reach a store, so a provider's bad output
 * rejects the batch instead of corrupting a namespace.
 */
export async function embedSources(
  embedder: Embedder,
  docs: readonly SourceDocument[],
  options: EmbedSourcesOptions = {},
): Promise<SourceWrite[]> {
  const spec = embedder.space.spec;
  const chunked = docs.map((doc) => sourceChunkTexts(spec, doc));
  const texts: string[] = [];
  for (const chunks of chunked) for (const text of chunks) texts.push(text);
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += embedder.maxBatchSize) {
    const slice =
      start === 0 && texts.length <= embedder.maxBatchSize
        ? texts
        : texts.slice(start, start + embedder.maxBatchSize);
    const out = await embedder.embed(slice, {
      inputType: 'document',
      signal: options.signal,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });
    if (out.length !== slice.length) {
      throw new ReembedError(
        'EMBEDDER_FAILED',
        `The embedder of ${embedder.space.name} returned ${out.length} vectors for ${slice.length} texts.`,
        { details: { expected: slice.length, actual: out.length } },
      );
    }
    for (let i = 0; i < out.length; i++) {
      const vector = out[i] as Float32Array;
      validateVector(vector, spec.dimension, `${embedder.space.name}: text ${start + i} of the batch`);
      vectors.push(vector);
    }
  }
  let cursor = 0;
  return docs.map((doc, d) => {
    const texts = chunked[d] ?? [];
    const chunks: ChunkVector[] = texts.map((text, index) => ({
      chunkId: chunkIdOf(doc.id, index),
      index,
      text,
      vector: vectors[cursor++] as Float32Array,
    }));
    return sourceWriteOf(doc, chunks);
  });
}

/** `write` at another source version (ingest embeds before the upsert assigns versions). */
export function atVersion(write: SourceWrite, sourceVersion: number): SourceWrite {
  return sourceWriteOf(
    {
      id: write.sourceId,
      version: sourceVersion,
      contentHash: write.contentHash,
      tenant: write.tenant,
      metadata: write.metadata,
    },
    write.chunks,
  );
}
