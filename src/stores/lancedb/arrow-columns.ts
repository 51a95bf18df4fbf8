import type { Data } from 'apache-arrow';
import type { ArrowModule } from './lance-types.js';

/**
 * Arrow column data built straight from typed arrays. apache-arrow's generic builders
 * (`vectorFromArray`) cost tens of microseconds per row; a write batch has a row per chunk plus one
 * per source, so building the buffers directly keeps Arrow conversion a small part of a write.
 */
const encoder = new TextEncoder();

function validity(n: number, isValid: (i: number) => boolean): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (isValid(i)) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
    else nulls += 1;
  }
  return { bitmap, nulls };
}

/** The null count and validity bitmap of a column of `values` where `null` is missing (no bitmap without nulls). */
function nullsOf(values: readonly unknown[]): { nullCount: number; nullBitmap: Uint8Array | null } {
  const { bitmap, nulls } = validity(values.length, (i) => values[i] !== null);
  return { nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : null };
}

function utf8Buffers(values: readonly (string | null)[]): { offsets: Int32Array; bytes: Uint8Array } {
  let chars = 0;
  for (const v of values) chars += v?.length ?? 0;
  // UTF-8 needs at most 3 bytes per UTF-16 code unit; encodeInto writes in place, with no per-string copy.
  const buffer = new Uint8Array(chars * 3);
  const offsets = new Int32Array(values.length + 1);
  let position = 0;
  values.forEach((v, i) => {
    if (v) position += encoder.encodeInto(v, buffer.subarray(position)).written;
    offsets[i + 1] = position;
  });
  return { offsets, bytes: buffer.subarray(0, position) };
}

export function utf8Column(arrow: ArrowModule, values: readonly (string | null)[]): Data {
  const { offsets, bytes } = utf8Buffers(values);
  return arrow.makeData({
    type: new arrow.Utf8(),
    length: values.length,
    ...nullsOf(values),
    valueOffsets: offsets,
    data: bytes,
  });
}

/** A `List<Utf8>` column without nulls (the list or its items). */
export function utf8ListColumn(
  arrow: ArrowModule,
  type: unknown,
  lists: readonly (readonly string[])[],
): Data {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((list, i) => {
    offsets[i + 1] = (offsets[i] as number) + list.length;
  });
  return arrow.makeData({
    type: type as InstanceType<ArrowModule['List']>,
    length: lists.length,
    nullCount: 0,
    valueOffsets: offsets,
    child: utf8Column(arrow, lists.flat()),
  });
}

export function int32Column(arrow: ArrowModule, values: readonly (number | null)[]): Data {
  return arrow.makeData({
    type: new arrow.Int32(),
    length: values.length,
    ...nullsOf(values),
    data: Int32Array.from(values, (v) => v ?? 0),
  });
}

export function int64Column(arrow: ArrowModule, values: readonly number[]): Data {
  return arrow.makeData({
    type: new arrow.Int64(),
    length: values.length,
    nullCount: 0,
    data: BigInt64Array.from(values, (v) => BigInt(v)),
  });
}

export function boolColumn(arrow: ArrowModule, values: readonly boolean[]): Data {
  return arrow.makeData({
    type: new arrow.Bool(),
    length: values.length,
    nullCount: 0,
    data: validity(values.length, (i) => values[i] === true).bitmap,
  });
}

/** A nullable `FixedSizeList<Float32>(dimension)` column: one contiguous buffer plus a validity bitmap. */
export function vectorColumn(
  arrow: ArrowModule,
  type: unknown,
  dimension: number,
  vectors: readonly (Float32Array | null)[],
): Data {
  const n = vectors.length;
  const values = new Float32Array(n * dimension);
  vectors.forEach((v, i) => {
    if (v !== null) values.set(v, i * dimension);
  });
  const { bitmap, nulls } = validity(n, (i) => vectors[i] !== null);
  const child = arrow.makeData({ type: new arrow.Float32(), length: n * dimension, data: values });
  return arrow.makeData({
    type: type as InstanceType<ArrowModule['FixedSizeList']>,
    length: n,
    nullCount: nulls,
    nullBitmap: bitmap,
    child,
  });
}
