import { isReembedError, ReembedError } from '../../core/errors.js';

/**
 * The subset of `pg` this backend uses, typed structurally (STYLE.md #2): the core never loads `pg`, and
 * any pool with these methods (pg.Pool, a wrapped or instrumented pool) works.
 */
export interface PgQueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

/** `pg`'s query config for rows as arrays of column values (no per-row object keyed by column names). */
export interface PgArrayQuery {
  readonly text: string;
  readonly values?: readonly unknown[];
  readonly rowMode: 'array';
}

export interface PgQueryable {
  query<R = Record<string, unknown>>(
    text: string | PgArrayQuery,
    values?: readonly unknown[],
  ): Promise<PgQueryResult<R>>;
}

export interface PgClientLike extends PgQueryable {
  release(error?: Error | boolean): void;
}

export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgClientLike>;
  end(): Promise<void>;
}

/**
 * Runs `fn` inside BEGIN/COMMIT on one pooled connection; rolls back on any error and returns the
 * connection (destroying it when the rollback itself failed). Postgres errors become `STORE_FAILED`;
 * domain errors thrown by `fn` pass through unchanged.
 */
export async function withTransaction<T>(
  pool: PgPoolLike,
  what: string,
  fn: (tx: PgQueryable) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  let client: PgClientLike;
  try {
    client = await pool.connect();
  } catch (error) {
    throw pgFailure(what, error);
  }
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    client.release(rolledBack ? undefined : true);
    throw pgFailure(what, error);
  }
}

/** One statement outside an explicit transaction, with the same error mapping. */
export async function run<R = Record<string, unknown>>(
  db: PgQueryable,
  what: string,
  text: string,
  values?: readonly unknown[],
): Promise<R[]> {
  return rowsOf<R>(db, what, text, values);
}

/**
 * `run` with each row as an array of its column values, in the statement's column order: for reads of many
 * rows (a backfill's source pages), where `pg` would otherwise build an object keyed by column name per row.
 */
export async function runArrays(
  db: PgQueryable,
  what: string,
  text: string,
  values?: readonly unknown[],
): Promise<unknown[][]> {
  return rowsOf<unknown[]>(db, what, { text, values, rowMode: 'array' });
}

async function rowsOf<R>(
  db: PgQueryable,
  what: string,
  query: string | PgArrayQuery,
  values?: readonly unknown[],
): Promise<R[]> {
  try {
    return (await db.query<R>(query, values)).rows;
  } catch (error) {
    throw pgFailure(what, error);
  }
}

/** SQLSTATE of a Postgres error, if it is one. */
export function sqlState(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** Wraps a Postgres or connection error in `STORE_FAILED`; domain errors pass through. */
export function pgFailure(what: string, error: unknown): unknown {
  if (isReembedError(error) || !(error instanceof Error)) return error;
  const state = sqlState(error);
  const hint =
    state === null
      ? 'Check that PostgreSQL is running and REEMBED_PG_URL is right (scripts/provision-postgres.sh sets one up).'
      : 'Nothing was committed; retry, and check the server log if it persists.';
  return new ReembedError('STORE_FAILED', `PostgreSQL failed to ${what}: ${error.message}. ${hint}`, {
    cause: error,
    details: { sqlState: state },
  });
}

export { iso, isoOrNull, isoText } from '../shared/timestamps.js';

/** `bigint` arrives as a string (it may exceed 2^53); the counts and versions we store do not. */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}
