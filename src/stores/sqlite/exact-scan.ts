import type { RowPredicate } from '../shared/filter.js';
import { parsedObjectAt, parseJsonObject } from '../shared/json.js';
import { BatchTopK, BLOCK_ROWS } from './batch-top-k.js';
import type { ScoredKey } from './matrix-cache.js';
import { RowScorer, scoreStored } from './row-scorer.js';
import { STORE_SQL as SQL } from './sql.js';
import type { StatementCache } from './statements.js';
import type { MetaRow } from './store-rows.js';
import { TopK } from './top-k.js';

/**
 * Exact top-k of one query straight from the SQLite rows, in bounded memory: one full pass over the
 * namespace's pages per call. The store streams with `scanExactMany` (one pass for a whole batch); this is
 * the per-query reference its answers are tested against. Call inside a read transaction.
 */
export function scanExact(
  sql: StatementCache,
  meta: MetaRow,
  query: Float32Array,
  k: number,
  predicate: RowPredicate | null,
): ScoredKey[] {
  const top = new TopK(k);
  const scorer = new RowScorer(meta.metric, meta.dimension);
  const rows = sql
    .get(SQL.scanSearchable)
    .raw()
    .iterate(meta.name, meta.fingerprint, meta.dimension * 4) as Iterable<
    [number, string | null, string, Uint8Array]
  >;
  const needsMetadata = (predicate?.keys.length ?? 0) > 0;
  for (const [key, tenant, metadata, vector] of rows) {
    if (predicate) {
      if (predicate.tenant !== undefined && tenant !== predicate.tenant) continue;
      if (needsMetadata && !predicate.matches(tenant, () => parseJsonObject(metadata))) continue;
    }
    top.push(scorer.score(query, vector), key);
  }
  const { rows: keys, scores } = top.sorted();
  return keys.map((key, i) => ({ key, score: scores[i] as number }));
}

/** One request of `scanExactMany`: a prepared query (`prepareQuery`), its k and its filter. */
export interface ScanRequest {
  readonly query: Float32Array;
  readonly k: number;
  readonly predicate: RowPredicate | null;
}

/**
 * `scanExact` of every request in one pass over the namespace's rows: rows are read in blocks of
 * `BLOCK_ROWS` and each block is scored against every query (`BatchTopK`), so a batch of gate probes
 * costs one read of the namespace instead of one per query, in bounded memory (a block, its kernel
 * output, a top-k heap per query). Each answer equals `scanExact`'s for the request alone: rows reach
 * each query's heap in the same order, with the same scores. Call inside a read transaction.
 */
export function scanExactMany(
  sql: StatementCache,
  meta: MetaRow,
  requests: readonly ScanRequest[],
): ScoredKey[][] {
  const d = meta.dimension;
  const top = new BatchTopK(
    meta.metric,
    d,
    requests.map((r) => r.query),
    requests.map((r) => r.k),
    false,
  );
  const vectors = new Float32Array(BLOCK_ROWS * d);
  const bytes = new Uint8Array(vectors.buffer);
  const sqNorms = new Float64Array(BLOCK_ROWS);
  const ids = new Float64Array(BLOCK_ROWS);
  const filtered = requests.some((r) => r.predicate !== null);
  const passes = requests.map((r) => (r.predicate ? new Uint8Array(BLOCK_ROWS) : null));
  const tenants: (string | null)[] = [];
  const metadata: string[] = [];
  const parsed: (Readonly<Record<string, unknown>> | undefined)[] = [];
  let count = 0;
  const flush = (): void => {
    if (filtered) {
      parsed.fill(undefined);
      requests.forEach(({ predicate }, j) => {
        const mask = passes[j];
        if (!predicate || !mask) return;
        const needsMetadata = predicate.keys.length > 0;
        for (let r = 0; r < count; r++) {
          const tenant = tenants[r] as string | null;
          mask[r] =
            (predicate.tenant === undefined || tenant === predicate.tenant) &&
            (!needsMetadata || predicate.matches(tenant, () => parsedObjectAt(metadata, parsed, r)))
              ? 1
              : 0;
        }
      });
    }
    top.push({ vectors, count, sqNorms, ids, passes }, (j, r) =>
      scoreStored(meta.metric, (requests[j] as ScanRequest).query, vectors, r * d, d),
    );
    count = 0;
  };
  const rows = sql
    .get(SQL.scanSearchable)
    .raw()
    .iterate(meta.name, meta.fingerprint, d * 4) as Iterable<[number, string | null, string, Uint8Array]>;
  for (const [key, tenant, stored, vector] of rows) {
    bytes.set(vector, count * d * 4);
    let sum = 0;
    for (let i = count * d; i < (count + 1) * d; i++) sum += (vectors[i] as number) * (vectors[i] as number);
    sqNorms[count] = sum;
    ids[count] = key;
    if (filtered) {
      tenants[count] = tenant;
      metadata[count] = stored;
    }
    if (++count === BLOCK_ROWS) flush();
  }
  if (count > 0) flush();
  return top.heaps.map((heap) => {
    const { rows: keys, scores } = heap.sorted();
    return keys.map((key, i) => ({ key, score: scores[i] as number }));
  });
}
