import type { SourceDocument } from '../core/records.js';
import type { SpaceSpec } from '../core/space.js';
import type { ThreadReaderRecipe } from '../ports/sources.js';

/** Messages between the backfill's calling thread and its reader thread (`reader-worker.ts`). */
export interface ReaderWorkerData {
  readonly recipe: ThreadReaderRecipe;
  readonly collection: string;
  readonly pageSize: number;
  /** How many pages the thread may read ahead of what the calling thread has taken. */
  readonly depth: number;
  readonly pipeline: Pick<SpaceSpec, 'preprocessing' | 'chunker'>;
}

/**
 * Chunk texts of one document: null when not computed (tombstones), 0 for the common case of one chunk
 * equal to the document's text (sent once instead of twice).
 */
export type WireChunks = readonly string[] | 0 | null;

export type ReaderToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'page'; readonly docs: readonly SourceDocument[]; readonly chunks: readonly WireChunks[] }
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly message: string; readonly code: string | null };

export type MainToReader =
  | { readonly type: 'start'; readonly after: string }
  | { readonly type: 'credit' }
  | { readonly type: 'stop' };
