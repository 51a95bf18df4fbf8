import type { SqlDialect } from './dialect.js';

/**
 * One statement of a unit of work: SQL text in the executor's dialect, its positional parameters, and what
 * the caller wants back (the rows, or the number of rows changed).
 */
export interface SqlStatement {
  readonly text: string;
  readonly params: readonly unknown[];
  readonly result: 'rows' | 'changes';
}

/**
 * A unit of work against a SQL executor, written once for every dialect: a generator that yields the
 * statements it needs and receives each one's answer (`yield* rows(...)`, `yield* exec(...)`). The
 * executor decides how to run it: better-sqlite3 answers synchronously inside one `db.transaction` (no
 * promise per statement, and nothing else can run on the connection between two statements), `pg` awaits
 * each answer on one pooled client between BEGIN and COMMIT.
 */
export type SqlWork<T> = Generator<SqlStatement, T, unknown>;

/** The rows a query returns (`const found = yield* rows<Row>(sql, [name])`). */
export function* rows<R>(text: string, params: readonly unknown[] = []): SqlWork<R[]> {
  return (yield { text, params, result: 'rows' }) as R[];
}

/** Runs a statement; answers the number of rows it changed. */
export function* exec(text: string, params: readonly unknown[] = []): SqlWork<number> {
  return (yield { text, params, result: 'changes' }) as number;
}

/**
 * The small interface every SQL repository is written against: a dialect (which the pure SQL builders
 * take) and two ways to run a unit of work. SQL failures become `STORE_FAILED` naming `what`; domain
 * errors thrown by the work pass through unchanged and roll the transaction back.
 */
export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** Runs `work` in one write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN … COMMIT). */
  write<T>(what: string, work: () => SqlWork<T>): Promise<T>;
  /**
   * One statement outside an explicit transaction (no BEGIN/COMMIT round trips on PostgreSQL): for single
   * reads on request paths (an API key by hash, a list).
   */
  all<R>(what: string, text: string, params?: readonly unknown[]): Promise<R[]>;
  /** One changing statement outside an explicit transaction (it commits alone); answers the rows changed. */
  run(what: string, text: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Runs a bulk write whose work is one statement on PostgreSQL (an `insertRows`): there without BEGIN and
   * COMMIT round trips (one statement commits atomically on its own), on SQLite in one write transaction
   * (one statement per row). A second statement on PostgreSQL is a programming error.
   */
  bulk(what: string, work: () => SqlWork<void>): Promise<void>;
  /** Runs `work` as one consistent read (one snapshot). */
  read<T>(what: string, work: () => SqlWork<T>): Promise<T>;
  /**
   * Creates a component's tables (idempotent) and records its schema version; fails when the tables were
   * written by a newer reembed.
   */
  ensureSchema(component: string, version: number, ddl: readonly string[]): Promise<void>;
}

/**
 * Drives `work` to its end with a synchronous `answer` (SQLite). A failed statement is thrown into the
 * work, so a unit may catch a constraint violation and turn it into a domain error.
 */
export function driveSync<T>(work: SqlWork<T>, answer: (statement: SqlStatement) => unknown): T {
  let step = work.next();
  while (!step.done) {
    let value: unknown;
    try {
      value = answer(step.value);
    } catch (error) {
      step = work.throw(error);
      continue;
    }
    step = work.next(value);
  }
  return step.value;
}

/** Drives `work` to its end, awaiting each answer (PostgreSQL). */
export async function driveAsync<T>(
  work: SqlWork<T>,
  answer: (statement: SqlStatement) => Promise<unknown>,
): Promise<T> {
  let step = work.next();
  while (!step.done) {
    let value: unknown;
    try {
      value = await answer(step.value);
    } catch (error) {
      step = work.throw(error);
      continue;
    }
    step = work.next(value);
  }
  return step.value;
}
