import type { Table as ArrowTable } from 'apache-arrow';
import type { SearchHit } from '../../core/records.js';
import type { Metric } from '../../core/space.js';
import { dot } from '../../core/vector.js';
import type { RowPredicate } from '../shared/filter.js';
import { parsedObjectAt, parseJsonObject } from '../shared/json.js';
import { usearch } from '../shared/usearch.js';
import type { LanceTableLike } from './lance-types.js';
import { columnOf } from './read.js';
import { ROW_COLUMNS, scoreOf, storedVector } from './search.js';

/** The columns a hit needs, read once for every searchable row of a namespace. */
const SNAPSHOT_COLUMNS = [...ROW_COLUMNS];

/** One search of a snapshot: the stored-form query (`storedVector`), its k and its compiled filter. */
export interface SnapshotQuery {
  readonly vector: Float32Array;
  readonly k: number;
  readonly predicate: RowPredicate | null;
}

/**
 * Every searchable row of a namespace read by one LanceDB query — one table version, so a batch of
 * searches sees one point in time and never a row a delete had removed from it — with its vectors copied
 * into one float32 matrix. Each search is then answered in memory exactly as `exactSearch` answers it in
 * LanceDB: the true top-k by double-precision score, ties by chunk id, filtered rows never considered.
 */
export class NamespaceSnapshot {
  readonly #metric: Metric;
  readonly #dimension: number;
  readonly #matrix: Float32Array;
  readonly #count: number;
  readonly #chunkIds: string[];
  readonly #tenants: (string | null)[];
  readonly #metadata: string[];
  readonly #parsed: (Readonly<Record<string, unknown>> | undefined)[];
  readonly #columns: {
    sourceIds: string[];
    fingerprints: string[];
    hashes: string[];
    versions: number[];
    embeddedAt: string[];
    texts: string[];
  };

  private constructor(result: ArrowTable, metric: Metric, dimension: number) {
    this.#metric = metric;
    this.#dimension = dimension;
    this.#count = result.numRows;
    this.#chunkIds = columnOf<string>(result, 'record_id');
    this.#tenants = columnOf<string | null>(result, 'tenant').map((t) => t ?? null);
    this.#metadata = columnOf<string>(result, 'metadata');
    this.#parsed = new Array(this.#count);
    this.#columns = {
      sourceIds: columnOf<string>(result, 'source_id'),
      fingerprints: columnOf<string>(result, 'fingerprint'),
      hashes: columnOf<string>(result, 'content_hash'),
      versions: columnOf<number>(result, 'source_version'),
      embeddedAt: columnOf<string>(result, 'embedded_at'),
      texts: columnOf<string>(result, 'text'),
    };
    this.#matrix = new Float32Array(this.#count * dimension);
    const vectors = result.getChild('vector');
    let start = 0;
    for (const chunk of (vectors?.data ?? []) as readonly VectorChunk[]) {
      if (!copyChunk(chunk, this.#matrix, start, dimension)) {
        for (let i = start; i < start + chunk.length; i++) {
          const row = (vectors?.get(i) as { toArray(): Float32Array } | null)?.toArray();
          // The column is a fixed-size list of the namespace's dimension: anything else is not this namespace's.
          if (!row || row.length !== dimension)
            throw new Error(`LanceDB row ${i} has no ${dimension}-d vector`);
          this.#matrix.set(row, i * dimension);
        }
      }
      start += chunk.length;
    }
    if (start !== this.#count) throw new Error(`LanceDB returned ${start} vectors for ${this.#count} rows`);
  }

  /** Reads the rows matching `where` (the namespace's chunks of its own fingerprint) in one query. */
  static async read(
    table: LanceTableLike,
    where: string,
    metric: Metric,
    dimension: number,
  ): Promise<NamespaceSnapshot> {
    const result = await table.query().where(where).select(SNAPSHOT_COLUMNS).toArrow();
    return new NamespaceSnapshot(result, metric, dimension);
  }

  get size(): number {
    return this.#count;
  }

  search(query: SnapshotQuery): SearchHit[] {
    const q = storedVector(this.#metric, query.vector);
    const rows = query.predicate ? this.#filtered(query.predicate) : this.#candidates(q, query.k);
    return this.#ranked(q, rows)
      .slice(0, query.k)
      .map(({ row, score }) => this.#hit(row, score));
  }

  /**
   * Unfiltered: usearch's SIMD float32 scan for candidates, widened like `exactSearch` widens LanceDB's
   * scan (until the last candidate is clearly worse than the k-th), so the double-precision re-ranking
   * cannot miss a row float32 placed just past the cut.
   */
  #candidates(q: Float32Array, k: number): number[] {
    const n = this.#count;
    if (k === 0 || n === 0) return [];
    const { exactSearch, MetricKind } = usearch();
    const kind = this.#metric === 'l2' ? MetricKind.L2sq : MetricKind.IP;
    const data = this.#matrix;
    const scale = this.#metric === 'cosine' ? 1 : 1 + dot(q, q);
    let fetch = Math.min(n, 2 * k + 8);
    for (;;) {
      const found = exactSearch(data, q, this.#dimension, fetch, kind) as {
        keys: BigUint64Array;
        distances: Float32Array;
      };
      const kth = found.distances[Math.min(k, fetch) - 1];
      const last = found.distances[fetch - 1];
      const tolerance = 1e-4 * (scale + Math.abs(kth ?? 0));
      if (fetch >= n || kth === undefined || last === undefined || last - kth > tolerance)
        return Array.from(found.keys, (key) => Number(key));
      fetch = Math.min(n, fetch * 4);
    }
  }

  #filtered(predicate: RowPredicate): number[] {
    const rows: number[] = [];
    const needsMetadata = predicate.keys.length > 0;
    for (let row = 0; row < this.#count; row++) {
      const tenant = this.#tenants[row] as string | null;
      if (predicate.tenant !== undefined && tenant !== predicate.tenant) continue;
      if (needsMetadata && !predicate.matches(tenant, () => this.#metadataOf(row))) continue;
      rows.push(row);
    }
    return rows;
  }

  /** The rows rescored in double precision from their stored vectors, best first, ties by chunk id. */
  #ranked(q: Float32Array, rows: readonly number[]): { row: number; score: number; chunkId: string }[] {
    const d = this.#dimension;
    const scored = rows.map((row) => ({
      row,
      score: scoreOf(this.#metric, q, this.#matrix.subarray(row * d, row * d + d)),
      chunkId: this.#chunkIds[row] as string,
    }));
    return scored.sort(
      (a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : a.chunkId > b.chunkId ? 1 : 0),
    );
  }

  #hit(row: number, score: number): SearchHit {
    const c = this.#columns;
    const sourceId = c.sourceIds[row] as string;
    const chunkId = this.#chunkIds[row] as string;
    return Object.freeze({
      sourceId,
      chunkId,
      score,
      text: c.texts[row] as string,
      metadata: Object.freeze(parseJsonObject(this.#metadata[row] as string)),
      tenant: this.#tenants[row] ?? null,
      provenance: Object.freeze({
        fingerprint: c.fingerprints[row] as string,
        sourceId,
        chunkId,
        contentHash: c.hashes[row] as string,
        sourceVersion: c.versions[row] as number,
        embeddedAt: c.embeddedAt[row] as string,
      }),
    });
  }

  #metadataOf(row: number): Readonly<Record<string, unknown>> {
    return parsedObjectAt(this.#metadata, this.#parsed, row);
  }
}

/** One record batch's slice of the vector column (a fixed-size list over float32 values). */
interface VectorChunk {
  readonly length: number;
  readonly nullCount: number;
  readonly stride: number;
  readonly children: readonly { readonly values: unknown; readonly length: number }[];
}

/**
 * Copies a batch's vectors in one `set` when the column is what a namespace writes — a null-free fixed-size
 * list of `dimension` float32 values laid out contiguously — else returns false (the caller reads row by
 * row, which also rejects a row without a vector).
 */
function copyChunk(chunk: VectorChunk, into: Float32Array, start: number, dimension: number): boolean {
  const values = chunk.children[0]?.values;
  if (chunk.nullCount !== 0 || chunk.stride !== dimension || !(values instanceof Float32Array)) return false;
  const n = chunk.length * dimension;
  if (values.length < n) return false;
  into.set(values.subarray(0, n), start * dimension);
  return true;
}

/** How long a batch-search snapshot is held for the next batch after its last use. */
const SNAPSHOT_IDLE_MS = 5_000;

/**
 * The snapshot of the last `searchMany`, kept for the next one on the same table version (a probe or golden
 * evaluation searches a namespace in several batches). One at a time, dropped by a write through this
 * store, a drop, or after `SNAPSHOT_IDLE_MS` unused; a commit by another process moves the table version,
 * so a held snapshot is never served for a newer version.
 */
export class SnapshotCache {
  #held: {
    readonly namespace: string;
    readonly table: object;
    readonly where: string;
    readonly version: number;
    readonly snapshot: NamespaceSnapshot;
  } | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  get(table: object, where: string, version: number): NamespaceSnapshot | null {
    const held = this.#held;
    if (!held || held.table !== table || held.where !== where || held.version !== version) return null;
    this.#touch();
    return held.snapshot;
  }

  set(namespace: string, table: object, where: string, version: number, snapshot: NamespaceSnapshot): void {
    this.#held = { namespace, table, where, version, snapshot };
    this.#touch();
  }

  forget(namespace: string): void {
    if (this.#held?.namespace === namespace) this.clear();
  }

  clear(): void {
    this.#held = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #touch(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.clear(), SNAPSHOT_IDLE_MS);
    this.#timer.unref?.();
  }
}
