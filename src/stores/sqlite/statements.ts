import type BetterSqlite3 from 'better-sqlite3';
import { isReembedError, ReembedError } from '../../core/errors.js';
import type { SqliteDatabase } from './schema.js';

export type Statement = BetterSqlite3.Statement;

/**
 * Prepared statements cached per connection: preparing costs more than running a simple statement,
 * and every repository of one backend shares the cache.
 */
export class StatementCache {
  readonly db: SqliteDatabase;
  readonly #statements = new Map<string, Statement>();

  constructor(db: SqliteDatabase) {
    this.db = db;
  }

  get(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs `fn` in a write transaction (BEGIN IMMEDIATE, so a read-then-write never hits a stale snapshot);
   * inside an outer transaction it nests as a savepoint. SQLite failures become `STORE_FAILED`.
   */
  write<T>(what: string, fn: () => T): T {
    return this.#run(what, () => this.db.transaction(fn).immediate());
  }

  /** Runs `fn` in a read transaction, so every statement in it sees one snapshot. */
  read<T>(what: string, fn: () => T): T {
    return this.#run(what, () => this.db.transaction(fn).deferred());
  }

  #run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw storeFailure(what, error);
    }
  }
}

/** Wraps a raw SQLite error (busy, constraint, I/O) in `STORE_FAILED`; domain errors pass through. */
export function storeFailure(what: string, error: unknown): unknown {
  if (isReembedError(error) || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  return new ReembedError(
    'STORE_FAILED',
    `SQLite failed to ${what}: ${error.message}. Nothing was committed; retry, and check the database file if it persists.`,
    { cause: error, details: { sqliteCode: typeof code === 'string' ? code : null } },
  );
}
