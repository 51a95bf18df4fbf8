import { ReembedError } from '../../core/errors.js';
import type { Metric } from '../../core/space.js';
import { dot } from '../../core/vector.js';
import { usearch } from '../shared/usearch.js';
import { LITTLE_ENDIAN } from './codec.js';
import type { PgQueryable } from './pool.js';
import * as R from './sql-records.js';

/** One exact, unfiltered search of a batch: the query as the namespace stores vectors (unit for cosine). */
export interface BatchQuery {
  readonly vector: Float32Array;
  readonly k: number;
}

/** Candidate keys of one query: parallel arrays, as `candidateSearchSql` takes them. */
export interface CandidateKeys {
  readonly sourceIds: string[];
  readonly chunkIndexes: number[];
}

/** Bytes of float32 vectors per page read (the page's bytea and its copy are about twice this). */
export const PAGE_BYTES = 16 * 2 ** 20;

/** Index scans on for this transaction, returning the setting it had. */
const INDEX_SCANS_ON_SQL =
  "SELECT current_setting('enable_indexscan') AS was, set_config('enable_indexscan', 'on', true)";

interface Candidate {
  readonly distance: number;
  readonly sourceId: string;
  readonly chunkIndex: number;
}

/**
 * Candidates for a batch of exact searches, in one read of the namespace instead of one scan per query:
 * pages of vectors in key order, every query scored against each page with usearch's SIMD float32 scan,
 * each query keeping its best `2k + 8`. The caller rescores the candidates in PostgreSQL with the
 * one-query statement's own distance and tie-break (`candidateSearchSql`), so float32 rounding here can
 * only matter at the cut: where the last candidate is not clearly worse than the k-th (ties, near-ties),
 * the query gets `null` and the caller answers it with the one-query scan. Run inside the caller's
 * snapshot (REPEATABLE READ), so pages and rescoring see the same rows.
 */
export async function exactCandidates(
  tx: PgQueryable,
  ref: R.NamespaceRef,
  meta: { readonly fingerprint: string; readonly dimension: number; readonly metric: Metric },
  queries: readonly BatchQuery[],
  pageBytes: number = PAGE_BYTES,
): Promise<(CandidateKeys | null)[]> {
  // The caller's exact-search settings switch index scans off for the one-query statement; a page must
  // read through the primary key, or each page is a scan and sort of the whole table (at 1M rows, 100
  // pages of a 2 GB scan each). Switched on for the pages, then back to what the caller had (on an
  // error the transaction is rolled back, and its local settings with it).
  const { rows } = await tx.query<{ was: string }>(INDEX_SCANS_ON_SQL);
  const candidates = await pagedCandidates(tx, ref, meta, queries, pageBytes);
  await tx.query("SELECT set_config('enable_indexscan', $1, true)", [rows[0]?.was ?? 'on']);
  return candidates;
}

/** The pages of `exactCandidates`, read in primary-key order. */
async function pagedCandidates(
  tx: PgQueryable,
  ref: R.NamespaceRef,
  meta: { readonly fingerprint: string; readonly dimension: number; readonly metric: Metric },
  queries: readonly BatchQuery[],
  pageBytes: number,
): Promise<(CandidateKeys | null)[]> {
  const d = meta.dimension;
  const { exactSearch, MetricKind } = usearch();
  const kind = meta.metric === 'l2' ? MetricKind.L2sq : MetricKind.IP;
  const want = queries.map((q) => 2 * q.k + 8);
  const most = Math.max(...want);
  const packed = new Float32Array(queries.length * d);
  for (const [i, q] of queries.entries()) packed.set(q.vector, i * d);
  const best: Candidate[][] = queries.map(() => []);
  const pageRows = Math.max(16, Math.floor(pageBytes / (4 * d)));
  let total = 0;
  let after: [string, number] | null = null;
  for (;;) {
    const { rows }: { rows: [string, number, Buffer][] } = await tx.query<[string, number, Buffer]>({
      text: R.vectorPageSql(ref, after !== null),
      values: after ? [meta.fingerprint, pageRows, ...after] : [meta.fingerprint, pageRows],
      rowMode: 'array',
    });
    if (rows.length === 0) break;
    const ids = rows.map((row) => row[0]);
    const chunks = rows.map((row) => row[1]);
    const matrix = decodeVectors(
      rows.map((row) => row[2]),
      d,
    );
    const fetch = Math.min(ids.length, most);
    const found = exactSearch(matrix, packed, d, fetch, kind) as {
      keys: BigUint64Array;
      distances: Float32Array;
      counts?: BigUint64Array;
    };
    for (let q = 0; q < queries.length; q++) {
      const count = found.counts ? Number(found.counts[q]) : fetch;
      const merged = best[q] as Candidate[];
      for (let j = 0; j < count; j++) {
        const row = Number(found.keys[q * fetch + j]);
        merged.push({
          distance: found.distances[q * fetch + j] as number,
          sourceId: ids[row] as string,
          chunkIndex: chunks[row] as number,
        });
      }
      merged.sort((a, b) => a.distance - b.distance);
      merged.length = Math.min(merged.length, want[q] as number);
    }
    total += ids.length;
    after = [ids.at(-1) as string, chunks.at(-1) as number];
    if (ids.length < pageRows) break;
  }
  return queries.map((query, q) => {
    const kept = best[q] as Candidate[];
    const kth = kept[Math.min(query.k, kept.length) - 1]?.distance;
    const last = kept.at(-1)?.distance;
    const scale = meta.metric === 'cosine' ? 1 : 1 + dot(query.vector, query.vector);
    // Every row not kept scored at least `last` here; if that is clearly worse than the k-th, float32
    // rounding cannot have pushed a true top-k row out. Otherwise (ties at the cut) scan for this query.
    if (
      kept.length < total &&
      (kth === undefined || last === undefined || last - kth <= 1e-4 * (scale + Math.abs(kth)))
    )
      return null;
    return { sourceIds: kept.map((c) => c.sourceId), chunkIndexes: kept.map((c) => c.chunkIndex) };
  });
}

/** `vector_send` values of one dimension as one row-major float32 matrix (a vector of another dimension is refused). */
export function decodeVectors(vectors: readonly Buffer[], d: number): Float32Array {
  const out = new Float32Array(vectors.length * d);
  const words = Buffer.allocUnsafeSlow(4 + 4 * d);
  const floats = new Float32Array(words.buffer, words.byteOffset, d + 1);
  for (const [r, bytes] of vectors.entries()) {
    if (bytes.length !== words.length)
      throw new ReembedError(
        'INTEGRITY_FAILED',
        `a stored vector holds ${bytes.length} bytes, expected ${words.length}: a vector of another dimension is stored.`,
      );
    // An aligned copy with every 32-bit word in host order (the dimension word too, unused).
    bytes.copy(words);
    if (LITTLE_ENDIAN) words.swap32();
    out.set(floats.subarray(1), r * d);
  }
  return out;
}
