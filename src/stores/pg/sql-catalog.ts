import { qualified } from './sql.js';

/** Source-document statements for one schema. */
export function sourcesSql(schema: string) {
  const t = (name: string): string => qualified(schema, name);
  return Object.freeze({
    /** The per-collection version counter, row-locked so concurrent upserts take distinct versions. */
    lockCounter: `SELECT last_version FROM ${t('collections')} WHERE name = $1 FOR UPDATE`,
    setCounter: `UPDATE ${t('collections')} SET last_version = $2 WHERE name = $1`,
    current: `SELECT id, content_hash, tenant, deleted FROM ${t('sources')}
WHERE collection = $1 AND id = ANY($2::text[]) FOR UPDATE`,
    /** Parallel arrays through unnest, one statement per batch: $1 collection, $2 ids, $3 texts, $4 metadata
     *  JSON, $5 tenants, $6 content hashes, $7 versions, $8 updated-at. */
    upsert: `INSERT INTO ${t('sources')} (collection, id, text, metadata, tenant, content_hash, version, deleted, updated_at)
SELECT $1, u.id, u.text, u.metadata::jsonb, u.tenant, u.content_hash, u.version, false, $8
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
  AS u(id, text, metadata, tenant, content_hash, version)
ON CONFLICT (collection, id) DO UPDATE SET text = EXCLUDED.text, metadata = EXCLUDED.metadata,
  tenant = EXCLUDED.tenant, content_hash = EXCLUDED.content_hash, version = EXCLUDED.version,
  deleted = false, updated_at = EXCLUDED.updated_at`,
    /** Tombstones keep id, hash and version; text and metadata are cleared, because a delete means delete. */
    tombstone: `UPDATE ${t('sources')} AS s SET deleted = true, text = '', metadata = '{}', version = u.version,
  updated_at = $4
FROM unnest($2::text[], $3::bigint[]) AS u(id, version)
WHERE s.collection = $1 AND s.id = u.id
RETURNING ${documentColumns('s')}`,
    get: `SELECT ${documentColumns()} FROM ${t('sources')} WHERE collection = $1 AND id = $2`,
    getMany: `SELECT ${documentColumns()} FROM ${t('sources')} WHERE collection = $1 AND id = ANY($2::text[])`,
    scan: `SELECT ${documentColumns()} FROM ${t('sources')} WHERE collection = $1 AND id > $2 AND ($4 OR NOT deleted)
ORDER BY id LIMIT $3`,
    count: `SELECT count(*) FILTER (WHERE NOT deleted)::bigint AS live, count(*) FILTER (WHERE deleted)::bigint AS deleted
FROM ${t('sources')} WHERE collection = $1`,
    recordHits: `UPDATE ${t('sources')} AS s SET hits = s.hits + u.n
FROM unnest($2::text[], $3::bigint[]) AS u(id, n)
WHERE s.collection = $1 AND s.id = u.id`,
    hottest: `SELECT id, hits FROM ${t('sources')} WHERE collection = $1 AND NOT deleted
ORDER BY hits DESC, id LIMIT $2 OFFSET $3`,
    /**
     * Whether the planner statistics of `sources` are missing or stale by autovacuum's own rule (more
     * rows changed since the last ANALYZE than 50 + 10% of the table): one row, `stale`. $1 `sourcesTable`.
     */
    statisticsStale: `SELECT c.reltuples < 0 OR coalesce(s.n_mod_since_analyze, 0) > 50 + 0.1 * greatest(c.reltuples, 0) AS stale
FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.oid = to_regclass($1)`,
    sourcesTable: t('sources'),
    purge: `DELETE FROM ${t('sources')} WHERE collection = $1`,
    analyze: `ANALYZE ${t('sources')}`,
  });
}

/**
 * The columns a source document is read from (of table alias `alias`), in the order `documentFromColumns`
 * (sources.ts) reads them: what `SourceDocument` holds (the collection is the query's own), `updated_at` as the server's ISO text, which `isoText` turns into an
 * ISO-8601 instant for a fraction of what `pg`'s Date parsing per row would cost a backfill's scan.
 */
export function documentColumns(alias?: string): string {
  const a = alias === undefined ? '' : `${alias}.`;
  return `${a}id, ${a}text, ${a}metadata, ${a}tenant, ${a}content_hash, ${a}version, ${a}deleted, ${a}updated_at::text AS updated_at`;
}

export type SourcesSql = ReturnType<typeof sourcesSql>;
