import type { Index } from 'usearch';
import type { AnnParams } from './ann-config.js';
import { KeyList } from './key-list.js';
import { usearch } from './usearch.js';

/** The state of the namespace an index reflects: every searchable record of that committed snapshot. */
export interface AnnSnapshot {
  /** `ns_meta.created_at`: a dropped and re-created namespace restarts its generations. */
  readonly incarnation: string;
  readonly generation: number;
  /** Largest record key the snapshot held (keys only grow, so later records have larger keys). */
  readonly highKey: number;
  /** `ns_meta.removed` at the snapshot: when it moved on, some keys of the index may be gone. */
  readonly removed: number;
}

export interface AnnCandidates {
  readonly keys: Float64Array;
  /** The index's distance per key (lower is closer): 1 − cosine, 1 − dot, or squared l2. */
  readonly distances: Float32Array;
}

/**
 * An HNSW index (usearch) over one namespace, keyed by `records.key`. It is only a source of candidates:
 * the store rescores them from SQLite, so a stale or wrong index can cost recall but never return a
 * record that is deleted or of another space.
 *
 * Cosine indexes get each vector divided by its largest |component|: that leaves every cosine unchanged,
 * spreads an int8 vector over the whole range (a unit 384-d vector has components around ±0.05, which
 * x127 would round to a handful of levels) and keeps tiny vectors from underflowing. A zero vector has no
 * direction (its cosine with anything is 0, which rescoring computes): it is indexed as the first axis, so
 * the graph never holds an undefined distance.
 */
export class AnnIndex {
  readonly params: AnnParams;
  snapshot: AnnSnapshot;
  /** Records removed since the graph was built: removals leave tombstones that slow searches down. */
  removedSinceBuild = 0;
  /** Changes since the index was last saved to (or loaded from) its file. */
  unsaved = 0;
  /** Whether it was built in this process or loaded from a persisted file. */
  origin: 'built' | 'file' = 'built';
  readonly #index: Index;
  readonly #keys: KeyList;
  readonly #scaled: boolean;

  constructor(params: AnnParams, snapshot: AnnSnapshot, expansionSearch: number, keys = new KeyList()) {
    this.params = params;
    this.snapshot = snapshot;
    this.#keys = keys;
    this.#scaled = params.metric === 'cosine';
    const { Index, MetricKind, ScalarKind } = usearch();
    const metrics = { cosine: MetricKind.Cos, dot: MetricKind.IP, l2: MetricKind.L2sq } as const;
    const scalars = { i8: ScalarKind.I8, f16: ScalarKind.F16, f32: ScalarKind.F32 } as const;
    this.#index = new Index({
      dimensions: params.dimension,
      metric: metrics[params.metric],
      quantization: scalars[params.quantization],
      connectivity: params.connectivity,
      expansion_add: params.expansionAdd,
      expansion_search: expansionSearch,
      multi: false,
    });
  }

  /** Loads a saved file; `keys` are the keys it was saved with (the caller checks the count). */
  static load(
    path: string,
    params: AnnParams,
    snapshot: AnnSnapshot,
    expansionSearch: number,
    keys: KeyList,
  ): AnnIndex {
    const index = new AnnIndex(params, snapshot, expansionSearch, keys);
    index.#index.load(path);
    index.origin = 'file';
    return index;
  }

  get size(): number {
    return this.#index.size();
  }

  /** Keys held, ascending (a copy). */
  keys(): Float64Array {
    return this.#keys.toArray();
  }

  /**
   * Adds `count` vectors (float32 rows of `vectors`, in place: scaled rows are overwritten). Keys must be
   * new; they are appended to the key list in order. `threads` 0 inserts on every core (usearch's
   * concurrent insertion leaves a few nodes per ten thousand unreachable, which the exact rescoring cannot
   * bring back: bench/ann-reachability.ts); 1 inserts serially, without that loss.
   */
  add(keys: Float64Array, vectors: Float32Array, count: number, threads = 0): void {
    if (count === 0) return;
    const d = this.params.dimension;
    const rows = vectors.subarray(0, count * d);
    if (this.#scaled) for (let r = 0; r < count; r++) scaleToUnitMax(rows, r * d, d);
    const big = new BigUint64Array(count);
    for (let i = 0; i < count; i++) big[i] = BigInt(keys[i] as number);
    this.#index.add(big, rows, threads);
    for (let i = 0; i < count; i++) this.#keys.add(keys[i] as number);
    this.unsaved += count;
  }

  remove(keys: readonly number[]): void {
    if (keys.length === 0) return;
    const big = BigUint64Array.from(keys, (k) => BigInt(k));
    this.#index.remove(big);
    for (const key of keys) this.#keys.remove(key);
    this.removedSinceBuild += keys.length;
    this.unsaved += keys.length;
  }

  /** The `count` nearest keys to a query (already unit length for cosine), nearest first. */
  search(query: Float32Array, count: number): AnnCandidates {
    const size = this.size;
    const want = Math.min(count, size);
    if (want === 0) return { keys: new Float64Array(0), distances: new Float32Array(0) };
    const q = Float32Array.from(query);
    if (this.#scaled) scaleToUnitMax(q, 0, q.length);
    const found = this.#index.search(q, want, 1);
    const keys = new Float64Array(found.keys.length);
    for (let i = 0; i < keys.length; i++) keys[i] = Number(found.keys[i]);
    return { keys, distances: found.distances };
  }

  save(path: string): void {
    this.#index.save(path);
    this.unsaved = 0;
  }

  /** Approximate resident bytes: quantised vectors plus the level-0 graph (4-byte neighbour slots). */
  approximateBytes(): number {
    const perScalar = this.params.quantization === 'i8' ? 1 : this.params.quantization === 'f16' ? 2 : 4;
    return this.size * (this.params.dimension * perScalar + this.params.connectivity * 2 * 4 + 16);
  }
}

/** Divides a row by its largest |component| (cosine is unchanged by it); a zero row becomes the first axis. */
function scaleToUnitMax(rows: Float32Array, offset: number, d: number): void {
  let max = 0;
  for (let i = offset; i < offset + d; i++) {
    const a = Math.abs(rows[i] as number);
    if (a > max) max = a;
  }
  if (max === 0) {
    rows[offset] = 1;
    return;
  }
  const inv = 1 / max;
  for (let i = offset; i < offset + d; i++) rows[i] = (rows[i] as number) * inv;
}
