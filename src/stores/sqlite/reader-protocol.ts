import { attachChunks } from '../../core/pipeline.js';
import type { Metadata, SourceDocument } from '../../core/records.js';
import type { SpaceSpec } from '../../core/space.js';
import type { ReaderThreadSession, SourceRepository } from '../../ports/sources.js';

/**
 * Messages between the calling thread and a reader thread (`reader-worker.ts`). A thread serves one
 * session at a time and is reused for the next (starting one costs far more than opening a reader);
 * every message names its session, so a late page of a closed session is recognised and dropped.
 */
export interface ReaderSession extends ReaderThreadSession {
  readonly recipe: ThreadReaderRecipe;
}

/**
 * Serialisable instructions for opening a read-only source reader in a reader thread: the module (a URL)
 * exports a function named `exportName` that takes `args` and returns a `ThreadSourceReader`.
 */
export interface ThreadReaderRecipe {
  readonly module: string;
  readonly exportName: string;
  readonly args: unknown;
}

/** What a thread reader offers: the keyset scan of `SourceRepository`, on its own connection. */
export interface ThreadSourceReader {
  scan: SourceRepository['scan'];
  /**
   * Optional housekeeping the reading thread can take off the writing one, called between pages (SQLite:
   * a passive WAL checkpoint). Must not fail the reader.
   */
  checkpoint?(): void;
  close(): void;
}

/**
 * Chunk texts of one document: null when not computed (tombstones), 0 for the common case of one chunk
 * equal to the document's text (sent once instead of twice).
 */
export type WireChunks = readonly string[] | 0 | null;

/**
 * A page of source documents, one array per field: far cheaper to copy between threads and to rebuild
 * than an array of objects. `metadata` is null for an empty object, the common case.
 */
export interface WirePage {
  readonly collection: string;
  readonly ids: readonly string[];
  readonly texts: readonly string[];
  readonly metadata: readonly (Metadata | null)[];
  readonly tenants: readonly (string | null)[];
  readonly hashes: readonly string[];
  readonly versions: Float64Array;
  readonly deleted: Uint8Array;
  readonly updatedAt: readonly string[];
  readonly chunks: readonly WireChunks[];
}

export type ReaderToMain =
  /** The thread's code has loaded (sent once, outside any session). */
  | { readonly type: 'loaded'; readonly session: 0 }
  | { readonly type: 'ready'; readonly session: number }
  | { readonly type: 'page'; readonly session: number; readonly page: WirePage }
  | { readonly type: 'end'; readonly session: number }
  | { readonly type: 'error'; readonly session: number; readonly message: string };

export type MainToReader =
  | { readonly type: 'open'; readonly session: number; readonly options: ReaderSession }
  | { readonly type: 'start'; readonly session: number; readonly after: string }
  | { readonly type: 'credit'; readonly session: number }
  | { readonly type: 'close'; readonly session: number };

const EMPTY_METADATA: Metadata = Object.freeze({});

/** Packs a page of documents (non-empty, same collection) and their chunk texts for `postMessage`. */
export function encodePage(docs: readonly SourceDocument[], chunks: readonly WireChunks[]): WirePage {
  const n = docs.length;
  const versions = new Float64Array(n);
  const deleted = new Uint8Array(n);
  const metadata: (Metadata | null)[] = new Array(n);
  docs.forEach((doc, i) => {
    versions[i] = doc.version;
    deleted[i] = doc.deleted ? 1 : 0;
    metadata[i] = isEmpty(doc.metadata) ? null : doc.metadata;
  });
  return {
    collection: (docs[0] as SourceDocument).collection,
    ids: docs.map((d) => d.id),
    texts: docs.map((d) => d.text),
    metadata,
    tenants: docs.map((d) => d.tenant),
    hashes: docs.map((d) => d.contentHash),
    versions,
    deleted,
    updatedAt: docs.map((d) => d.updatedAt),
    chunks,
  };
}

/**
 * Rebuilds the frozen documents of a page and attaches their chunk texts (computed with `pipeline`) for
 * `sourceChunkTexts`.
 */
export function decodePage(
  page: WirePage,
  pipeline: Pick<SpaceSpec, 'preprocessing' | 'chunker'>,
): SourceDocument[] {
  const { collection, ids, texts, metadata, tenants, hashes, versions, deleted, updatedAt, chunks } = page;
  const docs: SourceDocument[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const text = texts[i] as string;
    const meta = metadata[i];
    const doc: SourceDocument = Object.freeze({
      collection,
      id: ids[i] as string,
      text,
      metadata: meta ? Object.freeze(meta) : EMPTY_METADATA,
      tenant: tenants[i] ?? null,
      contentHash: hashes[i] as string,
      version: versions[i] as number,
      deleted: deleted[i] === 1,
      updatedAt: updatedAt[i] as string,
    });
    const wire = chunks[i];
    if (wire === 0) attachChunks(doc, pipeline);
    else if (wire) attachChunks(doc, pipeline, wire);
    docs[i] = doc;
  }
  return docs;
}

function isEmpty(metadata: Metadata): boolean {
  for (const _ in metadata) return false;
  return true;
}
