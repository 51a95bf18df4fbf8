import { randomBytes } from 'node:crypto';
import type { Schema } from 'apache-arrow';
import { sha256Hex } from '../../core/canonical.js';
import type { ArrowModule } from './lance-types.js';

/**
 * Table layout of the LanceDB store.
 *
 * - `reembed_namespaces`: one row per namespace (its descriptor and the physical table holding it).
 * - one records table per namespace, holding three kinds of rows keyed by `key`:
 *   - `chunk`: one embedded chunk (provenance, text, metadata, vector);
 *   - `head`: one per source, the newest version the namespace holds or its tombstone;
 *   - `retired`: a chunk row a newer version dropped, blanked in the same commit and deleted right after.
 *   `metadata` keeps the JSON as written; `meta_kv` holds one token per scalar member so metadata
 *   filters run in the engine (see `metadataTokens`). Cosine namespaces store unit-length vectors.
 *
 * Heads live in the records table, not a table of their own, because LanceDB has no multi-table
 * transactions but commits one `mergeInsert` atomically: a versioned replace of a source (its new
 * chunks, its retired chunks and its head) is therefore one commit, and a crash leaves the old state
 * or the new, never records without their head or a head without its records.
 *
 * LanceDB OSS cannot rename tables, and this store never needs to: aliases and cutover live in the
 * catalog, which switches the namespace a query reads in one update. Physical table names carry a
 * random generation so a namespace dropped and created again never reuses a table another process
 * may still hold open.
 */
export const DESCRIPTOR_TABLE = 'reembed_namespaces';

export const ROW_KINDS = ['chunk', 'head', 'retired'] as const;
export type RowKind = (typeof ROW_KINDS)[number];

/** Columns that get a scalar index: `key` for the merge join, `source_id` for head lookups and scans. */
export const BTREE_COLUMNS = ['key', 'source_id'] as const;
export const BITMAP_COLUMNS = ['kind'] as const;

export function recordsSchema(arrow: ArrowModule, dimension: number): Schema {
  const { Field, Utf8, Int32, Int64, Bool, List, FixedSizeList, Float32 } = arrow;
  return new arrow.Schema([
    new Field('key', new Utf8(), false),
    new Field('kind', new Utf8(), false),
    new Field('source_id', new Utf8(), false),
    new Field('record_id', new Utf8(), true),
    new Field('chunk_index', new Int32(), true),
    new Field('fingerprint', new Utf8(), false),
    new Field('content_hash', new Utf8(), true),
    new Field('source_version', new Int64(), false),
    new Field('embedded_at', new Utf8(), false),
    new Field('tenant', new Utf8(), true),
    new Field('metadata', new Utf8(), false),
    new Field('meta_kv', new List(new Field('item', new Utf8(), true)), false),
    new Field('text', new Utf8(), false),
    new Field('deleted', new Bool(), false),
    new Field('chunk_count', new Int32(), false),
    // Nullable: head and retired rows carry no vector, and LanceDB's vector search skips null vectors.
    new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), true),
  ]);
}

export function descriptorsSchema(arrow: ArrowModule): Schema {
  const { Field, Utf8, Int32 } = arrow;
  return new arrow.Schema([
    new Field('name', new Utf8(), false),
    new Field('fingerprint', new Utf8(), false),
    new Field('space_name', new Utf8(), false),
    new Field('dimension', new Int32(), false),
    new Field('metric', new Utf8(), false),
    new Field('table_name', new Utf8(), false),
    new Field('created_at', new Utf8(), false),
  ]);
}

/**
 * Every table of a namespace starts with this prefix: a readable part (LanceDB allows letters, digits,
 * `_`, `-` and `.` in table names; namespace names also use `@`) plus a hash that keeps two names that
 * sanitise alike apart.
 */
export function tablePrefixFor(namespace: string): string {
  const readable = namespace.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
  return `ns_${readable}_${sha256Hex(namespace).slice(0, 8)}_`;
}

export function newTableName(namespace: string): string {
  return `${tablePrefixFor(namespace)}${randomBytes(4).toString('hex')}`;
}

/** Row keys: JSON arrays, so no choice of source or chunk id can make two keys collide. */
export function headKey(sourceId: string): string {
  return JSON.stringify([sourceId]);
}

export function chunkKey(sourceId: string, chunkId: string): string {
  return JSON.stringify([sourceId, chunkId]);
}
