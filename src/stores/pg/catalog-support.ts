import { ReembedError } from '../../core/errors.js';
import { type PgQueryable, run, sqlState } from './pool.js';

/** Small helpers of the Postgres catalog: single-row reads, unique-violation mapping, typed errors. */
export async function one<R>(
  db: PgQueryable,
  text: string,
  values: readonly unknown[],
): Promise<R | undefined> {
  return (await run<R>(db, 'read the catalog', text, values))[0];
}

/** Maps a unique violation (SQLSTATE 23505) of `query` to `error`. */
export async function uniqueAs<T>(error: ReembedError, query: Promise<T>): Promise<T> {
  try {
    return await query;
  } catch (cause) {
    if (sqlState(cause) === '23505') throw error;
    throw cause;
  }
}

export async function retryOnce<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    if (sqlState(cause) === '23505' || sqlState(error) === '23505') return fn();
    throw error;
  }
}

export function conflict(alias: string, expected: number, actual: number): ReembedError {
  return new ReembedError(
    'CONFLICT',
    `Alias "${alias}" is at version ${actual}, not ${expected}: another writer changed it. Re-read the alias and retry.`,
    { details: { alias, expected, actual } },
  );
}

export {
  alreadyExists as exists,
  checkActor,
  checkState,
  invalid,
  notFound,
} from '../shared/catalog-errors.js';
