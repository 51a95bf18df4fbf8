import type { Clock } from '../../ports/clock.js';
import { buildInSlices } from './ann-build.js';
import { annParams, type ResolvedAnnOptions } from './ann-config.js';
import { AnnFiles } from './ann-files.js';
import type { AnnIndex, AnnSnapshot } from './ann-index.js';
import { annSearch, buildIndex, catchUp } from './ann-maintain.js';
import { type ScanRequest, scanExactMany } from './exact-scan.js';
import { NamespaceMatrix, type ScoredKey } from './matrix-cache.js';
import { STORE_SQL as SQL } from './sql.js';
import type { StatementCache } from './statements.js';
import type { MetaRow } from './store-rows.js';

/** A committed change to replay on the search structures: the source's removed keys, then its new rows. */
export interface AppliedChange {
  readonly sourceId: string;
  readonly removedKeys: readonly number[];
  readonly rows: readonly { key: number; tenant: string | null; metadata: string; bytes: Uint8Array }[];
}

/** What a write transaction reports so the search structures can follow it. */
export interface CommittedChange {
  /** `ns_meta.generation` before and after the transaction. */
  readonly before: number;
  readonly after: number;
  /** The write ran inside a caller's transaction, which may still roll back. */
  readonly nested: boolean;
  readonly applied: readonly AppliedChange[];
}

/** How a namespace is searched right now (`describeIndex`). */
export interface SearchIndexInfo {
  readonly kind: 'sqlite-search';
  /** `hnsw` when searches without `exact: true` go through the ANN index, `exact` otherwise. */
  readonly mode: 'hnsw' | 'exact';
  readonly records: number;
  readonly threshold: number;
  /** The loaded index, if any. */
  readonly index: {
    readonly origin: 'built' | 'file';
    readonly quantization: string;
    readonly connectivity: number;
    readonly size: number;
    readonly generation: number;
    readonly approximateBytes: number;
  } | null;
  /** Whether an exact search is served from the in-memory float32 copy (else streamed from SQLite). */
  readonly exactCached: boolean;
  /** Whether that float32 copy is in memory now (loaded by a search, not evicted nor released). */
  readonly exactLoaded: boolean;
  /** An index is being built in slices: searches answer exactly (or from the index it replaces) meanwhile. */
  readonly building: boolean;
  /** Why the last build failed (retried a minute later), or null. */
  readonly buildError: string | null;
}

/** One search of `searchMany`: a prepared query, its k and filter, and whether it asked for exact search. */
export interface SearchItem extends ScanRequest {
  readonly exact: boolean;
}

/** A failed background build is tried again after this long (a search would otherwise retry it at once). */
const RETRY_BUILD_MS = 60_000;

/**
 * Per-connection search structures of every namespace: exact float32 matrices for small namespaces (and
 * exact requests within `exactCacheBytes`), HNSW indexes for namespaces of `threshold` records or more.
 * Both reflect one committed `ns_meta.generation`; this connection's own commits are replayed on them,
 * any other change (another process, a rolled-back caller transaction) is caught up from SQLite before
 * the next search. Methods marked "read transaction" run inside the store's read snapshot; saves and
 * discards of index files wait for `flush`, outside any transaction.
 */
export class SearchRegistry {
  readonly options: ResolvedAnnOptions;
  readonly files: AnnFiles;
  readonly #sql: StatementCache;
  /** Exact matrices, least recently used first; together within `exactCacheBytes`. */
  readonly #matrices = new Map<string, NamespaceMatrix>();
  readonly #indexes = new Map<string, AnnIndex>();
  readonly #pendingSave = new Map<string, MetaRow>();
  readonly #pendingDiscard = new Set<string>();
  readonly #metaOf: (namespace: string) => MetaRow;
  /** Builds in slices that are running, by namespace: one at a time per namespace. */
  readonly #building = new Map<string, Promise<void>>();
  readonly #failures = new Map<string, { at: number; message: string }>();
  #closed = false;

  /** `metaOf` reads a namespace's row (throws when there is none). */
  constructor(
    sql: StatementCache,
    clock: Clock,
    options: ResolvedAnnOptions,
    metaOf: (namespace: string) => MetaRow,
  ) {
    this.#sql = sql;
    this.options = options;
    this.files = new AnnFiles(options.dir, sql, clock);
    this.#metaOf = metaOf;
  }

  /**
   * Top-k scored keys of each request (read transaction); queries are prepared (`prepareQuery`). Requests
   * the HNSW index answers go through it one by one; the exact ones are answered together — one pass
   * over the namespace's rows, in memory or streamed from SQLite — each as it would be alone.
   */
  searchMany(meta: MetaRow, requests: readonly SearchItem[], nested: boolean): ScoredKey[][] {
    const results: ScoredKey[][] = requests.map(() => []);
    const exact: number[] = [];
    requests.forEach((request, i) => {
      if (request.k === 0) return;
      const hits = nested || request.exact ? null : this.#annSearch(meta, request);
      if (hits) results[i] = hits;
      else exact.push(i);
    });
    if (exact.length > 0) {
      const answers = this.#exact(
        meta,
        exact.map((i) => requests[i] as SearchItem),
        !nested,
      );
      exact.forEach((i, at) => {
        results[i] = answers[at] as ScoredKey[];
      });
    }
    return results;
  }

  /** The request through the namespace's HNSW index, or null when it is searched exactly. */
  #annSearch(meta: MetaRow, { query, k, predicate }: SearchItem): ScoredKey[] | null {
    const index = this.#annFor(meta);
    if (index) {
      const cached = this.#matrices.get(meta.name);
      const inMemory = cached !== undefined && cached.generation === meta.generation;
      const passShare = inMemory && predicate ? cached.passShare(predicate) : null;
      const result = annSearch(this.#sql, index, meta, query, k, predicate, this.options, passShare);
      if (result.suspect) {
        // Candidates whose index distance disagrees with their stored vector: the file does not match
        // these records. Forget it (rebuilt on the next search) and answer exactly.
        this.#indexes.delete(meta.name);
        this.#pendingDiscard.add(meta.name);
      }
      if (result.hits) return result.hits;
    }
    return null;
  }

  /**
   * Builds (or loads and catches up) the namespace's index and persists it (no transaction open). A build
   * runs in slices that return to the event loop (`buildInSlices`), so this process keeps serving; its
   * searches of the namespace answer exactly until the index is installed. A second call while a build
   * runs joins it.
   */
  ensureIndex(namespace: string): Promise<void> {
    return this.#build(namespace, false);
  }

  #build(namespace: string, rebuild: boolean): Promise<void> {
    const running = this.#building.get(namespace);
    if (running) return running;
    const build = this.#runBuild(namespace, rebuild).finally(() => this.#building.delete(namespace));
    this.#building.set(namespace, build);
    return build;
  }

  /**
   * Started by a search, which must not hold the event loop for a build: the index is built in the
   * background (`rebuild`: replacing a held index, which serves meanwhile). A failure is kept for
   * `describe` and tried again after `RETRY_BUILD_MS`; searches stay exact until then.
   */
  #buildInBackground(namespace: string, rebuild: boolean): void {
    const failed = this.#failures.get(namespace);
    if (this.#closed || this.#building.has(namespace)) return;
    if (failed && performance.now() - failed.at < RETRY_BUILD_MS) return;
    this.#build(namespace, rebuild).then(
      () => this.#failures.delete(namespace),
      (error: unknown) =>
        this.#failures.set(namespace, {
          at: performance.now(),
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  }

  async #runBuild(namespace: string, rebuild: boolean): Promise<void> {
    // Never inside the caller's transaction: a search that started the build holds its read snapshot.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.#closed) return;
    const readMeta = () => this.#metaOf(namespace);
    // A held index or a persisted file only needs catching up; otherwise build.
    const ready = this.#sql.read('build the ANN index', () => {
      const meta = readMeta();
      const params = annParams(this.options, meta.dimension, meta.metric);
      const held = this.#indexes.get(namespace);
      if (!rebuild && held && held.snapshot.incarnation === meta.created_at) {
        this.#bringUpToDate(meta, held);
        return { meta, params, done: true };
      }
      const loaded = rebuild ? null : this.files.load(meta, params, this.options.expansionSearch);
      if (loaded) {
        this.#indexes.set(namespace, loaded);
        this.#bringUpToDate(meta, loaded);
      }
      return { meta, params, done: loaded !== null };
    });
    let meta = ready.meta;
    if (!ready.done) {
      const built = await buildInSlices({
        sql: this.#sql,
        readMeta,
        params: ready.params,
        expansionSearch: this.options.expansionSearch,
        threads: this.options.buildThreads,
        stopped: () => this.#closed,
      });
      if (!built || this.#closed) return;
      const installed = this.#sql.read('build the ANN index', () => {
        const now = readMeta();
        if (now.created_at !== built.snapshot.incarnation) return null;
        this.#indexes.set(namespace, built);
        this.#bringUpToDate(now, built);
        return now;
      });
      if (!installed) return;
      meta = installed;
    }
    this.#pendingSave.set(namespace, meta);
    this.flush();
  }

  describe(meta: MetaRow): SearchIndexInfo {
    const matrix = this.#matrices.get(meta.name);
    const index = this.#indexes.get(meta.name);
    const records =
      matrix && matrix.generation === meta.generation
        ? matrix.size
        : index && index.snapshot.generation === meta.generation
          ? index.size
          : this.#count(meta.name);
    return Object.freeze({
      kind: 'sqlite-search' as const,
      mode: records >= this.options.threshold ? ('hnsw' as const) : ('exact' as const),
      records,
      threshold: this.options.threshold,
      index: index
        ? Object.freeze({
            origin: index.origin,
            quantization: index.params.quantization,
            connectivity: index.params.connectivity,
            size: index.size,
            generation: index.snapshot.generation,
            approximateBytes: index.approximateBytes(),
          })
        : null,
      exactCached: records * meta.dimension * 4 <= this.options.exactCacheBytes,
      exactLoaded: matrix !== undefined && matrix.generation === meta.generation,
      building: this.#building.has(meta.name),
      buildError: this.#failures.get(meta.name)?.message ?? null,
    });
  }

  /** Replays this connection's committed change (or leaves the structures to catch up later). */
  follow(namespace: string, change: CommittedChange): void {
    if (change.before === change.after) return;
    const matrix = this.#matrices.get(namespace);
    if (matrix) {
      if (change.nested || matrix.generation !== change.before) this.#matrices.delete(namespace);
      else {
        try {
          for (const c of change.applied) {
            matrix.removeSource(c.sourceId);
            for (const r of c.rows) matrix.append(r.key, c.sourceId, r.tenant, r.metadata, r.bytes);
          }
          matrix.generation = change.after;
          this.#evict(namespace);
        } catch {
          this.#matrices.delete(namespace);
        }
      }
    }
    const index = this.#indexes.get(namespace);
    // An index not at the pre-change generation (or a change that may still roll back) is left as it is:
    // it still equals an older committed snapshot, and the next search catches it up from SQLite.
    if (!index || change.nested || index.snapshot.generation !== change.before) return;
    try {
      // Net effect in commit order: a record written and replaced within the same change (one call that
      // wrote a source twice) is neither added nor removed.
      const added = new Map<number, { key: number; bytes: Uint8Array }>();
      const removed: number[] = [];
      for (const c of change.applied) {
        for (const key of c.removedKeys) if (!added.delete(key)) removed.push(key);
        for (const r of c.rows) added.set(r.key, r);
      }
      index.remove(removed);
      const d = index.params.dimension;
      const rows = [...added.values()].sort((a, b) => a.key - b.key);
      const keys = new Float64Array(rows.length);
      const vectors = new Float32Array(rows.length * d);
      const bytes = new Uint8Array(vectors.buffer);
      rows.forEach((r, i) => {
        keys[i] = r.key;
        bytes.set(r.bytes, i * d * 4);
      });
      index.add(keys, vectors, rows.length);
      let removedCount = 0;
      for (const c of change.applied) removedCount += c.removedKeys.length;
      index.snapshot = {
        ...index.snapshot,
        generation: change.after,
        highKey: Math.max(index.snapshot.highKey, rows.length > 0 ? (keys[rows.length - 1] as number) : 0),
        removed: index.snapshot.removed + removedCount,
      };
    } catch {
      this.#indexes.delete(namespace);
    }
  }

  /** Saves indexes that changed a lot and forgets unusable files; call outside any transaction. */
  flush(): void {
    if (this.#sql.db.inTransaction) return;
    for (const namespace of this.#pendingDiscard) this.files.discard(namespace);
    this.#pendingDiscard.clear();
    for (const [namespace, meta] of this.#pendingSave) {
      this.#pendingSave.delete(namespace);
      const index = this.#indexes.get(namespace);
      if (index) this.files.save(meta, index);
    }
  }

  /**
   * Frees a namespace's exact matrix and HNSW index (a namespace retired by a cutover), as if it had not
   * been searched yet: the next search loads the index's persisted file and catches it up from SQLite
   * (changes since the last save included), or rebuilds it, and reloads the matrix. Returns the bytes
   * freed (the matrix's floats and the index's approximate size).
   */
  release(namespace: string): number {
    let freed = this.#matrices.get(namespace)?.bytes ?? 0;
    this.#matrices.delete(namespace);
    const index = this.#indexes.get(namespace);
    if (index) freed += index.approximateBytes();
    this.#indexes.delete(namespace);
    this.#pendingSave.delete(namespace);
    return freed;
  }

  /** Forgets a dropped namespace's structures; its row went with the namespace, `file` is deleted. */
  drop(namespace: string, file: string | null): void {
    this.#matrices.delete(namespace);
    this.#indexes.delete(namespace);
    this.#pendingSave.delete(namespace);
    this.files.removeFile(file);
  }

  /** Stops the builds in slices that are running (each at its next slice) and waits for them to end. */
  async stopBuilds(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#building.values());
  }

  /** Persists indexes with unsaved changes, then forgets everything. */
  close(metaOf: (namespace: string) => MetaRow | undefined): void {
    this.#closed = true;
    for (const [namespace, index] of this.#indexes) {
      if (index.unsaved === 0) continue;
      const meta = metaOf(namespace);
      if (meta && meta.created_at === index.snapshot.incarnation) this.#pendingSave.set(namespace, meta);
    }
    try {
      this.flush();
    } finally {
      this.#matrices.clear();
      this.#indexes.clear();
    }
  }

  /** The namespace's index when it is searched through one (read transaction), current to `meta`. */
  #annFor(meta: MetaRow): AnnIndex | null {
    let index = this.#indexes.get(meta.name);
    if (index && index.snapshot.incarnation !== meta.created_at) {
      this.#indexes.delete(meta.name);
      index = undefined;
    }
    if (index) {
      this.#bringUpToDate(meta, index);
      // Hysteresis: a namespace that shrank to half the threshold goes back to exact search.
      if (index.size * 2 < this.options.threshold) {
        this.#indexes.delete(meta.name);
        return null;
      }
      return this.#indexes.get(meta.name) ?? null;
    }
    const matrix = this.#matrices.get(meta.name);
    const size = matrix && matrix.generation === meta.generation ? matrix.size : this.#count(meta.name);
    if (size < this.options.threshold) return null;
    return this.#loadOrStartBuild(meta);
  }

  /**
   * A persisted file (caught up) when there is one; else a build in the background and null (answer
   * exactly), or with `buildOnSearch: 'inline'` the index built here.
   */
  #loadOrStartBuild(meta: MetaRow): AnnIndex | null {
    if (this.#building.has(meta.name)) return null;
    const params = annParams(this.options, meta.dimension, meta.metric);
    const loaded = this.files.load(meta, params, this.options.expansionSearch);
    if (!loaded && this.options.buildOnSearch === 'background') {
      this.#buildInBackground(meta.name, false);
      return null;
    }
    const index =
      loaded ?? buildIndex(this.#sql, meta, params, this.options.expansionSearch, this.options.buildThreads);
    if (!loaded) this.#pendingSave.set(meta.name, meta);
    this.#indexes.set(meta.name, index);
    this.#bringUpToDate(meta, index);
    return this.#indexes.get(meta.name) ?? null;
  }

  /** Catches an index up to `meta`, rebuilding it when removals have left too many tombstones. */
  #bringUpToDate(meta: MetaRow, index: AnnIndex): void {
    if (index.snapshot.generation !== meta.generation)
      catchUp(this.#sql, index, meta, this.options.buildThreads);
    // Tombstones slow the graph down: rebuild in the background while this index (still correct:
    // candidates are rescored from SQLite) serves.
    if (index.removedSinceBuild > Math.max(1_000, index.size)) {
      if (this.options.buildOnSearch === 'background') this.#buildInBackground(meta.name, true);
      else {
        const rebuilt = buildIndex(
          this.#sql,
          meta,
          index.params,
          this.options.expansionSearch,
          this.options.buildThreads,
        );
        this.#indexes.set(meta.name, rebuilt);
        this.#pendingSave.set(meta.name, meta);
        return;
      }
    }
    if (index.unsaved >= Math.max(10_000, index.size / 4)) this.#pendingSave.set(meta.name, meta);
  }

  /** Exact top-k of each request: the in-memory copy when it fits the budget, else one streaming pass over SQLite. */
  #exact(meta: MetaRow, requests: readonly ScanRequest[], keep: boolean): ScoredKey[][] {
    const cached = this.#matrices.get(meta.name);
    if (cached && cached.generation === meta.generation) {
      this.#touch(meta.name, cached);
      return cached.searchMany(requests);
    }
    const count = this.#count(meta.name);
    if (count * meta.dimension * 4 > this.options.exactCacheBytes) {
      if (cached) this.#matrices.delete(meta.name);
      return scanExactMany(this.#sql, meta, requests);
    }
    const matrix = this.#loadMatrix(meta, count);
    if (keep) {
      this.#touch(meta.name, matrix);
      this.#evict(meta.name);
    }
    return matrix.searchMany(requests);
  }

  /** Marks a matrix most recently used. */
  #touch(namespace: string, matrix: NamespaceMatrix): void {
    this.#matrices.delete(namespace);
    this.#matrices.set(namespace, matrix);
  }

  /**
   * Keeps the matrices within one `exactCacheBytes` budget for the whole store: the least recently used
   * other namespaces go first; `namespace`'s own goes last, when it alone is over (it then streams).
   */
  #evict(namespace: string): void {
    let total = 0;
    for (const m of this.#matrices.values()) total += m.bytes;
    for (const [name, m] of this.#matrices) {
      if (total <= this.options.exactCacheBytes) return;
      if (name === namespace) continue;
      this.#matrices.delete(name);
      total -= m.bytes;
    }
    if (total > this.options.exactCacheBytes) this.#matrices.delete(namespace);
  }

  #loadMatrix(meta: MetaRow, count: number): NamespaceMatrix {
    const matrix = new NamespaceMatrix(meta.dimension, meta.metric, meta.generation, count);
    const rows = this.#sql
      .get(SQL.loadSearchable)
      .raw()
      .iterate(meta.name, meta.fingerprint, meta.dimension * 4);
    for (const row of rows as Iterable<[number, string, string | null, string, Uint8Array]>) {
      matrix.append(row[0], row[1], row[2], row[3], row[4]);
    }
    return matrix;
  }

  /** Records of a namespace, counted on its index (foreign rows included: an upper bound of searchable ones). */
  #count(namespace: string): number {
    return this.#sql.get(SQL.countRecords).pluck().get(namespace) as number;
  }
}

export type { AnnSnapshot };
