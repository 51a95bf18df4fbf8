import type { Table as ArrowTable } from 'apache-arrow';
import type { SourceHead } from '../../core/records.js';
import type { LanceTableLike } from './lance-types.js';
import type { StoredSource } from './plan.js';
import { and, copyOf, headsAfter, inList, kindIs, olderThan, rowsOfSources } from './sql.js';

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

/** One row as `readSourceState` reads it: enough to plan a write and to find redundant copies. */
export interface ReadRow {
  readonly rowId: bigint;
  readonly key: string;
  readonly kind: string;
  readonly sourceId: string;
  readonly sourceVersion: number;
}

/** What the namespace holds for the given sources: the input of `planWrite`, and rows to heal first. */
export interface SourceState {
  readonly sources: Map<string, StoredSource>;
  /** Predicates of rows a raced append left redundant (see `redundantRows`); empty normally. */
  readonly redundant: readonly string[];
}

/** What the namespace holds for each of the given sources: the input of `planWrite`. */
export async function readSourceState(
  table: LanceTableLike,
  sourceIds: readonly string[],
): Promise<SourceState> {
  const rows: ReadRow[] = [];
  const heads = new Map<string, SourceHead>();
  for (const ids of chunked([...new Set(sourceIds)], IN_CHUNK)) {
    const result = await table
      .query()
      .where(rowsOfSources(ids))
      .select(['key', 'kind', ...HEAD_COLUMNS])
      .withRowId()
      .toArrow();
    const kinds = columnOf<string>(result, 'kind');
    const rowKeys = columnOf<string>(result, 'key');
    const rowIds = result.getChild('_rowid');
    headsOf(result).forEach((row, i) => {
      const kind = kinds[i] as string;
      rows.push({
        rowId: rowIds?.get(i) as bigint,
        key: rowKeys[i] as string,
        kind,
        sourceId: row.sourceId,
        sourceVersion: row.sourceVersion,
      });
      // Two heads of one source exist only after a raced append, until healed: the newest counts.
      const seen = heads.get(row.sourceId);
      if (kind === 'head' && (!seen || seen.sourceVersion < row.sourceVersion)) heads.set(row.sourceId, row);
    });
  }
  const keys = new Map<string, string[]>();
  for (const row of rows) {
    if (row.kind === 'head') continue;
    const list = keys.get(row.sourceId) ?? [];
    list.push(row.key);
    keys.set(row.sourceId, list);
  }
  const sources = new Map<string, StoredSource>();
  for (const id of new Set([...heads.keys(), ...keys.keys()])) {
    sources.set(id, { head: heads.get(id) ?? null, chunkKeys: keys.get(id) ?? [] });
  }
  return { sources, redundant: redundantRows(rows) };
}

/**
 * Rows that cannot coexist with the others in a consistent namespace, as delete predicates: per source,
 * rows older than its newest head (a tombstone included), and extra copies of one key at one version
 * (the lowest row id is kept). Only an append that raced a commit of another process leaves such rows
 * (`commitPlan`); a versioned `mergeInsert` never does. A copy is named by row id *and* key and version,
 * so if a compaction in another process moved row ids meanwhile, a predicate can only remove another
 * copy of the same key and version, never the last one of it nor any other row.
 */
export function redundantRows(rows: readonly ReadRow[]): string[] {
  const newest = new Map<string, number>();
  for (const row of rows) {
    if (row.kind !== 'head') continue;
    newest.set(row.sourceId, Math.max(newest.get(row.sourceId) ?? 0, row.sourceVersion));
  }
  const out = new Set<string>();
  const copies = new Map<string, ReadRow[]>();
  for (const row of rows) {
    const head = newest.get(row.sourceId) ?? 0;
    if (row.sourceVersion < head) {
      out.add(olderThan(row.sourceId, head));
      continue;
    }
    const group = `${row.key}\u0000${row.sourceVersion}`;
    copies.set(group, [...(copies.get(group) ?? []), row]);
  }
  for (const group of copies.values()) {
    if (group.length < 2) continue;
    const [, ...extra] = [...group].sort((a, b) => (a.rowId < b.rowId ? -1 : 1));
    for (const row of extra) out.add(copyOf(row.rowId, row.key, row.sourceVersion));
  }
  return [...out];
}
