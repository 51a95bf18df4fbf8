import type { Metric } from '../../core/space.js';
import { dot, normalizeInPlace } from '../../core/vector.js';
import type { RowPredicate } from '../shared/filter.js';
import { parsedObjectAt } from '../shared/json.js';
import { BatchTopK, BLOCK_ROWS, gamma } from './batch-top-k.js';
import type { DetailRow } from './store-rows.js';
import { TopK } from './top-k.js';
import { usearch } from './usearch.js';

/** One scored record of a search (by `records.key`), with its details when they were read already. */
export interface ScoredKey {
  readonly key: number;
  readonly score: number;
  readonly row?: DetailRow;
}

/** Records `passShare` checks in a large namespace (a 1% filter: ~5 of them pass; 10%: ~51). */
const PASS_SAMPLE = 512;
const GOLDEN = (Math.sqrt(5) - 1) / 2;
/**
 * Batches smaller than this go through usearch's native exact search one query at a time (candidates
 * certified below), which beats the WebAssembly kernel for a query or two (BENCHMARKS.md, "Cheap cutover
 * gates on SQLite").
 */
const KERNEL_BATCH = 4;

/**
 * The in-memory search copy of one namespace: every vector in one contiguous Float32Array (rows are
 * dense, deletes swap the last row into the hole) with parallel arrays of what filters need.
 * Cosine namespaces keep unit-length copies, so cosine is an inner product.
 *
 * `generation` is the `ns_meta.generation` this copy reflects; the store reloads when SQLite moves on.
 */
export class NamespaceMatrix {
  readonly dimension: number;
  readonly metric: Metric;
  generation: number;
  #matrix: Float32Array;
  /** Byte view of `#matrix`, so stored BLOBs are copied in without a per-row view. */
  #bytes: Uint8Array;
  #count = 0;
  #keys: Float64Array;
  /** Squared norm of each stored row (after cosine normalisation), for the batched kernel's error bound. */
  #sqNorms: Float64Array;
  /** An upper bound of every row's squared norm (not lowered by removals). */
  #maxSqNorm = 0;
  readonly #sourceIds: string[] = [];
  readonly #tenants: (string | null)[] = [];
  readonly #metadata: string[] = [];
  readonly #parsed: (Readonly<Record<string, unknown>> | undefined)[] = [];
  /** Rows of each source: a bare row number for the common one-chunk source, saving an array each. */
  readonly #bySource = new Map<string, number | number[]>();

  constructor(dimension: number, metric: Metric, generation: number, capacity = 0) {
    this.dimension = dimension;
    this.metric = metric;
    this.generation = generation;
    this.#matrix = new Float32Array(Math.max(capacity, 16) * dimension);
    this.#bytes = new Uint8Array(this.#matrix.buffer);
    this.#keys = new Float64Array(Math.max(capacity, 16));
    this.#sqNorms = new Float64Array(Math.max(capacity, 16));
  }

  /** Bytes held by the float32 rows (what the exact cache budget counts). */
  get bytes(): number {
    return this.#count * this.dimension * 4;
  }

  get size(): number {
    return this.#count;
  }

  /** Appends one record; `vector` is the stored little-endian float32 bytes (exactly dimension x 4). */
  append(key: number, sourceId: string, tenant: string | null, metadata: string, vector: Uint8Array): void {
    const d = this.dimension;
    const row = this.#count;
    this.#reserve(row + 1);
    this.#bytes.set(vector.byteLength === d * 4 ? vector : vector.subarray(0, d * 4), row * d * 4);
    if (this.metric === 'cosine') this.#normalizeRow(row);
    this.#sqNorms[row] = this.#squaredNorm(row);
    this.#maxSqNorm = Math.max(this.#maxSqNorm, this.#sqNorms[row] as number);
    this.#keys[row] = key;
    this.#sourceIds[row] = sourceId;
    this.#tenants[row] = tenant;
    this.#metadata[row] = metadata;
    this.#parsed[row] = undefined;
    const rows = this.#bySource.get(sourceId);
    if (rows === undefined) this.#bySource.set(sourceId, row);
    else if (typeof rows === 'number') this.#bySource.set(sourceId, [rows, row]);
    else rows.push(row);
    this.#count = row + 1;
  }

  /** Removes every record of a source (a replaced or deleted source), keeping rows dense. */
  removeSource(sourceId: string): void {
    const rows = this.#bySource.get(sourceId);
    if (rows === undefined) return;
    this.#bySource.delete(sourceId);
    if (typeof rows === 'number') this.#removeRow(rows);
    else for (const row of [...rows].sort((a, b) => b - a)) this.#removeRow(row);
  }

  /**
   * Exact top-k of each request: the k rows of highest double-precision score, a tie going to the
   * earlier row, whichever path runs. Unfiltered requests are scored together, a block of rows against
   * every query at once (`BatchTopK`: a float32 SIMD kernel, exact rescoring of the rows that can
   * still enter a top-k); filtered ones by a scan of their matching rows. Higher is better for every
   * metric (l2 scores are −squared distance).
   */
  searchMany(
    requests: readonly { query: Float32Array; k: number; predicate: RowPredicate | null }[],
  ): ScoredKey[][] {
    const queries = requests.map(({ query }) => {
      const q = Float32Array.from(query);
      return this.metric === 'cosine' ? normalizeInPlace(q) : q;
    });
    const n = this.#count;
    const results: number[][] = requests.map(() => []);
    const unfiltered: number[] = [];
    requests.forEach(({ k, predicate }, i) => {
      const want = Math.min(k, n);
      if (want === 0) return;
      if (predicate) results[i] = this.#scan(queries[i] as Float32Array, want, predicate);
      else unfiltered.push(i);
    });
    if (unfiltered.length > 0) {
      const batch = this.#exactMany(
        unfiltered.map((i) => queries[i] as Float32Array),
        unfiltered.map((i) => Math.min((requests[i] as { k: number }).k, n)),
      );
      unfiltered.forEach((i, at) => {
        results[i] = batch[at] as number[];
      });
    }
    return results.map((rows, i) =>
      rows.map((row) => ({
        key: this.#keys[row] as number,
        score: this.#score(queries[i] as Float32Array, row),
      })),
    );
  }

  /**
   * The share of records that pass `predicate`: counted over every record of a namespace of up to
   * `sample` records, else estimated from `sample` records spread over the rows by the golden-ratio
   * sequence (not a fixed stride, which would alias with periodic tenants or metadata). Costs `sample`
   * predicate checks (metadata parsed once per row and kept), so a search can choose its path before
   * paying for either.
   */
  passShare(predicate: RowPredicate, sample = PASS_SAMPLE): number {
    const n = this.#count;
    if (n === 0) return 0;
    const needsMetadata = predicate.keys.length > 0;
    const passes = (row: number): boolean => {
      const tenant = this.#tenants[row] as string | null;
      if (predicate.tenant !== undefined && tenant !== predicate.tenant) return false;
      return !needsMetadata || predicate.matches(tenant, () => this.#metadataOf(row));
    };
    let passed = 0;
    if (n <= sample) {
      for (let row = 0; row < n; row++) if (passes(row)) passed++;
      return passed / n;
    }
    let x = 0.5;
    for (let i = 0; i < sample; i++) {
      x += GOLDEN;
      if (x >= 1) x -= 1;
      if (passes(Math.floor(x * n))) passed++;
    }
    return passed / sample;
  }

  /** Top rows of unfiltered queries: usearch with a certificate for a small batch, else the kernel. */
  #exactMany(queries: readonly Float32Array[], ks: readonly number[]): number[][] {
    if (queries.length >= KERNEL_BATCH) return this.#kernelMany(queries, ks);
    const out = queries.map((q, i) => this.#certified(q, ks[i] as number));
    const rest = out.flatMap((rows, i) => (rows ? [] : [i]));
    if (rest.length > 0) {
      const more = this.#kernelMany(
        rest.map((i) => queries[i] as Float32Array),
        rest.map((i) => ks[i] as number),
      );
      rest.forEach((i, at) => {
        out[i] = more[at] as number[];
      });
    }
    return out as number[][];
  }

  /**
   * The kernel path's answer through usearch's float32 exact search, or null when it cannot be certified:
   * `want` + max(16, want) candidates are rescored in double precision, and they hold the answer when the
   * want-th best rescored score beats the lowest candidate's float32 score by more than float32's error
   * bound (every row left out scores at most that plus the bound). A tie across that line, or too narrow
   * a gap, goes to the kernel path instead.
   */
  #certified(q: Float32Array, want: number): number[] | null {
    const n = this.#count;
    const d = this.dimension;
    const asked = Math.min(n, want + Math.max(16, want));
    const l2 = this.metric === 'l2';
    const { exactSearch, MetricKind } = usearch();
    const result = exactSearch(
      this.#matrix.subarray(0, n * d),
      q,
      d,
      asked,
      l2 ? MetricKind.L2sq : MetricKind.IP,
    ) as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    if (result.keys.length !== asked) return null;
    const scored = Array.from(result.keys, (key) => {
      const row = Number(key);
      return { row, score: this.#score(q, row) };
    }).sort((a, b) => b.score - a.score || a.row - b.row);
    const rows = scored.slice(0, want).map((s) => s.row);
    if (asked === n) return rows;
    let lowest = Number.POSITIVE_INFINITY;
    for (const distance of result.distances) lowest = Math.min(lowest, l2 ? -distance : 1 - distance);
    let qq = 0;
    for (let i = 0; i < d; i++) qq += (q[i] as number) * (q[i] as number);
    const qn = Math.sqrt(qq);
    const xn = Math.sqrt(this.#maxSqNorm);
    const bound = l2 ? gamma(d) * (qn + xn) ** 2 + 1e-12 : gamma(d) * qn * xn + 2 ** -22 * (1 + qn * xn);
    return (scored[want - 1] as { score: number }).score > lowest + bound ? rows : null;
  }

  #kernelMany(queries: readonly Float32Array[], ks: readonly number[]): number[][] {
    const d = this.dimension;
    const top = new BatchTopK(this.metric, d, queries, ks, true);
    const ids = new Float64Array(BLOCK_ROWS);
    for (let start = 0; start < this.#count; start += BLOCK_ROWS) {
      const count = Math.min(BLOCK_ROWS, this.#count - start);
      for (let r = 0; r < count; r++) ids[r] = start + r;
      top.push(
        {
          vectors: this.#matrix.subarray(start * d, (start + count) * d),
          count,
          sqNorms: this.#sqNorms.subarray(start, start + count),
          ids,
        },
        (j, r) => this.#score(queries[j] as Float32Array, start + r),
      );
    }
    return top.heaps.map((heap) => heap.sorted().rows);
  }

  #scan(q: Float32Array, want: number, predicate: RowPredicate): number[] {
    const top = new TopK(want);
    const needsMetadata = predicate.keys.length > 0;
    for (let row = 0; row < this.#count; row++) {
      const tenant = this.#tenants[row] as string | null;
      if (predicate.tenant !== undefined && tenant !== predicate.tenant) continue;
      if (needsMetadata && !predicate.matches(tenant, () => this.#metadataOf(row))) continue;
      top.push(this.#score(q, row), row);
    }
    return top.sorted().rows;
  }

  #score(q: Float32Array, row: number): number {
    const d = this.dimension;
    if (this.metric !== 'l2') return dot(q, this.#matrix, row * d);
    const m = this.#matrix;
    const base = row * d;
    let sum = 0;
    for (let i = 0; i < d; i++) {
      const diff = (q[i] as number) - (m[base + i] as number);
      sum += diff * diff;
    }
    return -sum;
  }

  #metadataOf(row: number): Readonly<Record<string, unknown>> {
    return parsedObjectAt(this.#metadata, this.#parsed, row);
  }

  #removeRow(row: number): void {
    const last = this.#count - 1;
    if (row !== last) {
      const d = this.dimension;
      this.#matrix.copyWithin(row * d, last * d, last * d + d);
      const moved = this.#sourceIds[last] as string;
      this.#keys[row] = this.#keys[last] as number;
      this.#sqNorms[row] = this.#sqNorms[last] as number;
      this.#sourceIds[row] = moved;
      this.#tenants[row] = this.#tenants[last] as string | null;
      this.#metadata[row] = this.#metadata[last] as string;
      this.#parsed[row] = this.#parsed[last];
      const rows = this.#bySource.get(moved);
      if (typeof rows === 'number') this.#bySource.set(moved, row);
      else if (rows) rows[rows.indexOf(last)] = row;
    }
    this.#sourceIds.length = last;
    this.#tenants.length = last;
    this.#metadata.length = last;
    this.#parsed.length = last;
    this.#count = last;
  }

  #reserve(rows: number): void {
    const d = this.dimension;
    if (rows * d <= this.#matrix.length) return;
    const capacity = Math.max(rows, Math.ceil((this.#matrix.length / d) * 1.5));
    const grown = new Float32Array(capacity * d);
    grown.set(this.#matrix.subarray(0, this.#count * d));
    this.#matrix = grown;
    this.#bytes = new Uint8Array(grown.buffer);
    const keys = new Float64Array(capacity);
    keys.set(this.#keys.subarray(0, this.#count));
    this.#keys = keys;
    const sqNorms = new Float64Array(capacity);
    sqNorms.set(this.#sqNorms.subarray(0, this.#count));
    this.#sqNorms = sqNorms;
  }

  #squaredNorm(row: number): number {
    const m = this.#matrix;
    const start = row * this.dimension;
    let sum = 0;
    for (let i = start; i < start + this.dimension; i++) sum += (m[i] as number) * (m[i] as number);
    return sum;
  }

  #normalizeRow(row: number): void {
    const m = this.#matrix;
    const start = row * this.dimension;
    const end = start + this.dimension;
    let sum = 0;
    for (let i = start; i < end; i++) sum += (m[i] as number) * (m[i] as number);
    if (sum === 0) return;
    const inv = 1 / Math.sqrt(sum);
    for (let i = start; i < end; i++) m[i] = (m[i] as number) * inv;
  }
}
