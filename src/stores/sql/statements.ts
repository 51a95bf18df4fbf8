import type { Clock } from '../../ports/clock.js';
import type { SqlDialect } from './dialect.js';
import { exec, type SqlWork } from './executor.js';

/** A column of a bulk insert: its name and its PostgreSQL array element type (for `unnest`). */
export interface BulkColumn {
  readonly name: string;
  readonly pgType: string;
}

/**
 * The columns of a bulk insert written as SQL: `'set_name text, position integer, grade double precision'`
 * (each a name, then its PostgreSQL type).
 */
export function bulkColumns(spec: string): BulkColumn[] {
  return spec.split(',').map((part) => {
    const [name = '', ...type] = part.trim().split(/\s+/);
    return Object.freeze({ name, pgType: type.join(' ') });
  });
}

/**
 * Each value twice, for optional filters written `(${d.typed(n, 'text')} IS NULL OR column = ${d.param(n + 1)})`:
 * SQLite's `?` are positional, so a parameter tested for NULL and then compared is passed twice.
 */
export const optionalParams = (...values: unknown[]): unknown[] => values.flatMap((v) => [v, v]);

/** `['a', 'b']` → `'a', 'b'` for CHECK constraints built from the core's `as const` lists. */
export const sqlList = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');

/**
 * Inserts many rows (each the columns' values in order): on PostgreSQL one statement with one array per
 * column (`unnest`), on SQLite one cached prepared statement run per row inside the same transaction.
 * `onConflict` (` ON CONFLICT (…) DO …`) applies to every row; on PostgreSQL no two rows may share a key.
 */
export function* insertRows(
  d: SqlDialect,
  table: string,
  columns: readonly BulkColumn[],
  values: readonly (readonly unknown[])[],
  onConflict = '',
): SqlWork<void> {
  if (values.length === 0) return;
  const names = columns.map((c) => c.name).join(', ');
  if (d.name === 'pg') {
    const arrays = columns.map((_, i) => values.map((row) => row[i]));
    const unnest = columns.map((c, i) => `${d.param(i + 1)}::${c.pgType}[]`).join(', ');
    yield* exec(
      `INSERT INTO ${d.table(table)} (${names}) SELECT * FROM unnest(${unnest})${onConflict}`,
      arrays,
    );
    return;
  }
  const text = `INSERT INTO ${d.table(table)} (${names}) VALUES (${d.params(columns.length)})${onConflict}`;
  for (const row of values) yield* exec(text, row);
}

/** The append-only audit line of a change, in the caller's transaction (invariant 8). */
export function* audit(
  d: SqlDialect,
  clock: Clock,
  actor: string,
  action: string,
  subject: string,
  details: Readonly<Record<string, unknown>>,
): SqlWork<void> {
  yield* exec(
    `INSERT INTO ${d.table('audit_log')} (at, actor, action, subject, details) VALUES (${d.params(5)})`,
    [clock.now().toISOString(), actor, action, subject, JSON.stringify(details)],
  );
}
