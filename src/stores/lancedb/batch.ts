import type { Table as ArrowTable, Schema } from 'apache-arrow';
import {
  boolColumn,
  int32Column,
  int64Column,
  utf8Column,
  utf8ListColumn,
  vectorColumn,
} from './arrow-columns.js';
import type { ArrowModule } from './lance-types.js';
import type { PlannedRow } from './plan.js';

const metaKvOf = (r: PlannedRow) => r.metaKv;
const vectorOf = (r: PlannedRow) => r.vector;

/** Builds the Arrow table of a write, column by column, in the order of the records schema. */
export function rowsToArrow(
  arrow: ArrowModule,
  schema: Schema,
  dimension: number,
  rows: readonly PlannedRow[],
): ArrowTable {
  const values = <T>(pick: (r: PlannedRow) => T): T[] => rows.map(pick);
  const str = (pick: (r: PlannedRow) => string | null) => utf8Column(arrow, values(pick));
  const int32 = (pick: (r: PlannedRow) => number | null) => int32Column(arrow, values(pick));
  const int64 = (pick: (r: PlannedRow) => number) => int64Column(arrow, values(pick));
  const bool = (pick: (r: PlannedRow) => boolean) => boolColumn(arrow, values(pick));
  const typeOf = (name: string): unknown => {
    const field = schema.fields.find((f) => f.name === name);
    if (!field) throw new Error(`records schema has no column ${name}`);
    return field.type;
  };
  const columns: Record<string, () => unknown> = {
    key: () => str((r) => r.key),
    kind: () => str((r) => r.kind),
    source_id: () => str((r) => r.sourceId),
    record_id: () => str((r) => r.recordId),
    chunk_index: () => int32((r) => r.chunkIndex),
    fingerprint: () => str((r) => r.fingerprint),
    content_hash: () => str((r) => r.contentHash),
    source_version: () => int64((r) => r.sourceVersion),
    embedded_at: () => str((r) => r.embeddedAt),
    tenant: () => str((r) => r.tenant),
    metadata: () => str((r) => r.metadata),
    meta_kv: () => utf8ListColumn(arrow, typeOf('meta_kv'), values(metaKvOf)),
    text: () => str((r) => r.text),
    deleted: () => bool((r) => r.deleted),
    chunk_count: () => int32((r) => r.chunkCount),
    vector: () => vectorColumn(arrow, typeOf('vector'), dimension, values(vectorOf)),
  };
  const children = schema.fields.map((f) => {
    const build = columns[f.name];
    if (!build) throw new Error(`no builder for column ${f.name}`);
    return build();
  });
  const struct = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length: rows.length,
    nullCount: 0,
    children: children as never,
  });
  return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
}
