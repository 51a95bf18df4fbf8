import { ReembedError } from '../../core/errors.js';
import type { Metric } from '../../core/space.js';
import { usearch } from '../shared/usearch.js';
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

interface Candidate {
  readonly distance: number;
  readonly sourceId: string;
  readonly chunkIndex: number;
}

/** A page: its keys, and its vectors' `vector_send` bytes in base64 (a third fewer bytes than bytea's hex). */
interface PageRow {
  readonly source_ids: string[] | null;
  readonly chunk_indexes: number[] | null;
  readonly vectors: string | null;
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
    const { rows }: { rows: PageRow[] } = await tx.query<PageRow>(
      R.vectorPageSql(ref, after !== null),
      after ? [meta.fingerprint, pageRows, ...after] : [meta.fingerprint, pageRows],
    );
    const page: PageRow | undefined = rows[0];
    const ids: string[] = page?.source_ids ?? [];
    const chunks: number[] = page?.chunk_indexes ?? [];
    if (ids.length === 0 || chunks.length !== ids.length || !page?.vectors) break;
    const matrix = decodeVectors(Buffer.from(page.vectors, 'base64'), ids.length, d);
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
    const scale = meta.metric === 'cosine' ? 1 : 1 + squaredNorm(query.vector);
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

/** A page's bytea of `vector_send` values as one row-major float32 matrix (checked against `rows` × `d`). */
export function decodeVectors(bytes: Buffer, rows: number, d: number): Float32Array {
  const stride = 4 + 4 * d;
  if (bytes.length !== rows * stride)
    throw new ReembedError(
      'INTEGRITY_FAILED',
      `a page of stored vectors holds ${bytes.length} bytes, expected ${rows} x ${stride}: a vector of another dimension is stored.`,
    );
  // Aligned copy, then every 32-bit word to host order at once (the dimension words are swapped too, unused).
  const words = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(words);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) words.swap32();
  const floats = new Float32Array(words.buffer, words.byteOffset, bytes.length >>> 2);
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) out.set(floats.subarray(r * (d + 1) + 1, (r + 1) * (d + 1)), r * d);
  return out;
}

function squaredNorm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) * (v[i] as number);
  return s;
}
