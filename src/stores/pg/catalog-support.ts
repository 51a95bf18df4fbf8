import { ReembedError } from '../../core/errors.js';
import { NAMESPACE_STATES } from '../../core/namespace.js';
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

export function checkActor(actor: string): void {
  if (typeof actor !== 'string' || actor.trim().length === 0) {
    throw invalid('actor', 'must be a non-empty string (who made the change, for the audit log)');
  }
}

export function checkState(state: string): void {
  if (!(NAMESPACE_STATES as readonly string[]).includes(state)) {
    throw invalid('state', `"${state}" is not one of ${NAMESPACE_STATES.join(', ')}`);
  }
}

export function invalid(field: string, problem: string): ReembedError {
  return new ReembedError('INVALID_INPUT', `${field} ${problem}.`, { details: { field } });
}

export function exists(what: string, name: string): ReembedError {
  return new ReembedError('ALREADY_EXISTS', `${what} "${name}" already exists.`, { details: { name } });
}

export function notFound(what: string, name: string, hint: string): ReembedError {
  return new ReembedError('NOT_FOUND', `Unknown ${what} "${name}": ${hint}.`, { details: { [what]: name } });
}
