import { randomBytes } from 'node:crypto';
import { afterEach } from 'vitest';
import { testSpace } from '../../testing/fixtures.js';
import { type OpenPgBackendOptions, openPgBackend, type PgBackend } from './backend.js';
import type { PgArrayQuery, PgClientLike, PgPoolLike, PgQueryResult } from './pool.js';
import { tableNameOf } from './sql-records.js';

/**
 * Test helpers for the Postgres backend: a fresh schema per test (dropped on close), and a pool wrapper
 * that records or fails statements on a real connection. Imported only by test files.
 */
export const PG_URL = process.env.REEMBED_PG_URL;
export const PG_SKIP_LINE = 'Postgres tests skipped: set REEMBED_PG_URL (run scripts/provision-postgres.sh)';

export function uniqueSchema(): string {
  return `t_${process.pid}_${randomBytes(5).toString('hex')}`;
}

export async function openTestBackend(options: Partial<OpenPgBackendOptions> = {}): Promise<PgBackend> {
  if (!PG_URL) throw new Error(PG_SKIP_LINE);
  return openPgBackend({
    url: PG_URL,
    schema: uniqueSchema(),
    dropSchemaOnClose: true,
    poolMax: 4,
    ...options,
  });
}

export interface StatementLog {
  /** Every statement with the id of the connection it ran on, and its parameters. */
  readonly entries: { client: number; text: string; values?: readonly unknown[] }[];
}

/**
 * Wraps a real pool: logs every statement with its connection, and throws (before sending) on the
 * first statement for which `fail` returns true — a crash injected at an exact point of a transaction.
 */
export function instrumentPool(
  pool: PgPoolLike,
  options: { fail?: (text: string) => boolean } = {},
): PgPoolLike & StatementLog {
  const entries: { client: number; text: string; values?: readonly unknown[] }[] = [];
  let clients = 0;
  const guard = (client: number, text: string, values?: readonly unknown[]): void => {
    entries.push({ client, text, ...(values ? { values } : {}) });
    if (options.fail?.(text)) throw new Error(`injected failure before: ${text.slice(0, 60)}`);
  };
  return {
    entries,
    async query<R>(text: string | PgArrayQuery, values?: readonly unknown[]): Promise<PgQueryResult<R>> {
      guard(0, typeof text === 'string' ? text : text.text, values);
      return pool.query<R>(text, values);
    },
    async connect(): Promise<PgClientLike> {
      const inner = await pool.connect();
      const id = ++clients;
      return {
        async query<R>(text: string | PgArrayQuery, values?: readonly unknown[]): Promise<PgQueryResult<R>> {
          guard(id, typeof text === 'string' ? text : text.text, values);
          return inner.query<R>(text, values);
        },
        release: (error?: Error | boolean) => inner.release(error),
      };
    },
    end: () => pool.end(),
  };
}

/** Registers an afterEach that closes (and drops the schema of) the backend the current test opened. */
export function useTestBackend(): (options?: Partial<OpenPgBackendOptions>) => Promise<PgBackend> {
  let backend: PgBackend | undefined;
  afterEach(async () => {
    const current = backend;
    backend = undefined;
    await current?.close();
  });
  return async (options = {}) => {
    backend = await openTestBackend(options);
    return backend;
  };
}

export const v1 = testSpace('pg-v1');
export const v2 = testSpace('pg-v2');

/** Two spaces, collection `docs`, namespaces `docs@pg-v1` (serving) and `docs@pg-v2`, alias `docs` at v1. */
export async function seedCatalog(b: PgBackend): Promise<void> {
  await b.catalog.addSpace(v1, 'alice');
  await b.catalog.addSpace(v2, 'alice');
  await b.catalog.createCollection('docs', 'alice');
  await b.catalog.createNamespace({ collection: 'docs', space: v1, state: 'serving' }, 'alice');
  await b.catalog.createNamespace({ collection: 'docs', space: v2, state: 'building' }, 'alice');
  await b.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@pg-v1' }, 'alice');
}

/**
 * Writes a record straight into a namespace's table, as a hand edit would: drops the table's CHECK
 * constraints and — for a vector of another dimension — its HNSW index and the column's declared
 * dimension first (what an operator "fixing" a schema by hand does). For conformance tests of invariant 2.
 */
export async function plantRecord(
  backend: PgBackend,
  namespace: string,
  record: { sourceId: string; fingerprint: string; vector: Float32Array },
): Promise<boolean> {
  const { pool } = backend;
  const schema = backend.config.schema;
  const table = `"${schema}"."${tableNameOf(namespace)}"`;
  const checks = await pool.query<{ conname: string }>(
    `SELECT conname FROM pg_constraint WHERE conrelid = '${table}'::regclass AND contype = 'c'`,
  );
  for (const row of checks.rows) await pool.query(`ALTER TABLE ${table} DROP CONSTRAINT "${row.conname}"`);
  const declared = await pool.query<{ typmod: number }>(
    `SELECT atttypmod AS typmod FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attname = 'embedding'`,
  );
  if (declared.rows[0]?.typmod !== record.vector.length) {
    const indexes = await pool.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexdef LIKE '%hnsw%'`,
      [schema, tableNameOf(namespace)],
    );
    for (const row of indexes.rows) await pool.query(`DROP INDEX "${schema}"."${row.indexname}"`);
    await pool.query(`ALTER TABLE ${table} ALTER COLUMN embedding TYPE vector`);
  }
  await pool.query(
    `INSERT INTO ${table} (source_id, chunk_index, record_id, fingerprint, content_hash, source_version, embedded_at, tenant, metadata, text, embedding)
     VALUES ($1, 0, $2, $3, 'planted', 1, now(), NULL, '{}', 'planted', $4::vector)`,
    [record.sourceId, `${record.sourceId}#0`, record.fingerprint, `[${Array.from(record.vector).join(',')}]`],
  );
  return true;
}
