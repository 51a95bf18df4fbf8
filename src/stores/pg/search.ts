import { toFloat32, validateVector } from '../../core/vector.js';
import type { SearchRequest } from '../../ports/vector-store.js';
import { encodeVector } from './codec.js';
import * as R from './sql-records.js';
import type { MetaRow } from './store-rows.js';
import { unitCopy } from './write-plan.js';

/** A search ready to run: the settings statement (which also re-reads the fingerprint) and the query. */
export interface PreparedSearch {
  readonly settingsSql: string;
  readonly settingsParams: readonly string[];
  readonly text: string;
  /** The same query with a per-row dimension guard, for a column that no longer fixes the dimension. */
  readonly guardedText: string;
  readonly values: readonly unknown[];
  /** ef_search the settings set (a re-query for more rows raises it). */
  readonly efSearch: number;
}

export interface SearchSettings {
  readonly schema: string;
  readonly efSearch: number;
  readonly iterativeScan: boolean;
}

/**
 * Builds the statements of a search on a namespace whose fingerprint the caller has checked: the query
 * vector validated against the dimension, normalised for cosine (the namespace stores unit vectors), and
 * sent in pgvector's binary format.
 */
export function prepareSearch(
  meta: MetaRow,
  request: SearchRequest,
  settings: SearchSettings,
): PreparedSearch {
  validateVector(request.vector, meta.dimension, `query for ${meta.name}`);
  const exact = request.exact === true;
  const ref = { schema: settings.schema, namespace: meta.name };
  const statement = R.searchSql(ref, meta.metric, request.filter, { exact });
  const guarded = R.searchSql(ref, meta.metric, request.filter, { exact, dimension: meta.dimension });
  const filtered = statement.filterValues.length > 0;
  const { efSearch, iterativeScan } = settings;
  const query = toFloat32(request.vector);
  const vector = encodeVector(meta.metric === 'cosine' ? unitCopy(query) : query);
  return {
    settingsSql: R.searchSettingsSql(settings.schema, { iterativeScan, table: meta.table_name }),
    settingsParams: R.searchSettingsParams(meta.name, {
      efSearch,
      k: request.k,
      exact,
      filtered,
      iterativeScan,
    }),
    text: statement.text,
    guardedText: guarded.text,
    values: [vector, request.k, ...statement.filterValues],
    efSearch,
  };
}
