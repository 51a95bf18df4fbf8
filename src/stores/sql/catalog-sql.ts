import { NAMESPACE_STATES } from '../../core/namespace.js';
import type { SqlDialect } from './dialect.js';
import { sqlList } from './statements.js';

/** The spaces table, alike on both SQL backends: a space's spec and runtime under its fingerprint. */
export function spacesDdl(d: SqlDialect): string {
  return `CREATE TABLE IF NOT EXISTS ${d.table('spaces')} (
      fingerprint TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      spec ${d.json} NOT NULL,
      runtime ${d.json} NOT NULL,
      created_at ${d.timestamp} NOT NULL
    )`;
}

/**
 * The namespaces table and its index, alike on both SQL backends: the lifecycle state is a storage rule,
 * and `retired` goes with `retired_at`. (Collections and aliases differ by backend.)
 */
export function namespacesDdl(d: SqlDialect): string[] {
  const t = d.table;
  return [
    `CREATE TABLE IF NOT EXISTS ${t('namespaces')} (
      name TEXT PRIMARY KEY,
      collection TEXT NOT NULL REFERENCES ${t('collections')}(name),
      fingerprint TEXT NOT NULL REFERENCES ${t('spaces')}(fingerprint),
      state TEXT NOT NULL CHECK (state IN (${sqlList(NAMESPACE_STATES)})),
      created_at ${d.timestamp} NOT NULL,
      created_from TEXT,
      retired_at ${d.timestamp},
      info ${d.json} NOT NULL DEFAULT '{}',
      CHECK ((state = 'retired') = (retired_at IS NOT NULL))
    )`,
    `CREATE INDEX IF NOT EXISTS namespaces_by_collection ON ${t('namespaces')} (collection)`,
  ];
}

/**
 * The audit log and its index, alike on both SQL backends (ids never reused). Each backend adds its own
 * append-only rule (triggers).
 */
export function auditLogDdl(d: SqlDialect): string[] {
  const table = d.table('audit_log');
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
      id ${d.autoId},
      at ${d.timestamp} NOT NULL,
      actor TEXT NOT NULL CHECK (length(actor) > 0),
      action TEXT NOT NULL CHECK (length(action) > 0),
      subject TEXT NOT NULL,
      details ${d.json} NOT NULL DEFAULT '{}'
    )`,
    `CREATE INDEX IF NOT EXISTS audit_log_by_subject ON ${table} (subject, id)`,
  ];
}

/**
 * The catalog's statements (spaces, collections, namespaces, aliases, audit log) in one dialect, as
 * strings (STYLE #6). Parameters are numbered in the order they appear, each used once (SQLite binds `?`
 * by position), so a value tested twice is bound twice.
 */
export function catalogSql(d: SqlDialect) {
  const p = d.param;
  const spaces = d.table('spaces');
  const collections = d.table('collections');
  const namespaces = d.table('namespaces');
  const aliases = d.table('aliases');
  const audit = d.table('audit_log');
  /** `(value IS NULL OR test)` over parameters n and n + 1 (the value bound twice). */
  const optional = (n: number, type: string, test: string): string =>
    `(${d.typed(n, type)} IS NULL OR ${test})`;
  return Object.freeze({
    spaceByName: `SELECT * FROM ${spaces} WHERE name = ${p(1)}`,
    spaceByNameForUpdate: `SELECT * FROM ${spaces} WHERE name = ${p(1)}${d.forUpdate}`,
    spaceByFingerprint: `SELECT * FROM ${spaces} WHERE fingerprint = ${p(1)}`,
    /** Bind the key twice. */
    spaceByKey: `SELECT * FROM ${spaces} WHERE name = ${p(1)} OR fingerprint = ${p(2)}`,
    spaces: `SELECT * FROM ${spaces} ORDER BY name`,
    spaceNames: `SELECT name FROM ${spaces} ORDER BY name`,
    insertSpace: `INSERT INTO ${spaces} (fingerprint, name, spec, runtime, created_at) VALUES (${d.params(5)})`,
    deleteSpace: `DELETE FROM ${spaces} WHERE fingerprint = ${p(1)}`,

    collection: `SELECT name, created_at FROM ${collections} WHERE name = ${p(1)}`,
    collectionForUpdate: `SELECT name, created_at FROM ${collections} WHERE name = ${p(1)}${d.forUpdate}`,
    collections: `SELECT name, created_at FROM ${collections} ORDER BY name`,
    insertCollection: `INSERT INTO ${collections} (name, created_at) VALUES (${d.params(2)})`,
    deleteCollection: `DELETE FROM ${collections} WHERE name = ${p(1)}`,

    namespace: `SELECT * FROM ${namespaces} WHERE name = ${p(1)}`,
    namespaceForUpdate: `SELECT * FROM ${namespaces} WHERE name = ${p(1)}${d.forUpdate}`,
    /** Bind the collection (or null) twice. */
    namespaces: `SELECT * FROM ${namespaces} WHERE ${optional(1, 'text', `collection = ${p(2)}`)} ORDER BY name`,
    /** Locks the namespaces a routing names (a `list`), so none changes collection or vanishes mid-cutover. */
    namespaceOwners: `SELECT name, collection FROM ${namespaces} WHERE ${d.inList('name', 1)}${d.forShare}`,
    namespacesOfSpace: `SELECT * FROM ${namespaces} WHERE fingerprint = ${p(1)} ORDER BY name${d.forShare}`,
    /** Parameters in `NamespaceRow` order. */
    insertNamespace: `INSERT INTO ${namespaces}
  (name, collection, fingerprint, state, created_at, created_from, retired_at, info)
VALUES (${d.params(8)})`,
    setNamespaceState: `UPDATE ${namespaces} SET state = ${p(1)}, retired_at = ${p(2)} WHERE name = ${p(3)} RETURNING *`,
    setNamespaceInfo: `UPDATE ${namespaces} SET info = ${p(1)} WHERE name = ${p(2)} RETURNING *`,
    deleteNamespaces: `DELETE FROM ${namespaces} WHERE collection = ${p(1)}`,

    alias: `SELECT * FROM ${aliases} WHERE name = ${p(1)}`,
    aliasForUpdate: `SELECT * FROM ${aliases} WHERE name = ${p(1)}${d.forUpdate}`,
    /** Bind the collection (or null) twice. */
    aliases: `SELECT * FROM ${aliases} WHERE ${optional(1, 'text', `collection = ${p(2)}`)} ORDER BY name`,
    /** A new alias at version 1; no row back when a concurrent writer created it first. */
    insertAlias: `INSERT INTO ${aliases} (name, collection, routing, serving_namespace, version, updated_at)
VALUES (${d.params(4)}, 1, ${p(5)}) ON CONFLICT (name) DO NOTHING RETURNING *`,
    /**
     * The cutover: one UPDATE of one row, guarded by the version read under the row lock (compare-and-set),
     * so readers see the old routing or the new (invariant 7).
     */
    updateAlias: `UPDATE ${aliases} SET routing = ${p(1)}, serving_namespace = ${p(2)}, version = version + 1,
  updated_at = ${p(3)} WHERE name = ${p(4)} AND version = ${p(5)} RETURNING *`,
    deleteAliases: `DELETE FROM ${aliases} WHERE collection = ${p(1)}`,

    insertAudit: `INSERT INTO ${audit} (at, actor, action, subject, details) VALUES (${d.params(5)}) RETURNING id`,
    /**
     * The newest `limit` matching entries, returned oldest first. Bind subject, action and actor (each a
     * `wildcard` pattern or null) twice, since and until twice, then the limit (`noLimit` for all).
     */
    audit: `SELECT * FROM (
  SELECT * FROM ${audit}
  WHERE ${optional(1, 'text', d.matches('subject', 2))} AND ${optional(3, 'text', d.matches('action', 4))}
    AND ${optional(5, 'text', d.matches('actor', 6))}
    AND ${optional(7, 'timestamptz', `at >= ${p(8)}`)} AND ${optional(9, 'timestamptz', `at < ${p(10)}`)}
  ORDER BY id DESC LIMIT ${p(11)}
) newest ORDER BY id`,
  });
}

export type CatalogSql = ReturnType<typeof catalogSql>;
