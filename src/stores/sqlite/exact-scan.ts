import type { RowPredicate } from '../shared/filter.js';
import { parseJsonObject } from '../shared/json.js';
import type { ScoredKey } from './matrix-cache.js';
import { RowScorer } from './row-scorer.js';
import { STORE_SQL as SQL } from './sql.js';
import type { StatementCache } from './statements.js';
import type { MetaRow } from './store-rows.js';
import { TopK } from './top-k.js';

/**
 * Exact top-k straight from the SQLite rows, in bounded memory: for namespaces whose float32 copy would
 * exceed the exact cache budget (`exactCacheBytes`). It reads every searchable row once (a full pass over
 * the namespace's pages), so it costs what SQLite takes to stream them; call inside a read transaction.
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
