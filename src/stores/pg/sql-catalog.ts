import { qualified } from './sql.js';

/**
 * Control-plane and source statements for one schema, built once per backend. Pure strings with bind
 * parameters; the schema is the only interpolated part and is validated by `qualified()`.
 */
export function catalogSql(schema: string) {
  const t = (name: string): string => qualified(schema, name);
  return Object.freeze({
    spaceByName: `SELECT * FROM ${t('spaces')} WHERE name = $1`,
    spaceByFingerprint: `SELECT * FROM ${t('spaces')} WHERE fingerprint = $1`,
    spaceByNameOrFingerprint: `SELECT * FROM ${t('spaces')} WHERE name = $1 OR fingerprint = $1`,
    spaceNames: `SELECT name FROM ${t('spaces')} ORDER BY name`,
    listSpaces: `SELECT * FROM ${t('spaces')} ORDER BY name`,
    insertSpace: `INSERT INTO ${t('spaces')} (fingerprint, name, spec, runtime, created_at) VALUES ($1, $2, $3, $4, $5)`,

    collection: `SELECT name, created_at FROM ${t('collections')} WHERE name = $1`,
    listCollections: `SELECT name, created_at FROM ${t('collections')} ORDER BY name`,
    insertCollection: `INSERT INTO ${t('collections')} (name, created_at) VALUES ($1, $2)`,

    namespace: `SELECT * FROM ${t('namespaces')} WHERE name = $1`,
    namespaceForUpdate: `SELECT * FROM ${t('namespaces')} WHERE name = $1 FOR UPDATE`,
    /** Locks the namespaces a routing names, so none changes collection or disappears mid-cutover. */
    namespacesForShare: `SELECT name, collection FROM ${t('namespaces')} WHERE name = ANY($1::text[]) FOR SHARE`,
    listNamespaces: `SELECT * FROM ${t('namespaces')} WHERE ($1::text IS NULL OR collection = $1) ORDER BY name`,
    insertNamespace: `INSERT INTO ${t('namespaces')}
  (name, collection, fingerprint, state, created_at, created_from, retired_at, info)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    setNamespaceState: `UPDATE ${t('namespaces')} SET state = $2, retired_at = $3 WHERE name = $1 RETURNING *`,
    /** Shallow merge in the database (`||` on jsonb objects), under the row lock of the UPDATE. */
    mergeNamespaceInfo: `UPDATE ${t('namespaces')} SET info = info || $2::jsonb WHERE name = $1 RETURNING *`,

    deleteAliases: `DELETE FROM ${t('aliases')} WHERE collection = $1`,
    deleteNamespaces: `DELETE FROM ${t('namespaces')} WHERE collection = $1`,
    deleteCollection: `DELETE FROM ${t('collections')} WHERE name = $1`,
    spaceForUpdate: `SELECT * FROM ${t('spaces')} WHERE name = $1 FOR UPDATE`,
    namespacesOfSpace: `SELECT * FROM ${t('namespaces')} WHERE fingerprint = $1 ORDER BY name FOR SHARE`,
    deleteSpace: `DELETE FROM ${t('spaces')} WHERE fingerprint = $1`,

    alias: `SELECT * FROM ${t('aliases')} WHERE name = $1`,
    aliasForUpdate: `SELECT * FROM ${t('aliases')} WHERE name = $1 FOR UPDATE`,
    listAliases: `SELECT * FROM ${t('aliases')} WHERE ($1::text IS NULL OR collection = $1) ORDER BY name`,
    insertAlias: `INSERT INTO ${t('aliases')} (name, collection, routing, serving_namespace, version, updated_at)
VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (name) DO NOTHING RETURNING *`,
    /** The cutover: one UPDATE of one row, guarded by the version read under FOR UPDATE (CAS). */
    updateAlias: `UPDATE ${t('aliases')} SET routing = $3, serving_namespace = $4, version = version + 1, updated_at = $5
WHERE name = $1 AND version = $2 RETURNING *`,

    insertAudit: `INSERT INTO ${t('audit_log')} (at, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5)
RETURNING id`,
    /** The newest `limit` matching entries, returned oldest first. A NULL limit means all. */
    /** Patterns are LIKE patterns built by `likePattern` (`*` → `%`, the rest escaped with `\`). */
    listAudit: `SELECT * FROM (
  SELECT * FROM ${t('audit_log')}
  WHERE ($1::text IS NULL OR subject LIKE $1) AND ($2::text IS NULL OR action LIKE $2)
    AND ($4::text IS NULL OR actor LIKE $4)
    AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at < $6)
  ORDER BY id DESC LIMIT $3
) newest ORDER BY id`,
  });
}

export type CatalogSql = ReturnType<typeof catalogSql>;

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
