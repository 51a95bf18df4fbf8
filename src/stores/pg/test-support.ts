import { randomBytes } from 'node:crypto';
import { type OpenPgBackendOptions, openPgBackend, type PgBackend } from './backend.js';
import type { PgClientLike, PgPoolLike, PgQueryResult } from './pool.js';

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
  /** Every statement with the id of the connection it ran on. */
  readonly entries: { client: number; text: string }[];
}

/**
 * Wraps a real pool: logs every statement with its connection, and throws (before sending) on the
 * first statement for which `fail` returns true — a crash injected at an exact point of a transaction.
 */
export function instrumentPool(
  pool: PgPoolLike,
  options: { fail?: (text: string) => boolean } = {},
): PgPoolLike & StatementLog {
  const entries: { client: number; text: string }[] = [];
  let clients = 0;
  const guard = (client: number, text: string): void => {
    entries.push({ client, text });
    if (options.fail?.(text)) throw new Error(`injected failure before: ${text.slice(0, 60)}`);
  };
  return {
    entries,
    async query<R>(text: string, values?: readonly unknown[]): Promise<PgQueryResult<R>> {
      guard(0, text);
      return pool.query<R>(text, values);
    },
    async connect(): Promise<PgClientLike> {
      const inner = await pool.connect();
      const id = ++clients;
      return {
        async query<R>(text: string, values?: readonly unknown[]): Promise<PgQueryResult<R>> {
          guard(id, text);
          return inner.query<R>(text, values);
        },
        release: (error?: Error | boolean) => inner.release(error),
      };
    },
    end: () => pool.end(),
  };
}
