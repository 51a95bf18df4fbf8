import { ReembedError } from '../../core/errors.js';
import type { Metric } from '../../core/space.js';

export const ANN_QUANTIZATIONS = ['auto', 'i8', 'f16', 'f32'] as const;
export type AnnQuantization = (typeof ANN_QUANTIZATIONS)[number];

/**
 * How the embedded store searches large namespaces. Namespaces with at least `threshold` searchable
 * records are searched through an HNSW index (usearch), whose candidates are rescored exactly from the
 * float32 vectors in SQLite; smaller ones, and every `exact: true` request, are searched exactly.
 *
 * @example
 * const backend = await openSqliteBackend({ path: 'reembed.db', ann: { threshold: 20_000 } });
 */
export interface SqliteAnnOptions {
  /** Records from which a namespace is searched through its HNSW index. Default 50,000; 0 = always; Infinity = never. */
  readonly threshold?: number;
  /**
   * Vector precision inside the index (candidates are always rescored in float32). `auto`: `i8` for cosine
   * namespaces (each vector scaled to use the full int8 range, which leaves cosines unchanged), `f16` for
   * dot and l2, whose values int8 cannot hold.
   */
  readonly quantization?: AnnQuantization;
  /** HNSW M: neighbours per node. Default 16. */
  readonly connectivity?: number;
  /** HNSW ef at build time. Default 128. */
  readonly expansionAdd?: number;
  /**
   * HNSW ef at search time (at least the candidates asked for). Default 256: on 1,000,000 real-structure
   * 384-d vectors recall@10 was 0.90 / 0.95 / 0.97 at ef 64 / 128 / 256, for p50 0.9 / 1.6 / 1.9 ms.
   */
  readonly expansionSearch?: number;
  /**
   * What a search does when its namespace has reached `threshold` and no index exists yet (none built,
   * no file): `background` (default) starts a build in slices that return to the event loop and answers
   * exactly until the index is installed — a server keeps serving through a build that takes minutes at
   * 100,000 records; `inline` builds the whole index inside that search (it holds the process until the
   * build ends), for scripts and tests that want every search answered by the index. `store.buildIndex`
   * (run after every backfill pass) always builds in slices.
   */
  readonly buildOnSearch?: 'background' | 'inline';
  /**
   * Threads that insert into the index: 0 (default) uses every core; 1 inserts serially. usearch's
   * concurrent insertion leaves a few records per ten thousand unreachable from the graph (0.03% of
   * 20,000 real-structure vectors; serial: none; bench/ann-reachability.ts) — such a record is never
   * returned by an ANN search. Choose 1 where that matters more than build time.
   */
  readonly buildThreads?: number;
  /**
   * Candidates taken from the index per query and rescored exactly: at least `minCandidates`, and k plus
   * k x (`oversample` - 1) but at most 64 more than k. Defaults 24 and 2 (100k real-structure vectors: 24
   * candidates gave the recall of 64 for k 10; k + 64 the recall of 2k for k 100).
   */
  readonly minCandidates?: number;
  readonly oversample?: number;
  /**
   * A filtered search asks the index for 4x more candidates each round while too few pass the filter, up
   * to this many; a filter more selective than that is answered by an exact scan. Default 4,096.
   */
  readonly maxCandidates?: number;
  /**
   * Where index files are persisted: default `<database file>.ann/` beside the SQLite file; `null` keeps
   * indexes in memory only (always the case for `:memory:` databases).
   */
  readonly dir?: string | null;
  /**
   * Exact search keeps a float32 copy of a namespace in memory when it takes at most this many bytes
   * (records x dimension x 4); larger namespaces are scanned from SQLite instead. Default 256 MiB.
   */
  readonly exactCacheBytes?: number;
}

export interface ResolvedAnnOptions {
  readonly threshold: number;
  readonly quantization: AnnQuantization;
  readonly connectivity: number;
  readonly expansionAdd: number;
  readonly expansionSearch: number;
  readonly buildOnSearch: 'background' | 'inline';
  readonly buildThreads: number;
  readonly minCandidates: number;
  readonly oversample: number;
  readonly maxCandidates: number;
  readonly dir: string | null;
  readonly exactCacheBytes: number;
}

/** What an index file was built with: a file built with other parameters is rebuilt, never reused. */
export interface AnnParams {
  readonly dimension: number;
  readonly metric: Metric;
  readonly quantization: Exclude<AnnQuantization, 'auto'>;
  readonly connectivity: number;
  readonly expansionAdd: number;
}

export const ANN_DEFAULTS = Object.freeze({
  threshold: 50_000,
  quantization: 'auto',
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 256,
  buildOnSearch: 'background',
  buildThreads: 0,
  minCandidates: 24,
  oversample: 2,
  maxCandidates: 4_096,
  exactCacheBytes: 256 * 2 ** 20,
} as const);

/** Validates options once, at the boundary; `dbPath` decides the default directory. */
export function resolveAnnOptions(options: SqliteAnnOptions | undefined, dbPath: string): ResolvedAnnOptions {
  const o = options ?? {};
  const threshold = o.threshold ?? ANN_DEFAULTS.threshold;
  if (!(threshold === Number.POSITIVE_INFINITY || (Number.isInteger(threshold) && threshold >= 0)))
    throw invalid('threshold', 'a non-negative integer or Infinity', threshold);
  const quantization = o.quantization ?? ANN_DEFAULTS.quantization;
  if (!ANN_QUANTIZATIONS.includes(quantization))
    throw invalid('quantization', `one of ${ANN_QUANTIZATIONS.join(', ')}`, quantization);
  const buildOnSearch = o.buildOnSearch ?? ANN_DEFAULTS.buildOnSearch;
  if (buildOnSearch !== 'background' && buildOnSearch !== 'inline')
    throw invalid('buildOnSearch', 'background or inline', buildOnSearch);
  const ints = {
    connectivity: [o.connectivity ?? ANN_DEFAULTS.connectivity, 2, 256],
    expansionAdd: [o.expansionAdd ?? ANN_DEFAULTS.expansionAdd, 1, 16_384],
    expansionSearch: [o.expansionSearch ?? ANN_DEFAULTS.expansionSearch, 1, 16_384],
    buildThreads: [o.buildThreads ?? ANN_DEFAULTS.buildThreads, 0, 1_024],
    minCandidates: [o.minCandidates ?? ANN_DEFAULTS.minCandidates, 1, 100_000],
    oversample: [o.oversample ?? ANN_DEFAULTS.oversample, 1, 1_000],
    maxCandidates: [o.maxCandidates ?? ANN_DEFAULTS.maxCandidates, 1, 1_000_000],
  } as const;
  for (const [field, [value, min, max]] of Object.entries(ints)) {
    if (!Number.isInteger(value) || value < min || value > max)
      throw invalid(field, `an integer from ${min} to ${max}`, value);
  }
  const exactCacheBytes = o.exactCacheBytes ?? ANN_DEFAULTS.exactCacheBytes;
  if (
    !(
      exactCacheBytes === Number.POSITIVE_INFINITY ||
      (Number.isSafeInteger(exactCacheBytes) && exactCacheBytes >= 0)
    )
  )
    throw invalid('exactCacheBytes', 'a non-negative integer or Infinity', exactCacheBytes);
  const memory = dbPath === ':memory:' || dbPath === '';
  const dir = o.dir === undefined ? (memory ? null : `${dbPath}.ann`) : o.dir;
  if (dir !== null && (typeof dir !== 'string' || dir.length === 0))
    throw invalid('dir', 'a directory path or null', dir);
  return Object.freeze({
    threshold,
    quantization,
    connectivity: ints.connectivity[0],
    expansionAdd: ints.expansionAdd[0],
    expansionSearch: ints.expansionSearch[0],
    buildOnSearch,
    buildThreads: ints.buildThreads[0],
    minCandidates: ints.minCandidates[0],
    oversample: ints.oversample[0],
    maxCandidates: ints.maxCandidates[0],
    dir: memory ? null : dir,
    exactCacheBytes,
  });
}

/** The index parameters of one namespace under these options. */
export function annParams(options: ResolvedAnnOptions, dimension: number, metric: Metric): AnnParams {
  const quantization =
    options.quantization !== 'auto' ? options.quantization : metric === 'cosine' ? 'i8' : 'f16';
  return Object.freeze({
    dimension,
    metric,
    // int8 holds components in [-1, 1] only: vectors of dot and l2 namespaces are not scaled to fit.
    quantization: quantization === 'i8' && metric !== 'cosine' ? 'f16' : quantization,
    connectivity: options.connectivity,
    expansionAdd: options.expansionAdd,
  });
}

export function sameParams(a: AnnParams, b: AnnParams): boolean {
  return (
    a.dimension === b.dimension &&
    a.metric === b.metric &&
    a.quantization === b.quantization &&
    a.connectivity === b.connectivity &&
    a.expansionAdd === b.expansionAdd
  );
}

function invalid(field: string, expected: string, value: unknown): ReembedError {
  return new ReembedError(
    'INVALID_INPUT',
    `SQLite ANN option ${field} must be ${expected}, got ${String(value)}.`,
    { details: { field: `ann.${field}` } },
  );
}
