import type { Metadata, SearchFilter } from '../../core/records.js';
import type { RowKind } from './schema.js';

/**
 * LanceDB predicates (DataFusion SQL), built by pure functions so they can be printed and tested as
 * strings (STYLE.md #6). Every value goes through `sqlString`/`sqlNumber`; nothing is interpolated raw.
 */

/** A SQL string literal: single quotes doubled. DataFusion treats backslashes literally in '...'. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlNumber(value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`sqlNumber: ${value} is not a safe integer`);
  return String(value);
}

export function kindIs(kind: RowKind): string {
  return `kind = ${sqlString(kind)}`;
}

/** `column IN (...)`; an empty list is `false`, so a predicate over no ids matches nothing. */
export function inList(column: string, values: readonly string[]): string {
  if (values.length === 0) return 'false';
  return `${column} IN (${values.map(sqlString).join(', ')})`;
}

export function and(...parts: (string | null | undefined)[]): string {
  const kept = parts.filter((p): p is string => typeof p === 'string' && p.length > 0);
  return kept.length === 0 ? 'true' : kept.map((p) => `(${p})`).join(' AND ');
}

/** Rows of the given sources: what a versioned write reads before it plans. */
export function rowsOfSources(sourceIds: readonly string[]): string {
  return and(inList('source_id', sourceIds), `kind IN ('head', 'chunk')`);
}

/** Chunk rows older than their source's head, per source: what a reconcile after a lost race deletes. */
export function staleChunks(heads: ReadonlyMap<string, number>): string | null {
  if (heads.size === 0) return null;
  const per = [...heads].map(
    ([id, version]) => `(source_id = ${sqlString(id)} AND source_version < ${sqlNumber(version)})`,
  );
  return and(kindIs('chunk'), per.join(' OR '));
}

/** Every row of a source older than `version` (heads, chunks, tombstones): what a heal after a raced append deletes. */
export function olderThan(sourceId: string, version: number): string {
  return `source_id = ${sqlString(sourceId)} AND source_version < ${sqlNumber(version)}`;
}

/** One copy of a key at a version, named by row id too (see `redundantRows`). */
export function copyOf(rowId: bigint, key: string, version: number): string {
  return `_rowid = ${rowId.toString()} AND key = ${sqlString(key)} AND source_version = ${sqlNumber(version)}`;
}

/** Heads in source-id order after `afterId` (scanHeads); byte order, like SQLite's BINARY collation. */
export function headsAfter(afterId: string | undefined): string {
  return and(kindIs('head'), afterId === undefined ? null : `source_id > ${sqlString(afterId)}`);
}

/**
 * One token per scalar top-level metadata member, stored in `meta_kv` so that metadata equality is an
 * exact `array_has` test in the engine: `["color","red"]`, `["year",2024]`, `["draft",false]`. JSON keeps
 * types apart (`3` never matches `"3"`), as the other stores' strict equality does. Nested values are not
 * filterable (filters only compare scalars), so they get no token.
 */
export function metadataToken(key: string, value: string | number | boolean): string {
  return JSON.stringify([key, value]);
}

export function metadataTokens(metadata: Metadata): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value === 'string' || typeof value === 'boolean') out.push(metadataToken(key, value));
    else if (typeof value === 'number' && Number.isFinite(value)) out.push(metadataToken(key, value));
  }
  return out;
}

/**
 * The engine-side form of a `SearchFilter` (validated beforehand by `compileFilter`): tenant equality
 * and, per metadata key, `array_has` for equality or `array_has_any` for `$in`. Returns null when the
 * filter constrains nothing. Because it runs as a prefilter of an exact scan, filtered search returns the
 * true top-k among matching rows.
 */
export function filterPredicate(filter: SearchFilter | undefined): string | null {
  if (!filter) return null;
  const parts: string[] = [];
  if (filter.tenant !== undefined) parts.push(`tenant = ${sqlString(filter.tenant)}`);
  for (const [key, condition] of Object.entries(filter.metadata ?? {})) {
    if (typeof condition === 'object') {
      const tokens = condition.$in.map((v) => sqlString(metadataToken(key, v)));
      parts.push(tokens.length === 0 ? 'false' : `array_has_any(meta_kv, make_array(${tokens.join(', ')}))`);
    } else {
      parts.push(`array_has(meta_kv, ${sqlString(metadataToken(key, condition))})`);
    }
  }
  return parts.length === 0 ? null : and(...parts);
}
