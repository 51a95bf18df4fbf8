import type {
  NamespaceStats,
  SearchFilter,
  SearchHit,
  SourceDelete,
  SourceHead,
  SourceWrite,
  WriteResult,
} from '../core/records.js';
import type { Metric } from '../core/space.js';

/** What a store can do, declared as data; the core branches on these, never on adapter names. */
export interface StoreCapabilities {
  /** Writes of one call commit all-or-nothing. */
  readonly transactions: boolean;
  /** The store shares one database (and transaction) with the catalog, so a batch and its checkpoint commit together. */
  readonly sharedCatalogTransaction: boolean;
  /**
   * Writes to one namespace may run concurrently (on separate connections): a backfill then commits up
   * to `concurrency` batches at once. A checkpoint committed with a write never moves backwards, whatever
   * order concurrent writes commit in.
   */
  readonly concurrentWrites: boolean;
  /** Metadata and tenant filters in search. */
  readonly filters: boolean;
  /** An approximate index is maintained besides exact search. */
  readonly annIndex: boolean;
  readonly maxDimension: number;
}

/** The physical identity of a namespace as a store knows it. The store refuses writes of any other fingerprint. */
export interface NamespaceDescriptor {
  readonly name: string;
  readonly fingerprint: string;
  readonly spaceName: string;
  readonly dimension: number;
  readonly metric: Metric;
}

export interface SearchRequest {
  readonly vector: Float32Array;
  /** The space the query vector was embedded in; must equal the namespace's (invariant 2). */
  readonly fingerprint: string;
  readonly k: number;
  readonly filter?: SearchFilter;
  /** Force exact search even when the store has an ANN index. */
  readonly exact?: boolean;
}

/** A checkpoint committed together with a batch when `sharedCatalogTransaction` is true. */
export interface CheckpointWrite {
  readonly jobId: string;
  readonly cursor: string;
  readonly processed: number;
}

export interface WriteOptions {
  readonly checkpoint?: CheckpointWrite;
  /**
   * The caller has already checked every vector's values (finite) and length itself, as `embedSources`
   * does before a backfill writes: a store may then skip re-reading each component, but still checks
   * the fingerprint and each vector's type and length. Never set it for vectors nobody validated.
   */
  readonly prevalidated?: boolean;
}

/**
 * The port every vector backend implements (embedded SQLite, pgvector, LanceDB, ...).
 * Every behaviour here is covered by `testVectorStore` in `src/testing/`.
 */
export interface VectorStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;

  /** Creates the physical namespace; idempotent for the same descriptor, `SPACE_MISMATCH` for another. */
  createNamespace(descriptor: NamespaceDescriptor): Promise<void>;
  /** Drops vectors, heads and tombstones of a namespace. Idempotent. */
  dropNamespace(name: string): Promise<void>;
  describeNamespace(name: string): Promise<NamespaceDescriptor | null>;

  /**
   * Versioned replace per source: a source's records are replaced only when `sourceVersion` is newer than
   * the head the namespace holds (a live version or a tombstone). Refuses the whole call with
   * `SPACE_MISMATCH` when `fingerprint` differs from the namespace's and with `DIMENSION_MISMATCH` /
   * `INVALID_VECTOR` for a bad vector, writing nothing.
   */
  write(
    namespace: string,
    fingerprint: string,
    writes: readonly SourceWrite[],
    options?: WriteOptions,
  ): Promise<WriteResult>;
  /** Tombstones sources at a version (newer than the head); their records are removed. */
  delete(namespace: string, deletes: readonly SourceDelete[], options?: WriteOptions): Promise<WriteResult>;

  /** Top-k records by similarity (higher score is better for every metric). */
  search(namespace: string, request: SearchRequest): Promise<SearchHit[]>;
  /**
   * Many searches of one namespace at once (an evaluation's probe or golden queries): the answer to each
   * request equals `search(namespace, request)` — the same hits, scores and order, filters applied, the
   * fingerprint checked per request — but a store may read the namespace once for all of them, from one
   * point-in-time snapshot. Optional: `searchMany` in `ports/search-many.ts` loops over `search` for a
   * store without it. A bad request refuses the whole call: no partial result is returned.
   */
  searchMany?(namespace: string, requests: readonly SearchRequest[]): Promise<SearchHit[][]>;

  /** Heads (newest version held, or tombstone) for the given sources; absent sources are missing from the map. */
  heads(namespace: string, sourceIds: readonly string[]): Promise<Map<string, SourceHead>>;
  /** Heads in source-id order after `afterId`, for coverage and reconciliation scans in bounded memory. */
  scanHeads(namespace: string, options: { afterId?: string; limit: number }): Promise<SourceHead[]>;

  stats(namespace: string): Promise<NamespaceStats>;
  /**
   * Builds the namespace's ANN index now (stores with `annIndex`), so the first searches after a bulk load
   * or a backfill do not pay for it; a no-op where the store decides the namespace is searched exactly.
   */
  buildIndex?(namespace: string): Promise<unknown>;
  /**
   * Called by the backfill when a pass over a namespace completes: the store readies it for serving while
   * nobody waits on a query — SQLite builds and persists the HNSW index (above its threshold), LanceDB
   * compacts the fragments the batches left and updates its scalar indexes. PostgreSQL has none: its
   * deferred HNSW build blocks writes, so it stays an operator's `buildIndex` call.
   */
  afterBackfill?(namespace: string): Promise<void>;
  /**
   * Frees what the store holds in memory to search the namespace (an exact-search matrix, an ANN index),
   * keeping its data: a cutover calls it for the namespace it retired. A later search of the namespace
   * (after a rollback) must still answer correctly, reloading what it needs. Optional: stores that hold
   * nothing per namespace lack it.
   */
  releaseIndex?(namespace: string): Promise<void>;
  /** How searches of the namespace run now: through an ANN index (`hnsw`) or exactly. */
  describeIndex?(namespace: string): Promise<{ readonly mode: 'hnsw' | 'exact' }>;
  /** The last checkpoint committed for a job together with a batch (see `WriteOptions`), or null. */
  readCheckpoint?(jobId: string): Promise<CheckpointWrite | null>;
  close(): Promise<void>;
}
