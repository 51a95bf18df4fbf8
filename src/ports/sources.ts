import type { SourceDocument, SourceInput } from '../core/records.js';

export interface UpsertOutcome {
  /** Documents whose content changed (or that are new): they took a new version. */
  readonly changed: readonly SourceDocument[];
  /** Ids whose content hash equals the live version: nothing to do. */
  readonly unchanged: readonly string[];
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
  scan(
    collection: string,
    options: { afterId?: string; limit: number; includeDeleted?: boolean },
  ): Promise<SourceDocument[]>;
  count(collection: string): Promise<{ live: number; deleted: number }>;
  /** Deletes every source row of a collection, tombstones included (`collection delete`); returns how many. */
  purge(collection: string): Promise<number>;

  /**
   * How another thread can open its own read-only view of these sources, or null when it cannot (e.g. an
   * in-memory database). Optional: a backfill then reads and preprocesses pages on a worker thread while
   * the calling thread embeds and writes; without it, everything runs on the calling thread.
   */
  threadReader?(): ThreadReaderRecipe | null;

  /** Per-document hit counts recorded at query time (progressive migration serves hot documents first). */
  recordHits(collection: string, ids: readonly string[]): Promise<void>;
  /** Live document ids by descending hit count, then id; bounded by `limit`, paged by `offset`. */
  hottest(
    collection: string,
    options: { limit: number; offset?: number },
  ): Promise<{ id: string; hits: number }[]>;
}

/**
 * Serialisable instructions for opening a read-only source reader in a worker thread: the module (a URL)
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
