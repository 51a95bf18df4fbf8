import type { Backend } from '../../ports/backend.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import { SqlCatalog } from '../sql/catalog.js';
import { openSqlRepositories, type SqlRepositories } from '../sql/repositories.js';
import type { SqliteAnnOptions } from './ann-config.js';
import { openDatabase } from './driver.js';
import { SqliteExecutor } from './executor.js';
import { ReaderThread, readerThreadsFor } from './reader-thread.js';
import { applySchema, type SqliteDatabase } from './schema.js';
import { SqliteSourceRepository } from './sources.js';
import { changeStamp } from './sql.js';
import { StatementCache, storeFailure } from './statements.js';
import { SqliteVectorStore } from './store.js';
import { SqliteVectorReader } from './vector-reader.js';

export interface SqliteBackendOptions {
  /** Database file (created if missing), or `:memory:` for a private in-memory database. */
  readonly path: string;
  readonly clock?: Clock;
  /** How large namespaces are searched (HNSW index threshold, quantisation, index directory, exact cache). */
  readonly ann?: SqliteAnnOptions;
}

/**
 * The embedded backend: catalog, sources and vectors in one SQLite file, so a backfill batch and its
 * checkpoint, or a cutover and its audit line, commit in one transaction.
 */
export interface SqliteBackend extends Omit<Backend, keyof SqlRepositories>, SqlRepositories {
  readonly kind: 'sqlite';
  /** The shared connection: other repositories (migrations, jobs) use it for their tables and transactions. */
  readonly db: SqliteDatabase;
  /** Prepared statements cached for this connection, with `write`/`read` transaction helpers. */
  readonly statements: StatementCache;
  readonly clock: Clock;
  readonly catalog: SqlCatalog;
  readonly sources: SqliteSourceRepository;
  readonly store: SqliteVectorStore;
  readonly vectors: SqliteVectorReader;
}

/**
 * Opens (creating if needed) a SQLite backend: WAL, synchronous=NORMAL, busy_timeout 5 s, foreign keys on,
 * schema applied idempotently. Several processes may open the same file; each sees the others' commits.
 *
 * @example
 * const backend = await openSqliteBackend({ path: '.reembed/reembed.db' });
 * await backend.catalog.createCollection('docs', 'alice');
 * await backend.close();
 */
export async function openSqliteBackend(options: SqliteBackendOptions): Promise<SqliteBackend> {
  const clock = options.clock ?? systemClock;
  let db: SqliteDatabase;
  try {
    db = openDatabase(options.path);
  } catch (error) {
    throw storeFailure(`open ${options.path}`, error);
  }
  try {
    applySchema(db, clock.now().toISOString());
  } catch (error) {
    db.close();
    throw storeFailure(`prepare the schema of ${options.path}`, error);
  }
  const statements = new StatementCache(db);
  const sql = new SqliteExecutor(statements, clock);
  let store: SqliteVectorStore;
  try {
    store = new SqliteVectorStore(statements, clock, options.ann);
  } catch (error) {
    db.close();
    throw error;
  }
  // The backend uses the process's reader-thread pool until it closes: the last to close stops the idle
  // thread, so a closed app leaves no thread behind (`ReaderThread.usePool`).
  const releaseReaders = ReaderThread.usePool();
  let closed = false;
  return {
    kind: 'sqlite',
    capabilities: { distributedBackfill: false },
    db,
    statements,
    clock,
    catalog: new SqlCatalog(sql, clock, { changeStamp: () => changeStamp(statements) }),
    sources: new SqliteSourceRepository(statements, clock, { threads: readerThreadsFor }),
    store,
    vectors: new SqliteVectorReader(statements),
    ...(await openSqlRepositories(sql, { clock, externalChanges: dataVersionOf(db) })),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await store.close();
        db.close();
      } finally {
        await releaseReaders();
      }
    },
  };
}

/**
 * SQLite's `data_version` of this connection: it changes whenever another connection (another process:
 * `reembed keys revoke`) commits. Read with one prepared statement (about a microsecond).
 */
function dataVersionOf(db: SqliteDatabase): () => number {
  const statement = db.prepare('PRAGMA data_version').pluck();
  return () => statement.get() as number;
}
