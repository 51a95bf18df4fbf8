import type { SourceDocument } from '../core/records.js';
import type { SpaceSpec } from '../core/space.js';
import type { ThreadReaderRecipe } from '../ports/sources.js';

/**
 * Messages between the calling thread and a reader thread (`reader-worker.ts`). A thread serves one
 * session at a time and is reused for the next (starting one costs far more than opening a reader);
 * every message names its session, so a late page of a closed session is recognised and dropped.
 */
export interface ReaderSession {
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
  | { readonly type: 'ready'; readonly session: number }
  | {
      readonly type: 'page';
      readonly session: number;
      readonly docs: readonly SourceDocument[];
      readonly chunks: readonly WireChunks[];
    }
  | { readonly type: 'end'; readonly session: number }
  | { readonly type: 'error'; readonly session: number; readonly message: string };

export type MainToReader =
  | { readonly type: 'open'; readonly session: number; readonly options: ReaderSession }
  | { readonly type: 'start'; readonly session: number; readonly after: string }
  | { readonly type: 'credit'; readonly session: number }
  | { readonly type: 'close'; readonly session: number };
