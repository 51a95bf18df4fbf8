import type { Table as ArrowTable } from 'apache-arrow';
import type { SourceHead } from '../../core/records.js';
import type { LanceTableLike } from './lance-types.js';
import type { StoredSource } from './plan.js';
import { and, headsAfter, inList, kindIs, rowsOfSources } from './sql.js';

/** Source ids per `IN (...)` list: keeps each predicate a reasonable size for the SQL parser. */
const IN_CHUNK = 1000;

/**
 * Reads column `name` of an Arrow result as JS values (bigint columns become numbers). An empty result
 * may come back without a schema, so a missing column there is an empty column.
 */
export function columnOf<T>(table: ArrowTable, name: string): T[] {
  const vector = table.getChild(name);
  if (!vector) {
    if (table.numRows === 0) return [];
    throw new Error(`LanceDB result has no column ${name}`);
  }
  const out: T[] = new Array(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const value: unknown = vector.get(i);
    out[i] = (typeof value === 'bigint' ? Number(value) : value) as T;
  }
  return out;
}

function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const HEAD_COLUMNS = ['source_id', 'source_version', 'content_hash', 'deleted'];

function headsOf(result: ArrowTable): SourceHead[] {
  const ids = columnOf<string>(result, 'source_id');
  const versions = columnOf<number>(result, 'source_version');
  const hashes = columnOf<string | null>(result, 'content_hash');
  const deleted = columnOf<boolean>(result, 'deleted');
  return ids.map((sourceId, i) =>
    Object.freeze({
      sourceId,
      sourceVersion: versions[i] as number,
      contentHash: hashes[i] ?? null,
      deleted: deleted[i] === true,
    }),
  );
}

/** Heads of the given sources; absent sources are missing from the map. */
export async function readHeads(
  table: LanceTableLike,
  sourceIds: readonly string[],
): Promise<Map<string, SourceHead>> {
  const out = new Map<string, SourceHead>();
  for (const ids of chunked([...new Set(sourceIds)], IN_CHUNK)) {
    const result = await table
      .query()
      .where(and(kindIs('head'), inList('source_id', ids)))
      .select(HEAD_COLUMNS)
      .toArrow();
    for (const head of headsOf(result)) out.set(head.sourceId, head);
  }
  return out;
}

/** Heads in source-id order after `afterId`, at most `limit` of them (the engine sorts and limits). */
export async function scanHeads(
  table: LanceTableLike,
  afterId: string | undefined,
  limit: number,
): Promise<SourceHead[]> {
  const result = await table
    .query()
    .where(headsAfter(afterId))
    .orderBy({ columnName: 'source_id', ascending: true, nullsFirst: false })
    .limit(limit)
    .select(HEAD_COLUMNS)
    .toArrow();
  return headsOf(result);
}

/** What the namespace holds for each of the given sources: the input of `planWrite`. */
export async function readSourceState(
  table: LanceTableLike,
  sourceIds: readonly string[],
): Promise<Map<string, StoredSource>> {
  const heads = new Map<string, SourceHead>();
  const keys = new Map<string, string[]>();
  for (const ids of chunked([...new Set(sourceIds)], IN_CHUNK)) {
    const result = await table
      .query()
      .where(rowsOfSources(ids))
      .select(['key', 'kind', ...HEAD_COLUMNS])
      .toArrow();
    const kinds = columnOf<string>(result, 'kind');
    const rowKeys = columnOf<string>(result, 'key');
    const all = headsOf(result);
    all.forEach((row, i) => {
      // Duplicate heads cannot be committed (the key is the table's primary key); keep the newest anyway.
      if (kinds[i] === 'head') {
        const seen = heads.get(row.sourceId);
        if (!seen || seen.sourceVersion < row.sourceVersion) heads.set(row.sourceId, row);
      } else {
        const list = keys.get(row.sourceId) ?? [];
        list.push(rowKeys[i] as string);
        keys.set(row.sourceId, list);
      }
    });
  }
  const out = new Map<string, StoredSource>();
  for (const id of new Set([...heads.keys(), ...keys.keys()])) {
    out.set(id, { head: heads.get(id) ?? null, chunkKeys: keys.get(id) ?? [] });
  }
  return out;
}
