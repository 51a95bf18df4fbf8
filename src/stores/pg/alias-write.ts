import type { Routing } from '../../core/routing.js';
import { servingNamespaceOf } from '../../core/routing.js';
import type { AliasRow } from '../shared/catalog-rows.js';
import { conflict, invalid, one } from './catalog-support.js';
import type { PgQueryable } from './pool.js';
import type { CatalogSql } from './sql-catalog.js';

export interface AliasWrite {
  readonly name: string;
  readonly collection: string;
  readonly routing: Routing;
  readonly now: string;
}

/**
 * The cutover write itself, inside the caller's transaction: one INSERT (a new alias) or one UPDATE of the
 * alias row, under its row lock and a version compare-and-set (invariant 7). A concurrent creator of the
 * same new alias makes our INSERT a no-op; we then continue as an update of its row.
 */
export async function writeAlias(
  tx: PgQueryable,
  sql: CatalogSql,
  input: AliasWrite,
  options: { expectedVersion?: number },
): Promise<{ row: AliasRow; previous: Routing | null }> {
  const { name, collection, routing, now } = input;
  const json = JSON.stringify(routing);
  const serving = servingNamespaceOf(routing);
  let current = await one<AliasRow>(tx, sql.aliasForUpdate, [name]);
  let row: AliasRow | undefined;
  if (!current) {
    if (options.expectedVersion !== undefined && options.expectedVersion !== 0) {
      throw conflict(name, options.expectedVersion, 0);
    }
    row = await one<AliasRow>(tx, sql.insertAlias, [name, collection, json, serving, now]);
    // Nothing inserted: another writer created the alias since our read; continue as an update of it.
    if (!row) current = await one<AliasRow>(tx, sql.aliasForUpdate, [name]);
  }
  if (current) {
    if (current.collection !== collection) {
      throw invalid(
        'collection',
        `"${collection}" differs: alias "${name}" belongs to "${current.collection}"`,
      );
    }
    const held = Number(current.version);
    if (options.expectedVersion !== undefined && options.expectedVersion !== held) {
      throw conflict(name, options.expectedVersion, held);
    }
    row = await one<AliasRow>(tx, sql.updateAlias, [name, held, json, serving, now]);
  }
  if (!row) throw conflict(name, options.expectedVersion ?? 0, -1);
  return { row, previous: current ? (current.routing as Routing) : null };
}
