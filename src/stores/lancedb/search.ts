import type { Table as ArrowTable } from 'apache-arrow';
import type { SearchHit } from '../../core/records.js';
import type { Metric } from '../../core/space.js';
import { dot, normalizeInPlace } from '../../core/vector.js';
import { parseJsonObject } from '../shared/json.js';
import type { LanceDistanceType, LanceTableLike } from './lance-types.js';
import { columnOf } from './read.js';

/** The columns a hit is built from (a search adds LanceDB's `_distance`). */
export const ROW_COLUMNS = [
  'record_id',
  'source_id',
  'fingerprint',
  'content_hash',
  'source_version',
  'embedded_at',
  'tenant',
  'metadata',
  'text',
  'vector',
] as const;

const HIT_COLUMNS = [...ROW_COLUMNS, '_distance'];

/**
 * Cosine namespaces store unit-length vectors and search by inner product (as the embedded store's
 * matrix does): the score is the cosine, and a zero vector scores 0 instead of being dropped, which
 * LanceDB's cosine distance does.
 */
export function distanceTypeFor(metric: Metric): LanceDistanceType {
  return metric === 'l2' ? 'l2' : 'dot';
}

/** The vector as stored: a unit-length copy for cosine, the vector itself otherwise. */
export function storedVector(metric: Metric, vector: Float32Array): Float32Array {
  return metric === 'cosine' ? normalizeInPlace(Float32Array.from(vector)) : vector;
}

/** Higher is better for every metric: cosine and dot are inner products, l2 is −squared distance. */
export function scoreOf(metric: Metric, query: Float32Array, vector: Float32Array): number {
  if (metric !== 'l2') return dot(query, vector);
  let sum = 0;
  for (let i = 0; i < query.length; i++) {
    const d = (query[i] as number) - (vector[i] as number);
    sum += d * d;
  }
  return -sum;
}

/**
 * Exact top-k among the rows matching `where`, by a flat scan in LanceDB (`bypassVectorIndex`, the
 * filter applied before ranking). LanceDB ranks in float32; the returned rows are rescored in double
 * precision and ordered by score then chunk id, like every store. To make that re-ranking exact, the
 * scan fetches more than k rows and widens until the last fetched distance is clearly worse than the
 * k-th (or the matches are exhausted), so no row that float32 placed just past the cut is missed.
 */
export async function exactSearch(
  table: LanceTableLike,
  metric: Metric,
  query: Float32Array,
  k: number,
  where: string,
): Promise<SearchHit[]> {
  if (k === 0) return [];
  const q = storedVector(metric, query);
  const scale = metric === 'cosine' ? 1 : 1 + dot(q, q);
  let fetch = 2 * k + 8;
  for (;;) {
    const result = await table
      .vectorSearch(q)
      .column('vector')
      .distanceType(distanceTypeFor(metric))
      .bypassVectorIndex()
      .where(where)
      .select(HIT_COLUMNS)
      .limit(fetch)
      .toArrow();
    const distances = columnOf<number>(result, '_distance');
    const exhausted = distances.length < fetch;
    const kth = distances[k - 1];
    const last = distances[distances.length - 1];
    const tolerance = 1e-4 * (scale + Math.abs(kth ?? 0));
    if (exhausted || kth === undefined || last === undefined || last - kth > tolerance) {
      return hitsOf(result, metric, q).slice(0, k);
    }
    fetch *= 4;
  }
}

function hitsOf(result: ArrowTable, metric: Metric, q: Float32Array): SearchHit[] {
  if (result.numRows === 0) return [];
  const vectors = result.getChild('vector');
  if (!vectors) throw new Error('LanceDB result has no vector column');
  const chunkIds = columnOf<string>(result, 'record_id');
  const sourceIds = columnOf<string>(result, 'source_id');
  const fingerprints = columnOf<string>(result, 'fingerprint');
  const hashes = columnOf<string>(result, 'content_hash');
  const versions = columnOf<number>(result, 'source_version');
  const embeddedAt = columnOf<string>(result, 'embedded_at');
  const tenants = columnOf<string | null>(result, 'tenant');
  const metadata = columnOf<string>(result, 'metadata');
  const texts = columnOf<string>(result, 'text');
  const hits = chunkIds.map((chunkId, i): SearchHit => {
    const vector = (vectors.get(i) as { toArray(): Float32Array }).toArray();
    const sourceId = sourceIds[i] as string;
    return Object.freeze({
      sourceId,
      chunkId,
      score: scoreOf(metric, q, vector),
      text: texts[i] as string,
      metadata: Object.freeze(parseJsonObject(metadata[i] as string)),
      tenant: tenants[i] ?? null,
      provenance: Object.freeze({
        fingerprint: fingerprints[i] as string,
        sourceId,
        chunkId,
        contentHash: hashes[i] as string,
        sourceVersion: versions[i] as number,
        embeddedAt: embeddedAt[i] as string,
      }),
    });
  });
  return hits.sort(
    (a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : a.chunkId > b.chunkId ? 1 : 0),
  );
}
