import { isReembedError, ReembedError } from '../../core/errors.js';
import type {
  NamespaceStats,
  SearchHit,
  SourceDelete,
  SourceHead,
  SourceWrite,
  WriteResult,
} from '../../core/records.js';
import { toFloat32, validateVector } from '../../core/vector.js';
import type {
  NamespaceDescriptor,
  SearchRequest,
  StoreCapabilities,
  VectorStore,
  WriteOptions,
} from '../../ports/vector-store.js';
import { assertReusable, checkScanLimit } from '../shared/namespace-checks.js';
import { checkSearchRequest } from '../shared/search-request.js';
import { checkDeletes, checkDescriptor, checkWrites, spaceMismatch } from '../shared/write-validation.js';
import { LANCEDB_MAX_DIMENSION, type ResolvedLanceDbConfig } from './config.js';
import type { StoredDescriptor } from './descriptors.js';
import type { LanceTableLike } from './lance-types.js';
import { type LanceEngine, NamespaceTables } from './namespace-tables.js';
import { type PlanItem, planWrite } from './plan.js';
import { readHeads, scanHeads } from './read.js';
import { exactSearch, storedVector } from './search.js';
import { NamespaceSnapshot, SnapshotCache } from './search-snapshot.js';
import { and, filterPredicate, kindIs, sqlString } from './sql.js';
import { namespaceStats } from './stats.js';
import { commitPlan } from './versioned-commit.js';

/**
 * One commit per call (an append or a `mergeInsert`) makes a call all-or-nothing (`transactions`), but the store cannot join
 * the catalog's transaction, so a backfill checkpoints after the batch committed and resume repeats at
 * most that batch (idempotent: versioned writes skip what is already held).
 */
export const LANCEDB_STORE_CAPABILITIES: StoreCapabilities = Object.freeze({
  transactions: true,
  sharedCatalogTransaction: false,
  concurrentWrites: false,
  filters: true,
  annIndex: false,
  maxDimension: LANCEDB_MAX_DIMENSION,
});

/**
 * Vectors in LanceDB (a local directory or object storage), one records table per namespace.
 * Writes are versioned per source (invariant 4) and deletes leave tombstones (invariant 5); each call
 * is one commit — an append when the namespace holds none of its sources, else a conditional
 * `mergeInsert` — so a crash leaves the state before or after the call (see `commitPlan`). Search
 * is exact: a flat, prefiltered scan in LanceDB, rescored in double precision.
 *
 * @example
 * const store = await openLanceDbStore({ uri: '/var/lib/reembed/lance' });
 * await store.createNamespace({ name: 'docs@v2', fingerprint, spaceName: 'v2', dimension: 384, metric: 'cosine' });
 */
export class LanceDbVectorStore implements VectorStore {
  readonly name = 'lancedb';
  readonly capabilities = LANCEDB_STORE_CAPABILITIES;
  readonly #config: ResolvedLanceDbConfig;
  readonly #tables: NamespaceTables;
  /** The last batch of searches' snapshot, reused by the next batch on the same table version. */
  readonly #snapshots = new SnapshotCache();
  #closed = false;

  constructor(engine: LanceEngine) {
    this.#config = engine.config;
    this.#tables = new NamespaceTables(engine);
  }

  async createNamespace(descriptor: NamespaceDescriptor): Promise<void> {
    checkDescriptor(descriptor, this.capabilities.maxDimension);
    const held = await this.#guard('create a namespace', () => this.#tables.create(descriptor, this.#now()));
    assertReusable(held, descriptor);
  }

  async dropNamespace(name: string): Promise<void> {
    this.#snapshots.forget(name);
    await this.#guard('drop a namespace', () => this.#tables.drop(name));
  }

  async describeNamespace(name: string): Promise<NamespaceDescriptor | null> {
    return this.#guard(
      'describe a namespace',
      async () => (await this.#tables.describe(name))?.descriptor ?? null,
    );
  }

  async write(
    namespace: string,
    fingerprint: string,
    writes: readonly SourceWrite[],
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    this.#refuseCheckpoint(options);
    return this.#versioned(namespace, 'write records', (stored) => {
      assertSpace(stored.descriptor, fingerprint, 'write to');
      const { metric, dimension } = stored.descriptor;
      return checkWrites(namespace, writes, dimension).map(({ write, vectors }) => ({
        op: 'write' as const,
        checked: { write, vectors: vectors.map((v) => storedVector(metric, v)) },
      }));
    });
  }

  /** `records` in the result counts the records removed. */
  async delete(
    namespace: string,
    deletes: readonly SourceDelete[],
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    this.#refuseCheckpoint(options);
    return this.#versioned(namespace, 'delete records', () => {
      checkDeletes(namespace, deletes);
      return deletes.map((item) => ({ op: 'delete' as const, item }));
    });
  }

  async search(namespace: string, request: SearchRequest): Promise<SearchHit[]> {
    checkSearchRequest(request);
    const { stored, table } = await this.#open(namespace);
    const { descriptor } = stored;
    assertSpace(descriptor, request.fingerprint, 'search');
    validateVector(request.vector, descriptor.dimension, `query for ${namespace}`);
    return this.#guard('search', () =>
      exactSearch(
        table,
        descriptor.metric,
        toFloat32(request.vector),
        request.k,
        searchableRows(descriptor, request.filter),
      ),
    );
  }

  /**
   * Many searches, each answered as `search` answers it. When the namespace's vectors fit
   * `searchMemoryBytes`, its searchable rows are read once (one table version: a point-in-time answer for
   * the whole batch) and every query is scored in memory; otherwise one LanceDB scan per query.
   */
  async searchMany(namespace: string, requests: readonly SearchRequest[]): Promise<SearchHit[][]> {
    const predicates = requests.map(checkSearchRequest);
    const { stored, table } = await this.#open(namespace);
    const { descriptor } = stored;
    for (const request of requests) {
      assertSpace(descriptor, request.fingerprint, 'search');
      validateVector(request.vector, descriptor.dimension, `query for ${namespace}`);
    }
    const where = searchableRows(descriptor, undefined);
    const budget = this.#config.searchMemoryBytes;
    if (requests.length <= 1 || budget <= 0) return this.#searchEach(namespace, requests);
    // The table version is read before the rows: a snapshot is never labelled newer than what it holds.
    const version = await this.#guard('read the table version', () => table.version());
    let snapshot = this.#snapshots.get(table, where, version);
    if (!snapshot) {
      // One snapshot held at a time: the previous one goes before the next is read.
      this.#snapshots.clear();
      const count = await this.#guard('count records', () => table.countRows(where));
      if (count * descriptor.dimension * 4 > budget) return this.#searchEach(namespace, requests);
      snapshot = await this.#guard('read a namespace for search', () =>
        NamespaceSnapshot.read(table, where, descriptor.metric, descriptor.dimension),
      );
      this.#snapshots.set(namespace, table, where, version, snapshot);
    }
    const held = snapshot;
    return requests.map((request, i) =>
      held.search({ vector: toFloat32(request.vector), k: request.k, predicate: predicates[i] ?? null }),
    );
  }

  async #searchEach(namespace: string, requests: readonly SearchRequest[]): Promise<SearchHit[][]> {
    const out: SearchHit[][] = [];
    for (const request of requests) out.push(await this.search(namespace, request));
    return out;
  }

  async heads(namespace: string, sourceIds: readonly string[]): Promise<Map<string, SourceHead>> {
    const { table } = await this.#open(namespace);
    return this.#guard('read heads', () => readHeads(table, sourceIds));
  }

  async scanHeads(namespace: string, options: { afterId?: string; limit: number }): Promise<SourceHead[]> {
    checkScanLimit(options.limit);
    const { table } = await this.#open(namespace);
    return this.#guard('scan heads', () => scanHeads(table, options.afterId, options.limit));
  }

  async stats(namespace: string): Promise<NamespaceStats> {
    const { stored, table } = await this.#open(namespace);
    return this.#guard('read stats', () => namespaceStats(table, stored.descriptor));
  }

  /** Compacts a namespace's fragments and brings its scalar indexes up to date (also run every `optimizeEvery` commits). */
  async optimize(namespace: string): Promise<void> {
    await this.#guard('optimize', () => this.#tables.optimize(namespace));
  }

  /**
   * After a backfill pass: compacts the fragments its batches left (one per commit; a search scans them all).
   */
  async afterBackfill(namespace: string): Promise<void> {
    await this.optimize(namespace);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#snapshots.clear();
    this.#tables.close();
  }

  /** Guard first (inside the namespace lock, against the current descriptor), then one versioned commit. */
  async #versioned(
    namespace: string,
    what: string,
    items: (stored: StoredDescriptor) => PlanItem[],
  ): Promise<WriteResult> {
    this.#assertOpen();
    // A commit moves the table version, so the held snapshot could not serve again: free it now.
    this.#snapshots.forget(namespace);
    const embeddedAt = this.#now();
    return this.#tables.locked(namespace, async () => {
      const { stored, table } = await this.#guard(what, () => this.#tables.open(namespace));
      const planned = items(stored);
      const ids = planned.map((p) => (p.op === 'write' ? p.checked.write.sourceId : p.item.sourceId));
      const result = await this.#guard(what, () =>
        commitPlan(
          table,
          ids,
          (state) => planWrite(planned, state, stored.descriptor.fingerprint, embeddedAt),
          (plan) => this.#tables.toArrow(stored.descriptor.dimension, plan.rows),
        ),
      );
      // A failure here is reported, but the write above has committed: retrying it is a no-op (skipped).
      await this.#guard('compact the namespace after a committed write', () =>
        this.#tables.afterCommit(stored.tableName, table),
      );
      return result;
    });
  }

  async #open(namespace: string): Promise<{ stored: StoredDescriptor; table: LanceTableLike }> {
    this.#assertOpen();
    return this.#guard('open a namespace', () => this.#tables.open(namespace));
  }

  #refuseCheckpoint(options: WriteOptions): void {
    if (options.checkpoint === undefined) return;
    throw new ReembedError(
      'UNSUPPORTED',
      'The LanceDB store cannot commit a checkpoint with a batch (capabilities.sharedCatalogTransaction is false); save the checkpoint in the catalog after the write returns.',
      { details: { capability: 'sharedCatalogTransaction' } },
    );
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ReembedError(
        'INVALID_STATE',
        'The LanceDB store is closed; open a new one with openLanceDbStore().',
      );
    }
  }

  async #guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isReembedError(error) || !(error instanceof Error)) throw error;
      throw new ReembedError(
        'STORE_FAILED',
        `LanceDB failed to ${what}: ${error.message}. A call commits all or nothing; retry, and check ${this.#config.uri} (space, permissions, credentials) if it persists.`,
        { cause: error, details: { uri: this.#config.uri } },
      );
    }
  }

  #now(): string {
    return this.#config.clock.now().toISOString();
  }
}

/**
 * Invariants 1 and 2: the fingerprint must equal the namespace's; both are named (the incoming one by
 * fingerprint only: the store keeps no catalog of space names).
 */
function assertSpace(descriptor: NamespaceDescriptor, fingerprint: string, action: string): void {
  if (fingerprint === descriptor.fingerprint) return;
  const { name, spaceName } = descriptor;
  throw spaceMismatch(
    { name, fingerprint: descriptor.fingerprint, space_name: spaceName },
    fingerprint,
    null,
    action,
  );
}

/** Chunk rows of the namespace's own fingerprint (invariant 2) that pass `filter`. */
function searchableRows(descriptor: NamespaceDescriptor, filter: SearchRequest['filter']): string {
  return and(kindIs('chunk'), `fingerprint = ${sqlString(descriptor.fingerprint)}`, filterPredicate(filter));
}
