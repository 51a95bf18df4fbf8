import type { RowPredicate } from '../shared/filter.js';
import { parseJsonObject } from '../shared/json.js';
import type { AnnParams, ResolvedAnnOptions } from './ann-config.js';
import { AnnIndex } from './ann-index.js';
import type { ScoredKey } from './matrix-cache.js';
import { RowScorer } from './row-scorer.js';
import { STORE_SQL as SQL } from './sql.js';
import type { StatementCache } from './statements.js';
import type { DetailRow, MetaRow } from './store-rows.js';
import { TopK } from './top-k.js';

/** A filter passing fewer records (or candidates) than this share is "selective" (see `annSearch`). */
const SELECTIVE = 0.05;

/** Rows added to an index per usearch call: bounds the float32 staging buffer (4,096 x 384 x 4 = 6 MiB). */
const CHUNK = 4_096;

/**
 * Builds a namespace's index from its searchable records in one call (read transaction: the index then
 * reflects exactly the snapshot at `meta.generation`). It holds the event loop until it ends: only for
 * `buildOnSearch: 'inline'`; `buildInSlices` is the default.
 */
export function buildIndex(
  sql: StatementCache,
  meta: MetaRow,
  params: AnnParams,
  expansionSearch: number,
  /** Insertion threads (`SqliteAnnOptions.buildThreads`: 0 = every core). */
  threads = 0,
): AnnIndex {
  const index = new AnnIndex(
    params,
    { incarnation: meta.created_at, generation: meta.generation, highKey: 0, removed: meta.removed },
    expansionSearch,
  );
  const highKey = addAfter(sql, index, meta, 0, threads);
  index.snapshot = { ...index.snapshot, highKey };
  return index;
}

/**
 * Brings an index from its snapshot to `meta.generation` using SQLite alone (read transaction): records
 * with keys above the snapshot's high key are added (keys only grow, in commit order), and when writes
 * have removed records since the snapshot (`ns_meta.removed` moved), the keys SQLite no longer has are
 * removed. This is what makes any older committed snapshot usable — a file saved long ago, or an index
 * left behind by another process's writes or by a rolled-back caller transaction.
 */
export function catchUp(sql: StatementCache, index: AnnIndex, meta: MetaRow, threads = 0): void {
  const highKey = addAfter(sql, index, meta, index.snapshot.highKey, threads);
  // The count is a safety net for removals nobody counted (rows deleted behind the store's back).
  const total = sql.get(SQL.countRecords).pluck().get(meta.name) as number;
  if (meta.removed !== index.snapshot.removed || index.size > total) removeMissing(sql, index, meta.name);
  index.snapshot = {
    incarnation: meta.created_at,
    generation: meta.generation,
    highKey,
    removed: meta.removed,
  };
}

/** Adds searchable records with keys above `after`; returns the new high key. */
function addAfter(
  sql: StatementCache,
  index: AnnIndex,
  meta: MetaRow,
  after: number,
  threads: number,
): number {
  const d = meta.dimension;
  const keys = new Float64Array(CHUNK);
  const vectors = new Float32Array(CHUNK * d);
  const bytes = new Uint8Array(vectors.buffer);
  let n = 0;
  let highKey = after;
  const rows = sql
    .get(SQL.searchableAfter)
    .raw()
    .iterate(after, meta.name, meta.fingerprint, d * 4) as Iterable<[number, Uint8Array]>;
  for (const [key, vector] of rows) {
    keys[n] = key;
    bytes.set(vector, n * d * 4);
    n++;
    highKey = key;
    if (n === CHUNK) {
      index.add(keys, vectors, n, threads);
      n = 0;
    }
  }
  index.add(keys, vectors, n, threads);
  return highKey;
}

/**
 * Adds at most `limit` searchable records with keys above `after` (read transaction): one slice of a build
 * that yields the event loop between slices. Returns the new high key and how many records it added
 * (fewer than `limit`: the namespace had no more).
 */
export function addSlice(
  sql: StatementCache,
  index: AnnIndex,
  meta: MetaRow,
  after: number,
  limit: number,
  threads: number,
): { highKey: number; added: number } {
  const d = meta.dimension;
  const rows = sql
    .get(SQL.searchableSlice)
    .raw()
    .all(after, meta.name, meta.fingerprint, d * 4, limit) as [number, Uint8Array][];
  const keys = new Float64Array(rows.length);
  const vectors = new Float32Array(rows.length * d);
  const bytes = new Uint8Array(vectors.buffer);
  rows.forEach(([key, vector], i) => {
    keys[i] = key;
    bytes.set(vector, i * d * 4);
  });
  index.add(keys, vectors, rows.length, threads);
  return { highKey: rows.length > 0 ? (keys[rows.length - 1] as number) : after, added: rows.length };
}

/** Removes index keys whose records are gone (a sorted merge of both key lists). */
function removeMissing(sql: StatementCache, index: AnnIndex, namespace: string): void {
  const present = Float64Array.from(sql.get(SQL.namespaceKeys).pluck().all(namespace) as number[]).sort();
  const held = index.keys();
  const gone: number[] = [];
  let j = 0;
  for (const key of held) {
    while (j < present.length && (present[j] as number) < key) j++;
    if (j >= present.length || present[j] !== key) gone.push(key);
  }
  index.remove(gone);
}

export interface AnnResult {
  /** Scored keys, or null when the caller must answer exactly (a filter too selective for the index). */
  readonly hits: ScoredKey[] | null;
  /** The index's distances disagree with the stored vectors: it does not describe these records. */
  readonly suspect: boolean;
}

/**
 * ANN top-k: candidates from the index, each checked against its SQLite row (same namespace and
 * fingerprint, a vector of the namespace's dimension — a deleted record has no row, a foreign one fails
 * the check), filtered, and rescored exactly from the stored float32 vector. When fewer than k candidates
 * pass a filter, the next round asks for as many as the pass rate so far needs (at least twice as many);
 * a filter that would need more than `maxCandidates` is too selective for the index, and the caller
 * scans exactly (read transaction).
 *
 * When the namespace's float32 copy is in memory (`passShare` given: the share of records passing the
 * filter, estimated from that copy), the path is chosen before the index is asked anything, by what each
 * would cost (`exactScanIsCheaper`): a selective filter is answered by the exact scan, which scores only
 * the rows that pass; a wider one goes through the rounds above. (Starting a wider filter with the
 * 2k / share candidates its share needs gained nothing at 100,000 x 384 with a 10% filter, 21.7 vs 21.4
 * ms, and was not kept.)
 */
export function annSearch(
  sql: StatementCache,
  index: AnnIndex,
  meta: MetaRow,
  query: Float32Array,
  k: number,
  predicate: RowPredicate | null,
  options: ResolvedAnnOptions,
  /**
   * The share of records passing `predicate`, estimated from the namespace's float32 copy when it is in
   * memory (an exact scan is cheap right now); null when it is not (an exact scan would stream SQLite).
   */
  passShare: number | null = null,
): AnnResult {
  const exactInMemory = passShare !== null;
  const size = index.size;
  if (predicate && exactInMemory && exactScanIsCheaper(size, passShare, k, predicate, options))
    return { hits: null, suspect: false };
  const limit = Math.min(size, Math.max(options.maxCandidates, options.minCandidates));
  // An index no larger than the search beam is visited whole anyway: take every record, so small
  // namespaces searched through an index get exact results.
  let want =
    size <= options.expansionSearch
      ? size
      : Math.min(size, Math.max(options.minCandidates, k * options.oversample));
  const candidate = sql.get(predicate ? SQL.filteredCandidate : SQL.candidate).raw();
  const rows = new Map<number, CandidateRow>();
  const scorer = new RowScorer(meta.metric, meta.dimension);
  const bytes = meta.dimension * 4;
  const needsMetadata = (predicate?.keys.length ?? 0) > 0;
  for (;;) {
    const found = index.search(query, want);
    const top = new TopK(k);
    let passed = 0;
    let checked = 0;
    let drifted = 0;
    let strangers = 0;
    for (let i = 0; i < found.keys.length; i++) {
      const key = found.keys[i] as number;
      const row = candidate.get(key, meta.name, meta.fingerprint, bytes) as CandidateRow | undefined;
      if (!row) {
        strangers++;
        continue;
      }
      if (predicate) {
        const tenant = row[1] as string | null;
        if (predicate.tenant !== undefined && tenant !== predicate.tenant) continue;
        if (needsMetadata && !predicate.matches(tenant, () => parseJsonObject(row[2] as string))) continue;
      } else rows.set(key, row);
      passed++;
      const score = scorer.score(query, row[0]);
      // A zero vector (score exactly 0) is indexed as an arbitrary direction: its distance says nothing.
      if (index.params.metric === 'cosine' && score !== 0) {
        checked++;
        if (drifts(index.params, found.distances[i] as number, score)) drifted++;
      }
      top.push(score, key);
    }
    // An index caught up to this snapshot holds exactly its searchable records: keys without such a row,
    // or distances that do not match the rows' vectors, mean the index belongs to other data.
    if (strangers * 4 > found.keys.length || (checked >= 4 && drifted * 4 > checked))
      return { hits: null, suspect: true };
    // The graph gave fewer keys than asked while holding more records: some are unreachable from the entry
    // point (HNSW can strand nodes: among near-zero vectors under the inner product, and usearch's concurrent
    // insertion leaves a few). Any of them could belong in the answer — certainly when every record was
    // asked for, as for a namespace no larger than the beam — so the answer is scanned exactly instead.
    const stranded = found.keys.length < Math.min(want, size);
    if (stranded) return { hits: null, suspect: false };
    if (passed >= k || found.keys.length < want || !predicate) {
      const best = top.sorted();
      const hits = best.rows.map((key, i) => {
        const row = rows.get(key);
        const score = best.scores[i] as number;
        return row ? { key, score, row: detailOf(meta, row as FullCandidateRow) } : { key, score };
      });
      return { hits, suspect: false };
    }
    // Too few passed the filter: ask for as many candidates as its pass rate so far suggests (with room),
    // or give up on the index when that is more than `maxCandidates`.
    const rate = Math.max(passed, 1) / found.keys.length;
    const needed = Math.ceil((2 * k) / rate);
    if (want >= limit || needed > limit) return { hits: null, suspect: false };
    // With the float32 copy in memory, a filter passing a few percent of the candidates near this query
    // (though more of the whole namespace: a filter correlated with the query) is cheaper to scan exactly
    // (the scan skips non-matching rows after one comparison) than to escalate candidates, each a SQLite
    // read.
    if (exactInMemory && rate < SELECTIVE) return { hits: null, suspect: false };
    want = Math.min(limit, Math.max(needed, want * 2));
  }
}

/**
 * Relative costs of the two ways to answer a filtered search while the float32 copy is in memory, in units
 * of one row scored by the exact scan (a 384-d dot product and a top-k push): a candidate from the index
 * (its SQLite row read, metadata parsed, rescored), a search of the graph, and the scan's filter test per
 * row with metadata (the parsed object looked up) and for a tenant alone. Measured with
 * bench/ann-filter-paths.ts; the timings behind each unit are in BENCHMARKS.md "Figures behind code choices".
 */
const COST = { candidate: 40, graph: 1_000, metadataTest: 0.3, tenantTest: 0.01 } as const;

/**
 * Whether the exact scan of the in-memory copy answers a filter passing `share` of `size` records more
 * cheaply than the index would: the scan tests every row and scores those that pass; the index is searched
 * once and twice k passing candidates need 2k / share candidates read from SQLite. At 100,000 x 384 and
 * k 10 a filter passing 1% goes to the scan and 10% or 50% to the index; small namespaces scan (the
 * measured choices are in BENCHMARKS.md "Figures behind code choices").
 */
export function exactScanIsCheaper(
  size: number,
  share: number,
  k: number,
  predicate: RowPredicate,
  options: Pick<ResolvedAnnOptions, 'minCandidates' | 'oversample'>,
): boolean {
  if (share <= 0) return true;
  const test = predicate.keys.length > 0 ? COST.metadataTest : COST.tenantTest;
  const scan = size * share + size * test;
  const candidates = Math.max(options.minCandidates, k * options.oversample, Math.ceil((2 * k) / share));
  return scan <= COST.graph + COST.candidate * candidates;
}

/** `[vector, tenant, metadata]` of a filtered search, or `FullCandidateRow`. */
type CandidateRow = [Uint8Array, ...unknown[]];
/** `[vector, record_id, source_id, content_hash, source_version, embedded_at, tenant, metadata, text]`. */
type FullCandidateRow = [Uint8Array, string, string, string, number, string, string | null, string, string];

function detailOf(meta: MetaRow, r: FullCandidateRow): DetailRow {
  return {
    namespace: meta.name,
    fingerprint: meta.fingerprint,
    record_id: r[1],
    source_id: r[2],
    content_hash: r[3],
    source_version: r[4],
    embedded_at: r[5],
    tenant: r[6],
    metadata: r[7],
    text: r[8],
  };
}

/**
 * Whether a cosine index's distance for a candidate is too far from its exact cosine to come from the
 * same vector. Quantisation moves a cosine by far less than these bounds (int8: ~0.01 typical), while a
 * key pointing at another record's vector typically differs by tenths. (Dot and l2 scores have no fixed
 * scale, so only cosine indexes are checked this way; every index is checked row by row.)
 */
function drifts(params: AnnParams, distance: number, score: number): boolean {
  const tolerance = params.quantization === 'i8' ? 0.25 : params.quantization === 'f16' ? 0.02 : 0.001;
  return !(Math.abs(1 - distance - score) <= tolerance);
}
