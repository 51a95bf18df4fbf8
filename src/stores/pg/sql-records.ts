import { ReembedError } from '../../core/errors.js';
import type { SearchFilter } from '../../core/records.js';
import type { Metric } from '../../core/space.js';
import { headsTable, literal, metricOps, namespaceTable, qualified, scoreExpression } from './sql.js';

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

/** The text of the error `writeSql` raises when a concurrent writer changed one of its sources (see there). */
export const CONCURRENT_WRITE_MARKER = 'reembed: concurrent write of the same sources';

/**
 * A whole versioned write as one statement (autocommit is atomic): no BEGIN/COMMIT round trips, no
 * descriptor read. Steps, as data-modifying CTEs that all see the statement's snapshot:
 *   - `guard`: the namespace still holds this fingerprint and dimension (a cached descriptor can be stale
 *     after a drop and re-create); if not, nothing is written and `ok` is false. A dropped table fails the
 *     statement itself (undefined_table). Tables are locked heads first, then records, like a drop.
 *   - `adv`: the heads gate (invariant 4), in the round's order (sorted ids, so writers lock heads in one
 *     order). A head is advanced only if it is still what the snapshot saw: a concurrent writer that
 *     committed after the snapshot may have replaced records this statement cannot see.
 *   - `del`, then `ins`: old records of replaced sources, then the new ones. `ins` waits for `del` to finish
 *     (its one-time filter reads `del`), so a re-used (source, chunk) key is free before it is inserted.
 *     The records stream from the chunk arrays (`unnest` in the select list, so they are not first
 *     materialised) through a semi-join on the advanced sources, whose small hash table is the only one
 *     built: every record (a vector, its text and provenance) is copied once, into the table.
 *   - `cp`: the checkpoint, in the same statement.
 * A source the snapshot would advance but the gate did not was raced by a concurrent writer (`OFFSET 0`
 * keeps that head lookup after the anti-join, so a batch of new sources looks up nothing): the statement
 * then fails (an integer cast of `CONCURRENT_WRITE_MARKER`, so nothing commits) and the caller retries in
 * a transaction, where each statement takes a fresh snapshot after the heads are locked.
 * Parameters (`writeStatementParams`): per source $1 ids, $2 versions, $3 content hashes (the gate's); per
 * chunk $4 source ids, $5 chunk indexes, $6 record ids, $7 content hashes, $8 versions, $9 tenants,
 * $10 metadata JSON, $11 texts, $12 embeddings (binary vector[]); $13 namespace, $14 fingerprint,
 * $15 dimension, $16 embedded-at; with a checkpoint $17 job id, $18 cursor, $19 processed; with
 * `textOfSource`, last, the sources' collection. One row: written, records, ok, raced (0).
 *
 * With `textOfSource`, a NULL text is the source's own text at the written version (`SourceWrite.
 * textOfSource`): the record copies it from the source row (a primary-key lookup) instead of the client
 * sending the text it has just read back. A source row that has moved on to another version (or was
 * deleted) yields no text, and the NOT NULL `text` column fails the statement — nothing is written, and
 * the caller sends the texts instead (`writeInOneStatement` returns `text-moved`).
 */
export function writeSql(
  ref: NamespaceRef,
  options: { checkpoint: boolean; textOfSource?: boolean },
): string {
  const checkpoint = options.checkpoint
    ? `,
cp AS (
  INSERT INTO ${qualified(ref.schema, 'checkpoints')} (job_id, namespace, cursor, processed, updated_at)
  SELECT $17, $13, $18, $19, $16 WHERE EXISTS (SELECT FROM guard)
  ON CONFLICT (job_id) DO UPDATE
    SET namespace = EXCLUDED.namespace, cursor = EXCLUDED.cursor, processed = EXCLUDED.processed,
        updated_at = EXCLUDED.updated_at
    WHERE ${qualified(ref.schema, 'checkpoints')}.processed <= EXCLUDED.processed
)`
    : '';
  const text = options.textOfSource
    ? `coalesce(c.text, (SELECT s.text FROM ${qualified(ref.schema, 'sources')} s
      WHERE s.collection = $${options.checkpoint ? 20 : 17} AND s.id = c.source_id AND s.version = c.source_version
        AND s.content_hash = c.content_hash AND NOT s.deleted))`
    : 'c.text';
  return `WITH guard AS (
  SELECT FROM ${qualified(ref.schema, 'ns_meta')} WHERE name = $13 AND fingerprint = $14 AND dimension = $15
),
src AS (
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) AS s(source_id, source_version, content_hash)
),
adv AS (
  INSERT INTO ${heads(ref)} AS h (source_id, source_version, content_hash, deleted)
  SELECT source_id, source_version, content_hash, false FROM src WHERE EXISTS (SELECT FROM guard)
  ON CONFLICT (source_id) DO UPDATE
    SET source_version = EXCLUDED.source_version, content_hash = EXCLUDED.content_hash, deleted = EXCLUDED.deleted
    WHERE h.source_version < EXCLUDED.source_version
      AND h.source_version = (SELECT seen.source_version FROM ${heads(ref)} seen WHERE seen.source_id = EXCLUDED.source_id)
  RETURNING h.source_id, (h.xmax = 0) AS inserted
),
del AS (
  DELETE FROM ${records(ref)} WHERE source_id = ANY (ARRAY(SELECT source_id FROM adv WHERE NOT inserted)) RETURNING 1
),
ins AS (
  INSERT INTO ${records(ref)}
    (source_id, chunk_index, record_id, content_hash, source_version, tenant, metadata, text, embedding, fingerprint, embedded_at)
  SELECT c.source_id, c.chunk_index, c.record_id, c.content_hash, c.source_version, c.tenant, c.metadata::jsonb, ${text},
    c.embedding, $14, $16
  FROM (SELECT unnest($4::text[]) AS source_id, unnest($5::integer[]) AS chunk_index, unnest($6::text[]) AS record_id,
      unnest($7::text[]) AS content_hash, unnest($8::bigint[]) AS source_version, unnest($9::text[]) AS tenant,
      unnest($10::text[]) AS metadata, unnest($11::text[]) AS text, unnest($12::vector[]) AS embedding) c
  WHERE c.source_id IN (SELECT source_id FROM adv) AND (SELECT count(*) FROM del) >= 0
  RETURNING 1
)${checkpoint}
SELECT w.written, w.records, w.ok,
  CASE WHEN w.raced = 0 OR NOT w.ok THEN 0 ELSE ('${CONCURRENT_WRITE_MARKER}: ' || w.raced)::integer END AS raced
FROM (
  SELECT (SELECT count(*) FROM adv) AS written, (SELECT count(*) FROM ins) AS records,
    EXISTS (SELECT FROM guard) AS ok,
    (SELECT count(*)
      FROM (SELECT * FROM src WHERE NOT EXISTS (SELECT FROM adv WHERE adv.source_id = src.source_id) OFFSET 0) o
      WHERE o.source_version > coalesce(
        (SELECT seen.source_version FROM ${heads(ref)} seen WHERE seen.source_id = o.source_id), 0)) AS raced
) w`;
}

/** $1 source ids. */
export function deleteRecordsSql(ref: NamespaceRef): string {
  return `DELETE FROM ${records(ref)} WHERE source_id = ANY($1::text[])`;
}

/**
 * Bulk insert of records as parallel arrays through `unnest`: one statement and eleven parameters for any
 * batch size (no 65,535-parameter limit), embeddings as one binary `vector[]`. The `unnest`s are in the
 * select list, so the rows stream into the table instead of being materialised first.
 * Parameters: $1 source ids, $2 chunk indexes, $3 record ids, $4 content hashes, $5 versions, $6 tenants,
 * $7 metadata JSON, $8 texts, $9 embeddings (binary vector[]), $10 fingerprint, $11 embedded-at.
 */
export function insertRecordsSql(ref: NamespaceRef): string {
  return `INSERT INTO ${records(ref)}
  (source_id, chunk_index, record_id, content_hash, source_version, tenant, metadata, text, embedding, fingerprint, embedded_at)
SELECT unnest($1::text[]), unnest($2::integer[]), unnest($3::text[]), unnest($4::text[]), unnest($5::bigint[]),
  unnest($6::text[]), unnest($7::text[])::jsonb, unnest($8::text[]), unnest($9::vector[]), $10, $11`;
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

/**
 * $1 job id, $2 namespace, $3 cursor, $4 processed, $5 updated-at. `forward`: only a checkpoint that
 * processed at least as much replaces the saved one (writes that commit concurrently, in any order).
 */
export function upsertCheckpointSql(schema: string, options: { forward?: boolean } = {}): string {
  const table = qualified(schema, 'checkpoints');
  return `INSERT INTO ${table} (job_id, namespace, cursor, processed, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (job_id) DO UPDATE
  SET namespace = EXCLUDED.namespace, cursor = EXCLUDED.cursor, processed = EXCLUDED.processed,
      updated_at = EXCLUDED.updated_at${options.forward ? `\n  WHERE ${table}.processed <= EXCLUDED.processed` : ''}`;
}

/**
 * Per-query planner settings, transaction-local (`set_config(..., true)` is `SET LOCAL` with bind
 * parameters), and the namespace's current fingerprint, read in the same round trip. Exact search
 * switches index scans off so the planner must scan and sort; iterative index scans (pgvector >= 0.8)
 * keep filtered ANN queries from returning fewer than k rows.
 * $1 namespace, $2 ef_search, $3 enable_indexscan, [$4 iterative scan mode].
 */
export function searchSettingsSql(
  schema: string,
  options: { iterativeScan: boolean; table?: string },
): string {
  const iterative = options.iterativeScan ? ",\n  set_config('hnsw.iterative_scan', $4, true)" : '';
  // The records table's declared vector dimension (pgvector's typmod; -1 when a hand edit removed it): a
  // column that no longer fixes the dimension needs the per-row guard of `searchSql`. The table is a
  // literal (from the namespace descriptor) so this is one catalog-cache lookup.
  const typmod =
    options.table === undefined
      ? ''
      : `\n  (SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass(${regclassLiteral(schema, options.table)}) AND attname = 'embedding') AS typmod,`;
  return `SELECT (SELECT fingerprint FROM ${qualified(schema, 'ns_meta')} WHERE name = $1) AS fingerprint,${typmod}
  set_config('hnsw.ef_search', $2, true), set_config('enable_indexscan', $3, true)${iterative}`;
}

/** `'schema.table'` for `to_regclass`: both parts are checked identifiers (lower case), so no quoting is needed. */
function regclassLiteral(schema: string, table: string): string {
  qualified(schema, table); // validates both
  return literal(`${schema}.${table}`);
}

/** Raises `hnsw.ef_search` for a re-query of a search that had to drop foreign rows. $1 ef_search. */
export function efSearchSql(): string {
  return "SELECT set_config('hnsw.ef_search', $1, true)";
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
/**
 * A search statement. `dimension` adds a per-row guard `vector_dims(embedding) = dimension`, for a table
 * whose column no longer fixes the dimension (a hand edit): a row of another dimension is skipped instead
 * of failing the whole query. Such a column cannot carry an HNSW index, so the guard costs no index plan.
 */
export function searchSql(
  ref: NamespaceRef,
  metric: Metric,
  filter: SearchFilter = {},
  options: { exact?: boolean; dimension?: number } = {},
): SearchStatement {
  const { operator } = metricOps(metric);
  const distance = `embedding ${operator} $1::vector`;
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length + 2}`;
  };
  if (options.dimension !== undefined) {
    if (!Number.isInteger(options.dimension) || options.dimension < 1)
      throw new ReembedError(
        'INVALID_INPUT',
        `search dimension must be a positive integer, got ${options.dimension}.`,
      );
    where.push(`vector_dims(embedding) = ${options.dimension}`);
  }
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
  const text = `SELECT ${HIT_COLUMNS},
  ${scoreExpression(metric, distance)} AS score
FROM ${records(ref)}${where.length > 0 ? `\nWHERE ${where.join(' AND ')}` : ''}
ORDER BY ${distance}${options.exact ? ', record_id' : ''}
LIMIT $2`;
  return { text, filterValues: values };
}

const HIT_COLUMNS =
  'source_id, record_id, text, metadata, tenant, fingerprint, content_hash, source_version, embedded_at';

/**
 * One page of a namespace's vectors in key order (the primary key's index), for a batch of exact searches
 * scored in the client (`searchMany`): source id, chunk index and the vector as pgvector's binary form
 * (`vector_send`: int16 dimension, int16 unused, float4 × dimension, big-endian) as `bytea`, which `pg`
 * turns into a Buffer natively: no text of floats to parse (BENCHMARKS.md "Cutover gates on PostgreSQL").
 * $1 fingerprint, $2 page size; with `after`, $3 source id and $4 chunk index of the last key read.
 */
export function vectorPageSql(ref: NamespaceRef, after: boolean): string {
  return `SELECT source_id, chunk_index, vector_send(embedding) AS vector
FROM ${records(ref)}
WHERE fingerprint = $1${after ? ' AND (source_id, chunk_index) > ($3, $4::integer)' : ''}
ORDER BY source_id, chunk_index
LIMIT $2`;
}

/**
 * The exact search statement restricted to candidate keys ($3 source ids, $4 chunk indexes, as parallel
 * arrays): the same columns, score, order and tie-break as `searchSql(…, { exact: true })`, so a batch
 * whose candidates hold the true top k answers exactly what the one-query statement answers.
 * $1 query vector (binary), $2 k.
 */
export function candidateSearchSql(ref: NamespaceRef, metric: Metric): string {
  const distance = `embedding ${metricOps(metric).operator} $1::vector`;
  // A join on the primary key from the (few) candidate keys: one index lookup each, never a scan.
  const columns = HIT_COLUMNS.split(', ')
    .map((c) => `r.${c}`)
    .join(', ');
  return `SELECT ${columns},
  ${scoreExpression(metric, `r.${distance}`)} AS score
FROM unnest($3::text[], $4::integer[]) AS c(source_id, chunk_index)
JOIN ${records(ref)} AS r ON r.source_id = c.source_id AND r.chunk_index = c.chunk_index
ORDER BY r.${distance}, r.record_id
LIMIT $2`;
}
