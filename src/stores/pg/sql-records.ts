import { ReembedError } from '../../core/errors.js';
import type { SearchFilter } from '../../core/records.js';
import type { Metric } from '../../core/space.js';
import { headsTable, metricOps, namespaceTable, qualified, scoreExpression } from './sql.js';

export { namespaceTable as tableNameOf } from './sql.js';

/**
 * Statements on one namespace's records and heads. Pure: each returns SQL text (and, for search, the
 * parameter list), so they are unit-tested as strings and printable.
 */

export interface NamespaceRef {
  readonly schema: string;
  readonly namespace: string;
}

const records = (ref: NamespaceRef): string => qualified(ref.schema, namespaceTable(ref.namespace));
const heads = (ref: NamespaceRef): string => qualified(ref.schema, headsTable(ref.namespace));

/**
 * The gate of a versioned write (invariant 4): upserts the head of every source whose incoming version is
 * newer than the head held (live or tombstone) and returns exactly those sources. Row locks taken by the
 * upsert serialise concurrent writers of one source. `inserted` is true for a source the namespace had
 * never seen, so the caller can skip deleting its (non-existent) old records.
 * Parameters: $1 source ids, $2 versions, $3 content hashes (NULL for a tombstone), $4 deleted flags.
 */
export function advanceHeadsSql(ref: NamespaceRef): string {
  return `INSERT INTO ${heads(ref)} AS h (source_id, source_version, content_hash, deleted)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::boolean[])
ON CONFLICT (source_id) DO UPDATE
  SET source_version = EXCLUDED.source_version, content_hash = EXCLUDED.content_hash, deleted = EXCLUDED.deleted
  WHERE h.source_version < EXCLUDED.source_version
RETURNING h.source_id, (xmax = 0) AS inserted`;
}

/** $1 source ids. */
export function deleteRecordsSql(ref: NamespaceRef): string {
  return `DELETE FROM ${records(ref)} WHERE source_id = ANY($1::text[])`;
}

/**
 * Bulk insert of records as parallel arrays through `unnest`: one statement and eleven parameters for any
 * batch size (no 65,535-parameter limit), embeddings as one binary `vector[]`.
 * Parameters: $1 source ids, $2 chunk indexes, $3 record ids, $4 content hashes, $5 versions, $6 tenants,
 * $7 metadata JSON, $8 texts, $9 embeddings (binary vector[]), $10 fingerprint, $11 embedded-at.
 */
export function insertRecordsSql(ref: NamespaceRef): string {
  return `INSERT INTO ${records(ref)}
  (source_id, chunk_index, record_id, content_hash, source_version, tenant, metadata, text, embedding, fingerprint, embedded_at)
SELECT u.source_id, u.chunk_index, u.record_id, u.content_hash, u.source_version, u.tenant, u.metadata::jsonb, u.text,
  u.embedding, $10, $11
FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::vector[])
  AS u(source_id, chunk_index, record_id, content_hash, source_version, tenant, metadata, text, embedding)`;
}

/** $1 source ids. */
export function selectHeadsSql(ref: NamespaceRef): string {
  return `SELECT source_id, source_version, content_hash, deleted FROM ${heads(ref)} WHERE source_id = ANY($1::text[])`;
}

/** Keyset scan in byte order (`COLLATE "C"`, the same order as JavaScript's string comparison). $1 after, $2 limit. */
export function scanHeadsSql(ref: NamespaceRef): string {
  return `SELECT source_id, source_version, content_hash, deleted FROM ${heads(ref)}
WHERE source_id > $1 ORDER BY source_id LIMIT $2`;
}

/** Record counts by fingerprint and by stored dimension (invariant 1 made observable). */
export function recordStatsSql(ref: NamespaceRef): string {
  return `SELECT fingerprint, vector_dims(embedding) AS dimension, count(*)::bigint AS n,
  count(DISTINCT source_id)::bigint AS sources
FROM ${records(ref)} GROUP BY 1, 2`;
}

export function sourceCountSql(ref: NamespaceRef): string {
  return `SELECT count(DISTINCT source_id)::bigint AS n FROM ${records(ref)}`;
}

export function tombstoneCountSql(ref: NamespaceRef): string {
  return `SELECT count(*)::bigint AS n FROM ${heads(ref)} WHERE deleted`;
}

/** $1 job id, $2 namespace, $3 cursor, $4 processed, $5 updated-at. */
export function upsertCheckpointSql(schema: string): string {
  return `INSERT INTO ${qualified(schema, 'checkpoints')} (job_id, namespace, cursor, processed, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (job_id) DO UPDATE
  SET namespace = EXCLUDED.namespace, cursor = EXCLUDED.cursor, processed = EXCLUDED.processed,
      updated_at = EXCLUDED.updated_at`;
}

/**
 * Per-query planner settings, transaction-local (`set_config(..., true)` is `SET LOCAL` with bind
 * parameters), and the namespace's current fingerprint, read in the same round trip. Exact search
 * switches index scans off so the planner must scan and sort; iterative index scans (pgvector >= 0.8)
 * keep filtered ANN queries from returning fewer than k rows.
 * $1 namespace, $2 ef_search, $3 enable_indexscan, [$4 iterative scan mode].
 */
export function searchSettingsSql(schema: string, options: { iterativeScan: boolean }): string {
  const iterative = options.iterativeScan ? ",\n  set_config('hnsw.iterative_scan', $4, true)" : '';
  return `SELECT (SELECT fingerprint FROM ${qualified(schema, 'ns_meta')} WHERE name = $1) AS fingerprint,
  set_config('hnsw.ef_search', $2, true), set_config('enable_indexscan', $3, true)${iterative}`;
}

export function searchSettingsParams(
  namespace: string,
  options: { efSearch: number; k: number; exact: boolean; filtered: boolean; iterativeScan: boolean },
): string[] {
  const ef = String(Math.min(1000, Math.max(options.efSearch, options.k)));
  const params = [namespace, ef, options.exact ? 'off' : 'on'];
  if (options.iterativeScan) params.push(options.filtered ? 'strict_order' : 'off');
  return params;
}

/** Serialises create/drop of one namespace across processes. $1 `schema:namespace`. */
export function namespaceLockSql(): string {
  return 'SELECT pg_advisory_xact_lock(hashtext($1))';
}

const META_COLUMNS =
  'name, table_name, fingerprint, space_name, dimension, metric, hnsw_m, hnsw_ef_construction';

export function metaSql(schema: string): string {
  return `SELECT ${META_COLUMNS} FROM ${qualified(schema, 'ns_meta')} WHERE name = $1`;
}

/** The descriptor under a share lock, taken by writers so a concurrent drop waits for them. */
export function metaForShareSql(schema: string): string {
  return `${metaSql(schema)} FOR SHARE`;
}

/** $1..$8 in `META_COLUMNS` order, $9 created-at. */
export function insertMetaSql(schema: string): string {
  return `INSERT INTO ${qualified(schema, 'ns_meta')} (${META_COLUMNS}, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;
}

export function deleteMetaSql(schema: string): string {
  return `DELETE FROM ${qualified(schema, 'ns_meta')} WHERE name = $1`;
}

export function deleteCheckpointsSql(schema: string): string {
  return `DELETE FROM ${qualified(schema, 'checkpoints')} WHERE namespace = $1`;
}

export function selectCheckpointSql(schema: string): string {
  return `SELECT job_id, namespace, cursor, processed, updated_at FROM ${qualified(schema, 'checkpoints')} WHERE job_id = $1`;
}

/** $1 the qualified index name. */
export function indexExistsSql(): string {
  return 'SELECT to_regclass($1) IS NOT NULL AS present';
}

/** For error messages that name both spaces. */
export function spaceNameSql(schema: string): string {
  return `SELECT name FROM ${qualified(schema, 'spaces')} WHERE fingerprint = $1`;
}

export interface SearchStatement {
  readonly text: string;
  /** `$1` is the query vector (binary), `$2` k, then filter values in order. */
  readonly filterValues: readonly unknown[];
}

/**
 * Top-k by the metric's distance operator, so the HNSW index (same operator class) can serve it; exact
 * search also breaks ties by record id (an extra sort key an index scan cannot provide). Filters:
 * tenant equality; metadata equality through jsonb containment (`@>`, one parameter for all keys); `$in`
 * through membership in a jsonb array. Keys and values are bind parameters.
 */
export function searchSql(
  ref: NamespaceRef,
  metric: Metric,
  filter: SearchFilter = {},
  options: { exact?: boolean } = {},
): SearchStatement {
  const { operator } = metricOps(metric);
  const distance = `embedding ${operator} $1::vector`;
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length + 2}`;
  };
  if (filter.tenant !== undefined) where.push(`tenant = ${param(filter.tenant)}`);
  const equal: Record<string, unknown> = {};
  for (const [key, condition] of Object.entries(filter.metadata ?? {})) {
    if (condition !== null && typeof condition === 'object') {
      if (!Array.isArray(condition.$in)) {
        throw new ReembedError(
          'INVALID_INPUT',
          `metadata filter "${key}": use a value or { $in: [values] }.`,
          {
            details: { key },
          },
        );
      }
      where.push(
        `metadata -> ${param(key)} IN (SELECT jsonb_array_elements(${param(JSON.stringify(condition.$in))}::jsonb))`,
      );
    } else {
      equal[key] = condition;
    }
  }
  if (Object.keys(equal).length > 0) where.push(`metadata @> ${param(JSON.stringify(equal))}::jsonb`);
  const text = `SELECT source_id, record_id, text, metadata, tenant, fingerprint, content_hash, source_version, embedded_at,
  ${scoreExpression(metric, distance)} AS score
FROM ${records(ref)}${where.length > 0 ? `\nWHERE ${where.join(' AND ')}` : ''}
ORDER BY ${distance}${options.exact ? ', record_id' : ''}
LIMIT $2`;
  return { text, filterValues: values };
}
