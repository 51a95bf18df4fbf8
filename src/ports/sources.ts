import type { SourceDocument, SourceInput } from '../core/records.js';
import type { SpaceSpec } from '../core/space.js';

export interface UpsertOutcome {
  /** Documents whose content changed (or that are new): they took a new version. */
  readonly changed: readonly SourceDocument[];
  /** Ids whose content hash equals the live version: nothing to do. */
  readonly unchanged: readonly string[];
}

/** A keyset page of `SourceRepository.scan`: ids after `afterId`, at most `limit`. */
export interface SourceScanOptions {
  readonly afterId?: string;
  readonly limit: number;
  readonly includeDeleted?: boolean;
}

/** A page of `SourceRepository.hottest`. */
export interface HotPageOptions {
  readonly limit: number;
  readonly offset?: number;
}

/** A live document and the hits recorded for it. */
export interface HotDocument {
  readonly id: string;
  readonly hits: number;
}

/**
 * Retained source documents: the source of truth every namespace can be rebuilt from.
 * Versions are monotonic per collection; a delete is a tombstone that takes a version too (invariant 5).
 */
export interface SourceRepository {
  /** All-or-nothing: assigns the next versions to changed documents, leaves unchanged ones alone. */
  upsert(collection: string, docs: readonly SourceInput[]): Promise<UpsertOutcome>;
  /** Tombstones live documents (unknown or already deleted ids are ignored and not returned). */
  delete(collection: string, ids: readonly string[]): Promise<SourceDocument[]>;
  get(collection: string, id: string): Promise<SourceDocument | null>;
  getMany(collection: string, ids: readonly string[]): Promise<Map<string, SourceDocument>>;
  /** Keyset scan in id order, bounded memory. Tombstones only with `includeDeleted`. */
  scan(collection: string, options: SourceScanOptions): Promise<SourceDocument[]>;
  count(collection: string): Promise<{ live: number; deleted: number }>;
  /** Deletes every source row of a collection, tombstones included (`collection delete`); returns how many. */
  purge(collection: string): Promise<number>;

  /**
   * Optional fast path for a backfill's scan: reader threads that read a pass's pages — preprocessed and
   * chunked — ahead of the caller, so the calling thread only embeds and writes (SQLite offers them; a
   * networked database has no use for them). Null when this repository cannot offer them (an in-memory
   * database). Without it a pass reads its pages with `scan` on the calling thread, the reference path:
   * the pages are the same either way.
   */
  readerThreads?(): ReaderThreads | null;

  /** Per-document hit counts recorded at query time (progressive migration serves hot documents first). */
  recordHits(collection: string, ids: readonly string[]): Promise<void>;
  /** Live document ids by descending hit count, then id; bounded by `limit`, paged by `offset`. */
  hottest(collection: string, options: HotPageOptions): Promise<HotDocument[]>;
}

/** One pass's scan on a reader thread: the pages of `collection` in id order, `pageSize` at a time. */
export interface ReaderThreadSession {
  readonly collection: string;
  readonly pageSize: number;
  /** How many pages the thread may read ahead of what the caller has taken. */
  readonly depth: number;
  /** Preprocessing and chunking applied to every live document on the thread (`attachChunks`). */
  readonly pipeline: Pick<SpaceSpec, 'preprocessing' | 'chunker'>;
}

/** A repository's reader threads (see `SourceRepository.readerThreads`). */
export interface ReaderThreads {
  /** Opens a session on an idle or new thread; null when threads cannot run here. */
  open(session: ReaderThreadSession): ReaderThreadReader | null;
  /**
   * Starts a thread ahead of a pass that will take one, so the pass finds its code loaded; an unused one
   * stops after an idle time and never keeps the process alive.
   */
  prewarm(): void;
}

/**
 * The caller's side of one reader-thread session. Any failure — to start, to load, to read — shows as
 * `failed` and a rejected `take()`, so the caller can carry on reading with `scan` after the last page.
 */
export interface ReaderThreadReader {
  /** The thread had loaded its code already (a pooled one): opening a reader takes a moment only. */
  readonly warm: boolean;
  /** True once the thread has opened its reader and waits for `start`. */
  readonly ready: boolean;
  readonly failed: boolean;
  readonly failure: Error | null;
  /** Resolves true once ready, false on failure, close or after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean>;
  /** Starts reading pages after source id `after` ('' for the beginning). */
  start(after: string): void;
  /** The next page (tombstones included); empty at the end of the collection. Rejects once failed. */
  take(): Promise<readonly SourceDocument[]>;
  /** Ends the session and releases its thread. */
  close(): void;
}
