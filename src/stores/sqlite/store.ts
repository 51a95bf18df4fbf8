import type {
  NamespaceStats,
  SearchHit,
  SourceDelete,
  SourceHead,
  SourceWrite,
  WriteResult,
} from '../../core/records.js';
import { toFloat32, validateVector, vectorToBytes } from '../../core/vector.js';
import type { Clock } from '../../ports/clock.js';
import type {
  CheckpointWrite,
  NamespaceDescriptor,
  SearchRequest,
  StoreCapabilities,
  VectorStore,
  WriteOptions,
} from '../../ports/vector-store.js';
import { assertReusable, checkScanLimit, namespaceMissing } from '../shared/namespace-checks.js';
import { type SpaceGroup, tallySpaces } from '../shared/namespace-stats.js';
import { checkSearchRequest } from '../shared/search-request.js';
import {
  checkCheckpoint,
  checkDeletes,
  checkDescriptor,
  checkWrites,
  spaceMismatch,
} from '../shared/write-validation.js';
import { resolveAnnOptions, type SqliteAnnOptions } from './ann-config.js';
import { prepareQuery } from './row-scorer.js';
import { type AppliedChange, type SearchIndexInfo, SearchRegistry } from './search-registry.js';
import { STORE_SQL as SQL } from './sql.js';
import type { StatementCache } from './statements.js';
import { type DetailRow, descriptorOf, type HeadRow, headOf, hitOf, type MetaRow } from './store-rows.js';

/** Ids per batched head lookup: bounds the JSON argument, well past a typical batch or page. */
const HEADS_PER_STATEMENT = 2_048;
/** Ids with surrogates (maybe lone ones) might not round-trip through JSON and UTF-8 unchanged. */
const SURROGATE = /[\ud800-\udfff]/;

export const SQLITE_STORE_CAPABILITIES: StoreCapabilities = Object.freeze({
  transactions: true,
  sharedCatalogTransaction: true,
  concurrentWrites: false,
  filters: true,
  annIndex: true,
  maxDimension: 65_536,
});

/**
 * Vectors in the SQLite file. Small namespaces are searched exactly from an in-memory float32 matrix;
 * namespaces of `ann.threshold` records or more through an HNSW index persisted beside the file, whose
 * candidates are rescored from SQLite (see `SearchRegistry`). Writes are versioned per source
 * (invariant 4), deletes leave tombstones (invariant 5), and a batch commits with its checkpoint in one
 * transaction. Every method does its SQLite work synchronously before its promise settles, so it also
 * runs inside a caller's `db.transaction(...)`.
 */
export class SqliteVectorStore implements VectorStore {
  readonly name = 'sqlite';
  readonly capabilities = SQLITE_STORE_CAPABILITIES;
  readonly #sql: StatementCache;
  readonly #clock: Clock;
  readonly #search: SearchRegistry;

  constructor(sql: StatementCache, clock: Clock, ann?: SqliteAnnOptions) {
    this.#sql = sql;
    this.#clock = clock;
    this.#search = new SearchRegistry(sql, clock, resolveAnnOptions(ann, sql.db.name), (namespace) =>
      this.#meta(namespace),
    );
  }

  async createNamespace(descriptor: NamespaceDescriptor): Promise<void> {
    checkDescriptor(descriptor, this.capabilities.maxDimension);
    const d = descriptor;
    this.#sql.write('create a namespace', () => {
      const held = this.#metaRow(d.name);
      if (held) assertReusable(descriptorOf(held), d);
      else
        this.#sql
          .get(SQL.insertMeta)
          .run(d.name, d.fingerprint, d.spaceName, d.dimension, d.metric, this.#now());
    });
  }

  async dropNamespace(name: string): Promise<void> {
    const file = this.#sql.write('drop a namespace', () => {
      const file = this.#search.files.dropRow(name);
      for (const sql of [SQL.dropRecords, SQL.dropHeads, SQL.dropCheckpoints, SQL.dropMeta]) {
        this.#sql.get(sql).run(name);
      }
      return file;
    });
    // Inside a caller's transaction the drop may still roll back: keep the index file until it is stale.
    this.#search.drop(name, this.#sql.db.inTransaction ? null : file);
  }

  async describeNamespace(name: string): Promise<NamespaceDescriptor | null> {
    const row = this.#metaRow(name);
    return row ? descriptorOf(row) : null;
  }

  async write(
    namespace: string,
    fingerprint: string,
    writes: readonly SourceWrite[],
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const meta = this.#meta(namespace);
    this.#assertSpace(meta, fingerprint, 'write to');
    const checked = checkWrites(namespace, writes, meta.dimension, { prevalidated: options.prevalidated });
    checkCheckpoint(options.checkpoint);
    const embeddedAt = this.#now();
    return this.#commit(namespace, 'write records', options.checkpoint, (applied) => {
      this.#assertSpace(this.#meta(namespace), fingerprint, 'write to');
      const insert = this.#sql.get(SQL.insertRecord);
      const upsertHead = this.#sql.get(SQL.upsertHead);
      const heads = this.#headMap(
        namespace,
        checked.map((c) => c.write.sourceId),
      );
      let records = 0;
      for (const { write, vectors } of checked) {
        const head = heads.get(write.sourceId);
        if (head && write.sourceVersion <= head.source_version) continue;
        // Records exist only under a live head, so a new or tombstoned source has nothing to remove.
        const removedKeys = head && !head.deleted ? this.#removeRecords(namespace, write.sourceId) : [];
        const metadata = JSON.stringify(write.metadata);
        const { sourceId, sourceVersion, contentHash, tenant } = write;
        const rows = write.chunks.map((chunk, j) => {
          const bytes = vectorToBytes(vectors[j] as Float32Array);
          const { lastInsertRowid } = insert.run(
            namespace,
            chunk.chunkId,
            sourceId,
            chunk.index,
            fingerprint,
            contentHash,
            sourceVersion,
            embeddedAt,
            tenant,
            metadata,
            chunk.text,
            bytes,
          );
          return { key: Number(lastInsertRowid), tenant, metadata, bytes };
        });
        upsertHead.run(namespace, sourceId, sourceVersion, contentHash, 0);
        // A later item of this call for the same source compares against this version.
        heads.set(sourceId, {
          source_id: sourceId,
          source_version: sourceVersion,
          content_hash: contentHash,
          deleted: 0,
        });
        applied.push({ sourceId, removedKeys, rows });
        records += rows.length;
      }
      return { written: applied.length, skipped: checked.length - applied.length, records };
    });
  }

  /** `records` in the result counts the records removed. */
  async delete(
    namespace: string,
    deletes: readonly SourceDelete[],
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    this.#meta(namespace);
    checkDeletes(namespace, deletes);
    checkCheckpoint(options.checkpoint);
    return this.#commit(namespace, 'delete records', options.checkpoint, (applied) => {
      let records = 0;
      const heads = this.#headMap(
        namespace,
        deletes.map((d) => d.sourceId),
      );
      for (const d of deletes) {
        const head = heads.get(d.sourceId);
        if (head && d.sourceVersion <= head.source_version) continue;
        const removedKeys = this.#removeRecords(namespace, d.sourceId);
        records += removedKeys.length;
        this.#sql.get(SQL.upsertHead).run(namespace, d.sourceId, d.sourceVersion, null, 1);
        heads.set(d.sourceId, {
          source_id: d.sourceId,
          source_version: d.sourceVersion,
          content_hash: null,
          deleted: 1,
        });
        applied.push({ sourceId: d.sourceId, removedKeys, rows: [] });
      }
      return { written: applied.length, skipped: deletes.length - applied.length, records };
    });
  }

  /**
   * Top-k in one read snapshot: the search structures, the generation check and the hit rows agree. Exact
   * for small namespaces and `exact: true`; through the HNSW index (candidates rescored exactly) for
   * namespaces of `ann.threshold` records or more. Every hit is read back from its row, which must belong
   * to this namespace and fingerprint (invariant 2) — a deleted record has no row (invariant 5).
   */
  async search(namespace: string, request: SearchRequest): Promise<SearchHit[]> {
    const [hits] = await this.searchMany(namespace, [request]);
    return hits ?? [];
  }

  /**
   * Every request in one read snapshot (`search` is the one-request case): the namespace's metadata and
   * search structures are read once — an exact matrix loaded by the first request serves the rest — and
   * each request is answered exactly as `search` answers it alone. Every request is checked before any runs.
   */
  async searchMany(namespace: string, requests: readonly SearchRequest[]): Promise<SearchHit[][]> {
    const predicates = requests.map(checkSearchRequest);
    const nested = this.#sql.db.inTransaction;
    const results = this.#sql.read('search', () => {
      const meta = this.#meta(namespace);
      for (const request of requests) {
        this.#assertSpace(meta, request.fingerprint, 'search');
        validateVector(request.vector, meta.dimension, `query for ${namespace}`);
      }
      const details = this.#sql.get(SQL.hitDetails);
      const items = requests.map((request, i) => ({
        query: prepareQuery(toFloat32(request.vector), meta.metric),
        k: request.k,
        predicate: predicates[i] ?? null,
        exact: request.exact === true,
      }));
      return this.#search.searchMany(meta, items, nested).map((scored) => {
        const hits: SearchHit[] = [];
        for (const { key, score, row: read } of scored) {
          const row = read ?? (details.get(key) as DetailRow | undefined);
          if (row && row.namespace === namespace && row.fingerprint === meta.fingerprint)
            hits.push(hitOf(row.record_id, score, row));
        }
        return hits.sort(
          (a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : a.chunkId > b.chunkId ? 1 : 0),
        );
      });
    });
    this.#search.flush();
    return results;
  }

  /**
   * Builds the namespace's HNSW index now (or loads its persisted file and catches it up) and saves it
   * beside the database, so the first search does not pay for it — e.g. after a backfill, before cutover.
   * The build runs in slices that return to the event loop: this process keeps serving meanwhile (its
   * searches of the namespace answer exactly until the index is installed), and writes committed during
   * the build are in the index it installs. Closing the store stops a running build; nothing is saved.
   * Namespaces below `ann.threshold` are searched exactly and get no index.
   */
  async buildIndex(namespace: string): Promise<SearchIndexInfo> {
    const mode = this.#sql.read('read a namespace', () => this.#search.describe(this.#meta(namespace)).mode);
    if (mode === 'hnsw') await this.#search.ensureIndex(namespace);
    return this.describeIndex(namespace);
  }

  /** After a backfill pass: the index the first search would otherwise build (see `buildIndex`). */
  async afterBackfill(namespace: string): Promise<void> {
    await this.buildIndex(namespace);
  }

  /**
   * Frees the namespace's in-memory search structures (exact matrix, HNSW index); a cutover calls it for
   * the namespace it retired. A search after a rollback reloads both (the index from its file, caught up
   * from SQLite). An unknown namespace is ignored.
   */
  async releaseIndex(namespace: string): Promise<void> {
    this.#search.release(namespace);
  }

  /** How the namespace is searched: exact or through its HNSW index, its size and the index in memory. */
  async describeIndex(namespace: string): Promise<SearchIndexInfo> {
    return this.#sql.read('describe the search index', () => this.#search.describe(this.#meta(namespace)));
  }

  async heads(namespace: string, sourceIds: readonly string[]): Promise<Map<string, SourceHead>> {
    return this.#sql.read('read heads', () => {
      this.#meta(namespace);
      const out = new Map<string, SourceHead>();
      for (const [id, row] of this.#headMap(namespace, sourceIds)) out.set(id, headOf(row));
      return out;
    });
  }

  async scanHeads(namespace: string, options: { afterId?: string; limit: number }): Promise<SourceHead[]> {
    checkScanLimit(options.limit);
    this.#meta(namespace);
    const rows = this.#sql
      .get(SQL.scanHeads)
      .all(namespace, options.afterId ?? '', options.limit) as HeadRow[];
    return rows.map(headOf);
  }

  /** Counted from the rows themselves, so a record written behind the store's back still shows. */
  async stats(namespace: string): Promise<NamespaceStats> {
    return this.#sql.read('read stats', () => {
      this.#meta(namespace);
      const totals = this.#sql.get(SQL.statsTotals).get(namespace) as { records: number; sources: number };
      const tombstones = (this.#sql.get(SQL.statsTombstones).get(namespace) as { n: number }).n;
      const { fingerprints, dimensions } = tallySpaces(
        this.#sql.get(SQL.statsSpaces).all(namespace) as SpaceGroup[],
      );
      return { ...totals, tombstones, fingerprints, dimensions };
    });
  }

  async readCheckpoint(jobId: string): Promise<CheckpointWrite | null> {
    const row = this.#sql.get(SQL.checkpoint).get(jobId) as
      | { job_id: string; cursor: string; processed: number }
      | undefined;
    return row ? Object.freeze({ jobId: row.job_id, cursor: row.cursor, processed: row.processed }) : null;
  }

  /**
   * Saves HNSW indexes with unsaved changes beside the database, then drops the in-memory structures; the
   * connection belongs to the backend, which closes it.
   */
  async close(): Promise<void> {
    await this.#search.stopBuilds();
    this.#search.close((namespace) => this.#metaRow(namespace));
  }

  /**
   * Runs a versioned change and its checkpoint in one IMMEDIATE transaction, bumps the namespace
   * generation when records changed, then lets the search structures follow the committed change.
   */
  #commit(
    namespace: string,
    what: string,
    checkpoint: CheckpointWrite | undefined,
    fn: (applied: AppliedChange[]) => WriteResult,
  ): WriteResult {
    const nested = this.#sql.db.inTransaction;
    const applied: AppliedChange[] = [];
    const { result, before, after } = this.#sql.write(what, () => {
      const before = this.#meta(namespace).generation;
      const result = fn(applied);
      if (checkpoint) {
        const { jobId, cursor, processed } = checkpoint;
        this.#sql.get(SQL.upsertCheckpoint).run(jobId, namespace, cursor, processed, this.#now());
      }
      let removed = 0;
      for (const change of applied) removed += change.removedKeys.length;
      const bumped =
        applied.length > 0
          ? (this.#sql.get(SQL.bumpGeneration).get(removed, namespace) as { generation: number })
          : null;
      return { result, before, after: bumped?.generation ?? before };
    });
    this.#search.follow(namespace, { before, after, nested, applied });
    return result;
  }

  /** Deletes a source's records and returns their keys (an ANN index drops the same keys). */
  #removeRecords(namespace: string, sourceId: string): number[] {
    const rows = this.#sql.get(SQL.deleteSourceRecords).all(namespace, sourceId) as { key: number }[];
    return rows.map((r) => r.key);
  }

  #head(namespace: string, sourceId: string): HeadRow | undefined {
    return this.#sql.get(SQL.head).get(namespace, sourceId) as HeadRow | undefined;
  }

  /** Heads of many sources, by source id, with one statement per `HEADS_PER_STATEMENT` ids. */
  #headMap(namespace: string, sourceIds: readonly string[]): Map<string, HeadRow> {
    const out = new Map<string, HeadRow>();
    if (sourceIds.length === 1 || sourceIds.some((id) => SURROGATE.test(id))) {
      for (const id of sourceIds) {
        const row = this.#head(namespace, id);
        if (row) out.set(id, row);
      }
      return out;
    }
    const many = this.#sql.get(SQL.headsIn);
    for (let i = 0; i < sourceIds.length; i += HEADS_PER_STATEMENT) {
      const ids = JSON.stringify(sourceIds.slice(i, i + HEADS_PER_STATEMENT));
      for (const row of many.all(namespace, ids) as HeadRow[]) out.set(row.source_id, row);
    }
    return out;
  }

  #metaRow(name: string): MetaRow | undefined {
    return this.#sql.get(SQL.meta).get(name) as MetaRow | undefined;
  }

  #meta(name: string): MetaRow {
    const row = this.#metaRow(name);
    if (!row) throw namespaceMissing(name);
    return row;
  }

  /** Invariants 1 and 2: the fingerprint must equal the namespace's; both spaces are named. */
  #assertSpace(meta: MetaRow, fingerprint: string, action: string): void {
    if (fingerprint === meta.fingerprint) return;
    const incomingName = this.#sql.get(SQL.spaceName).pluck().get(fingerprint) as string | undefined;
    throw spaceMismatch(meta, fingerprint, incomingName, action);
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }
}
