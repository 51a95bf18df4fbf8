import type BetterSqlite3 from 'better-sqlite3';
import { ReembedError } from '../../core/errors.js';
import { METRICS } from '../../core/space.js';
import { auditLogDdl, namespacesDdl, spacesDdl } from '../sql/catalog-sql.js';
import { sqliteDialect } from '../sql/dialect.js';
import { sqlList } from '../sql/statements.js';

export type SqliteDatabase = BetterSqlite3.Database;

/**
 * Version of the tables this file creates (component `core` in `schema_version`). Other repositories
 * sharing the file (migrations, jobs) register their own component row, so each evolves on its own.
 */
export const SCHEMA_VERSION = 2;
export const SCHEMA_COMPONENT = 'core';

/** Pragmas applied on every connection: WAL so readers never block the writer, and a 5 s busy wait. */
export function pragmaStatements(): string[] {
  // Bulk writes: a 32 MiB page cache keeps the record indexes hot (default 2 MiB; a larger one is no
  // faster and costs a large backfill its memory budget), and checkpointing every 64 MiB of WAL instead of
  // every 4 MiB avoids a checkpoint (and its fsync) after nearly every 1,000 x 384-d batch; the WAL file
  // is truncated back to 64 MiB after a checkpoint. Figures: BENCHMARKS.md, "Figures behind code choices".
  return [
    'journal_mode = WAL',
    'synchronous = NORMAL',
    'busy_timeout = 5000',
    'foreign_keys = ON',
    'cache_size = -32768',
    'wal_autocheckpoint = 16384',
    'journal_size_limit = 67108864',
    // No memory-mapped reads: mapped file pages count as resident memory, and a large backfill then
    // exceeds its memory budget (bench/backfill.ts part C; BENCHMARKS.md, "Figures behind code choices").
    'mmap_size = 0',
  ];
}

export function schemaVersionDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS schema_version (
      component TEXT PRIMARY KEY,
      version INTEGER NOT NULL CHECK (version >= 1),
      applied_at TEXT NOT NULL
    )`,
  ];
}

/** Control plane: spaces, collections, namespaces, aliases and the append-only audit log. */
export function catalogDdl(): string[] {
  const d = sqliteDialect();
  return [
    spacesDdl(d),
    // source_version is the per-collection counter every source upsert or delete takes the next value of.
    `CREATE TABLE IF NOT EXISTS collections (
      name TEXT PRIMARY KEY,
      created_at TEXT NOT NULL,
      source_version INTEGER NOT NULL DEFAULT 0 CHECK (source_version >= 0)
    )`,
    ...namespacesDdl(d),
    // One row per alias name: a cutover is one UPDATE of this row (invariant 7).
    `CREATE TABLE IF NOT EXISTS aliases (
      name TEXT PRIMARY KEY,
      collection TEXT NOT NULL REFERENCES collections(name),
      routing TEXT NOT NULL,
      serving_namespace TEXT NOT NULL REFERENCES namespaces(name),
      version INTEGER NOT NULL CHECK (version >= 1),
      updated_at TEXT NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS aliases_by_serving ON aliases(serving_namespace)',
    ...auditLogDdl(d),
    ...auditAppendOnlyTriggers(),
  ];
}

/** Invariant 8 enforced by the storage itself: any UPDATE or DELETE of an audit row aborts. */
export function auditAppendOnlyTriggers(): string[] {
  return ['UPDATE', 'DELETE'].map(
    (op) =>
      `CREATE TRIGGER IF NOT EXISTS audit_log_no_${op.toLowerCase()} BEFORE ${op} ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed or removed'); END`,
  );
}

/** Retained source documents, one row per (collection, id); tombstones stay as rows with deleted = 1. */
export function sourcesDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS sources (
      collection TEXT NOT NULL REFERENCES collections(name),
      id TEXT NOT NULL CHECK (length(id) BETWEEN 1 AND 512),
      text TEXT NOT NULL,
      metadata TEXT NOT NULL DEFAULT '{}',
      tenant TEXT,
      content_hash TEXT NOT NULL,
      version INTEGER NOT NULL CHECK (version >= 1),
      deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
      updated_at TEXT NOT NULL,
      hits INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (collection, id)
    )`,
    'CREATE INDEX IF NOT EXISTS sources_hottest ON sources(collection, deleted, hits DESC, id)',
  ];
}

/** Vector store: namespace descriptors, records with provenance, per-source heads, job checkpoints. */
export function storeDdl(): string[] {
  return [
    // generation is bumped by every committed write that changes records, so a search cache in any
    // process knows when to reload; removed counts the records writes have removed (replaced or deleted),
    // so an ANN index caught up from an older snapshot knows whether any of its keys went away.
    `CREATE TABLE IF NOT EXISTS ns_meta (
      name TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      space_name TEXT NOT NULL,
      dimension INTEGER NOT NULL CHECK (dimension BETWEEN 1 AND 65536),
      metric TEXT NOT NULL CHECK (metric IN (${sqlList(METRICS)})),
      generation INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      removed INTEGER NOT NULL DEFAULT 0
    )`,
    recordsDdl('records'),
    'CREATE INDEX IF NOT EXISTS records_by_source ON records(namespace, source_id)',
    `CREATE TABLE IF NOT EXISTS heads (
      namespace TEXT NOT NULL REFERENCES ns_meta(name),
      source_id TEXT NOT NULL,
      source_version INTEGER NOT NULL,
      content_hash TEXT,
      deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
      PRIMARY KEY (namespace, source_id),
      CHECK ((deleted = 1) = (content_hash IS NULL))
    ) WITHOUT ROWID`,
    // One row per persisted ANN index file (see ann-files.ts): the file reflects the namespace's searchable
    // records at `generation`; `keys` lists the record keys it holds (float64 little-endian, ascending).
    `CREATE TABLE IF NOT EXISTS ann_indexes (
      namespace TEXT PRIMARY KEY REFERENCES ns_meta(name),
      file TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      incarnation TEXT NOT NULL,
      generation INTEGER NOT NULL,
      high_key INTEGER NOT NULL,
      removed INTEGER NOT NULL,
      count INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      params TEXT NOT NULL,
      keys BLOB NOT NULL,
      saved_at TEXT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS checkpoints (
      job_id TEXT PRIMARY KEY,
      namespace TEXT,
      cursor TEXT NOT NULL,
      processed INTEGER NOT NULL CHECK (processed >= 0),
      updated_at TEXT NOT NULL
    )`,
  ];
}

/**
 * The records table. `key` is the record's stable integer identity (the ANN index's key): AUTOINCREMENT, so
 * a key is never reused, not even after the newest record is deleted, and keys grow in commit order, so
 * "what was written since" is `key > high-water mark`. Schema 1 had no `key` (the implicit rowid, which
 * SQLite may reuse and VACUUM may renumber); `upgradeFrom1` copies such a table.
 */
export function recordsDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
      key INTEGER PRIMARY KEY AUTOINCREMENT,
      namespace TEXT NOT NULL REFERENCES ns_meta(name),
      record_id TEXT NOT NULL,
      source_id TEXT NOT NULL,
      chunk_index INTEGER NOT NULL,
      fingerprint TEXT NOT NULL,
      content_hash TEXT NOT NULL,
      source_version INTEGER NOT NULL,
      embedded_at TEXT NOT NULL,
      tenant TEXT,
      metadata TEXT NOT NULL DEFAULT '{}',
      text TEXT NOT NULL,
      vector BLOB NOT NULL,
      UNIQUE (namespace, record_id)
    )`;
}

const RECORD_COLUMNS =
  'namespace, record_id, source_id, chunk_index, fingerprint, content_hash, source_version, embedded_at, tenant, metadata, text, vector';

/**
 * Schema 1 → 2: the records table gains its `key` (a copy in rowid order, so keys follow the old order)
 * and ns_meta its `removed` counter.
 */
function upgradeFrom1(db: SqliteDatabase): void {
  db.exec('ALTER TABLE ns_meta ADD COLUMN removed INTEGER NOT NULL DEFAULT 0');
  db.exec(recordsDdl('records_v2'));
  db.exec(`INSERT INTO records_v2 (${RECORD_COLUMNS}) SELECT ${RECORD_COLUMNS} FROM records ORDER BY rowid`);
  db.exec('DROP INDEX IF EXISTS records_by_source');
  db.exec('DROP TABLE records');
  db.exec('ALTER TABLE records_v2 RENAME TO records');
  db.exec('CREATE INDEX IF NOT EXISTS records_by_source ON records(namespace, source_id)');
}

export function schemaDdl(): string[] {
  return [...schemaVersionDdl(), ...catalogDdl(), ...sourcesDdl(), ...storeDdl()];
}

/**
 * Applies pragmas and creates every table idempotently, then records the schema version. Refuses a file
 * written by a newer reembed, rather than guessing at tables it does not know.
 */
export function applySchema(db: SqliteDatabase, now: string): void {
  for (const pragma of pragmaStatements()) db.pragma(pragma);
  db.transaction(() => {
    for (const ddl of schemaVersionDdl()) db.exec(ddl);
    const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(SCHEMA_COMPONENT) as
      | { version: number }
      | undefined;
    if (row?.version === 1) {
      upgradeFrom1(db);
      db.prepare('UPDATE schema_version SET version = ?, applied_at = ? WHERE component = ?').run(
        SCHEMA_VERSION,
        now,
        SCHEMA_COMPONENT,
      );
    }
    if (row && row.version > SCHEMA_VERSION) {
      throw new ReembedError(
        'STORE_FAILED',
        `The database was written by a newer reembed (schema ${row.version}, this build knows ${SCHEMA_VERSION}). Upgrade reembed to open it.`,
        { details: { found: row.version, supported: SCHEMA_VERSION } },
      );
    }
    for (const ddl of schemaDdl()) db.exec(ddl);
    if (!row) {
      db.prepare('INSERT INTO schema_version (component, version, applied_at) VALUES (?, ?, ?)').run(
        SCHEMA_COMPONENT,
        SCHEMA_VERSION,
        now,
      );
    }
  }).immediate();
}
