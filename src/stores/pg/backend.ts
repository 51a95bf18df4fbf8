import { ReembedError } from '../../core/errors.js';
import { importPeer } from '../../platform/optional-peer.js';
import type { Backend } from '../../ports/backend.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import { SqlCatalog } from '../sql/catalog.js';
import { openSqlRepositories, type SqlRepositories } from '../sql/repositories.js';
import { applyComponentSchema } from './component-schema.js';
import { type PgBackendOptions, type ResolvedPgConfig, redactUrl, resolvePgConfig } from './config.js';
import { PgExecutor } from './executor.js';
import { type PgPoolLike, type PgQueryable, run, withTransaction } from './pool.js';
import { PgSourceRepository } from './sources.js';
import { baseDdl, ident, SCHEMA_COMPONENT, SCHEMA_VERSION } from './sql.js';
import { sourcesSql } from './sql-catalog.js';
import { PgVectorStore } from './store.js';
import { PgVectorReader } from './vector-reader.js';

/**
 * The production backend: catalog, sources and vectors in one PostgreSQL database (pgvector), so a
 * backfill batch and its checkpoint, or a cutover and its audit line, commit in one transaction, and
 * many worker processes on many machines share one deployment.
 */
export interface PgBackend extends Omit<Backend, keyof SqlRepositories>, SqlRepositories {
  readonly kind: 'pg';
  readonly config: ResolvedPgConfig;
  /** The pool: other repositories (migrations, job queue) use it for their tables and transactions. */
  readonly pool: PgPoolLike;
  readonly clock: Clock;
  readonly catalog: SqlCatalog;
  readonly sources: PgSourceRepository;
  readonly store: PgVectorStore;
  readonly vectors: PgVectorReader;
  /** pgvector's version in this database, e.g. `0.8.0`. */
  readonly vectorVersion: string;
  /** Runs `fn` in one transaction on one connection (BEGIN/COMMIT, ROLLBACK on error). */
  transaction<T>(what: string, fn: (tx: PgQueryable) => Promise<T>): Promise<T>;
}

export interface OpenPgBackendOptions extends PgBackendOptions {
  readonly clock?: Clock;
  /** Use this pool instead of creating one from `url` (the backend then does not end it on close). */
  readonly pool?: PgPoolLike;
}

/**
 * Opens the Postgres backend: loads `pg` lazily (importing reembed never loads it), checks the server
 * and pgvector, and creates the schema idempotently (serialised by an advisory lock, so processes may
 * start together).
 *
 * @example
 * const backend = await openPgBackend({ url: process.env.REEMBED_PG_URL! });
 * await backend.catalog.createCollection('docs', 'alice');
 * await backend.close();
 */
export async function openPgBackend(options: OpenPgBackendOptions): Promise<PgBackend> {
  const config = resolvePgConfig(stripRuntime(options));
  const clock = options.clock ?? systemClock;
  const pool = options.pool ?? (await createPool(config));
  const ownsPool = options.pool === undefined;
  try {
    await preflight(pool, config);
    const vector = await ensureVector(pool);
    await applySchema(pool, config.schema);
    const store = new PgVectorStore(
      pool,
      {
        schema: config.schema,
        hnsw: config.hnsw,
        efSearch: config.efSearch,
        vectorOid: vector.oid,
        iterativeScan: atLeast(vector.version, [0, 8, 0]),
        // `applySchema` created the schema's sources table, which this backend's source repository uses.
        textFromSources: true,
      },
      clock,
    );
    const sql = new PgExecutor(pool, config.schema);
    const repositories = await openSqlRepositories(sql, { clock });
    let closed = false;
    return {
      kind: 'pg',
      capabilities: { distributedBackfill: true },
      config,
      pool,
      clock,
      vectorVersion: vector.version,
      catalog: new SqlCatalog(sql, clock),
      sources: new PgSourceRepository(pool, sourcesSql(config.schema), clock),
      store,
      vectors: new PgVectorReader(pool, config.schema),
      ...repositories,
      transaction: (what, fn) => withTransaction(pool, what, fn),
      async close() {
        if (closed) return;
        closed = true;
        await store.close();
        try {
          if (config.dropSchemaOnClose)
            await run(pool, 'drop the schema', `DROP SCHEMA IF EXISTS ${ident(config.schema)} CASCADE`);
        } finally {
          if (ownsPool) await pool.end();
        }
      },
    };
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw error;
  }
}

async function createPool(config: ResolvedPgConfig): Promise<PgPoolLike> {
  const pg = await importPeer('pg', () => import('pg'));
  const Pool = (pg.default ?? pg).Pool;
  const pool = new Pool({ connectionString: config.url, max: config.poolMax, application_name: 'reembed' });
  // An idle connection dropped by the server emits 'error' on the pool; unhandled, it would crash the
  // process. The next query reconnects and reports its own failure.
  pool.on('error', () => undefined);
  // The same for a connection that breaks while checked out between two queries (a server restart during
  // a transaction): pg-pool removes its idle listener on checkout, and an unheard 'error' would end the
  // process. The query in flight, or the next one, fails with the error instead.
  pool.on('connect', (client: { on(event: 'error', listener: () => void): unknown }) =>
    client.on('error', () => undefined),
  );
  return pool as unknown as PgPoolLike;
}

async function preflight(pool: PgPoolLike, config: ResolvedPgConfig): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    throw new ReembedError(
      'STORE_FAILED',
      `Cannot connect to PostgreSQL at ${redactUrl(config.url)}: ${(error as Error).message}. Start the server and check the URL; on Debian, scripts/provision-postgres.sh installs PostgreSQL 15 + pgvector and prints REEMBED_PG_URL.`,
      { cause: error, details: { url: redactUrl(config.url) } },
    );
  }
}

/** Ensures pgvector is installed in the database and reachable on the search path; returns its type oid. */
async function ensureVector(pool: PgPoolLike): Promise<{ oid: number; version: string }> {
  const installed = async () =>
    (
      await run<{ extversion: string }>(
        pool,
        'check pgvector',
        "SELECT extversion FROM pg_extension WHERE extname = 'vector'",
      )
    )[0];
  if (!(await installed())) {
    try {
      await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (error) {
      throw new ReembedError(
        'STORE_FAILED',
        `The pgvector extension is not installed in this database and could not be created: ${(error as Error).message}. Run "CREATE EXTENSION vector" as a superuser (scripts/provision-postgres.sh does both the build and this step).`,
        { cause: error },
      );
    }
  }
  const row = (
    await run<{ oid: number | null; version: string }>(
      pool,
      'check pgvector',
      "SELECT to_regtype('vector')::oid AS oid, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS version",
    )
  )[0];
  if (!row?.oid) {
    throw new ReembedError(
      'STORE_FAILED',
      'pgvector is installed but its type "vector" is not on the search_path of this connection. Add the extension\'s schema to search_path (e.g. ALTER ROLE ... SET search_path = "$user", public, <schema>).',
    );
  }
  if (!atLeast(row.version, [0, 5, 0])) {
    throw new ReembedError(
      'STORE_FAILED',
      `pgvector ${row.version} has no HNSW index; reembed needs 0.5 or newer (0.8 recommended: ALTER EXTENSION vector UPDATE after installing it).`,
      { details: { version: row.version } },
    );
  }
  return { oid: Number(row.oid), version: row.version };
}

/**
 * Creates the base tables idempotently in one transaction, serialised by an advisory lock per schema,
 * and refuses a schema written by a newer reembed rather than guessing at tables it does not know.
 */
async function applySchema(pool: PgPoolLike, schema: string): Promise<void> {
  await applyComponentSchema(pool, schema, SCHEMA_COMPONENT, SCHEMA_VERSION, baseDdl(schema));
}

function atLeast(version: string, wanted: readonly [number, number, number]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const have = parts[i] ?? 0;
    const want = wanted[i] as number;
    if (have !== want) return have > want;
  }
  return true;
}

function stripRuntime(options: OpenPgBackendOptions): PgBackendOptions {
  const { clock: _clock, pool: _pool, ...rest } = options;
  return rest;
}
