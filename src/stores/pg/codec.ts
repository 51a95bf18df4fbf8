import { inverseNorm } from '../../core/vector.js';

/**
 * pgvector's binary wire format, so vectors travel as bytes instead of decimal text. `pg` sends a Buffer
 * parameter in binary format; formatting floats as text in JS, and parsing them on the server, would
 * dominate a backfill (BENCHMARKS.md "Figures behind code choices"). Layouts follow pgvector's `vector_recv` and Postgres'
 * `array_recv` (all integers and floats big-endian).
 */

/** One `vector`: int16 dimension, int16 unused (0), then float4 × dimension. */
export function encodeVector(vector: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(4 + 4 * vector.length);
  writeVector(out, 0, vector);
  return out;
}

/**
 * A one-dimensional `vector[]` (for `unnest($n::vector[])`): array header with the element type's oid,
 * then each element as int32 length + `vector` bytes. `vectorOid` comes from `to_regtype('vector')`, as the
 * extension's type oid differs per database. With `normalize`, each vector is written L2-normalised
 * (exactly `normalizeInPlace`'s values: a zero vector stays zero, and a vector already unit to float32
 * precision is copied as it is, with no per-component work) without copying the caller's vector.
 * The elements are written as native 32-bit words (each element's length, the dimension and unused
 * int16s as one word, the components as floats) and byte-swapped at once at the end on little-endian
 * machines: no per-float big-endian writes, no per-vector views.
 */
export function encodeVectorArray(
  vectors: readonly Float32Array[],
  vectorOid: number,
  options: { readonly normalize?: boolean } = {},
): Buffer {
  let size = 20;
  for (const v of vectors) size += 8 + 4 * v.length;
  // Not pooled: offset 0, so every word (at a multiple of 4 bytes) can be addressed through typed views.
  const out = Buffer.allocUnsafeSlow(size);
  const words = new Uint32Array(out.buffer, out.byteOffset, size >>> 2);
  const floats = new Float32Array(out.buffer, out.byteOffset, size >>> 2);
  const elements = writeArrayHeader(out, vectorOid, vectors.length, false);
  let at = elements >>> 2;
  for (const v of vectors) {
    const n = v.length;
    words[at] = 4 + 4 * n;
    words[at + 1] = (n << 16) >>> 0; // int16 dimension, int16 unused (0)
    at += 2;
    const inv = options.normalize ? inverseNorm(v) : 1;
    if (inv === 1) floats.set(v, at);
    else for (let i = 0; i < n; i++) floats[at + i] = (v[i] as number) * inv;
    at += n;
  }
  if (LITTLE_ENDIAN) out.subarray(elements).swap32(); // the header is written big-endian already
  return out;
}

/** Oid of `text` (fixed in every PostgreSQL database, unlike pgvector's `vector`). */
export const TEXT_OID = 25;

/**
 * A one-dimensional `text[]` in binary (for `unnest($n::text[])`), elements as UTF-8, `null` as SQL NULL.
 * `pg` sends arrays as text literals otherwise, which the server must scan for quotes and escapes: for a
 * batch of 500 document texts that parse costs more than the records' insert work.
 * (The values must not contain NUL characters, which PostgreSQL text cannot hold; callers refuse them.)
 */
export function encodeTextArray(values: readonly (string | null)[]): Buffer {
  let size = 20;
  let hasNulls = false;
  for (const v of values) {
    if (v === null) hasNulls = true;
    size += 4 + (v === null ? 0 : Buffer.byteLength(v, 'utf8'));
  }
  const out = Buffer.allocUnsafe(size);
  let offset = writeArrayHeader(out, TEXT_OID, values.length, hasNulls);
  for (const v of values) {
    if (v === null) {
      out.writeInt32BE(-1, offset);
      offset += 4;
    } else {
      const length = out.write(v, offset + 4, 'utf8');
      out.writeInt32BE(length, offset);
      offset += 4 + length;
    }
  }
  return out;
}

/** Oids of `integer` and `bigint`. */
export const INT4_OID = 23;
export const INT8_OID = 20;

/**
 * A one-dimensional `integer[]` or `bigint[]` (`oid` INT4_OID or INT8_OID) in binary, for `unnest`. `pg`
 * would send a JavaScript array as a text literal built element by element — tens of thousands of
 * short-lived strings per backfill. Values must be safe integers in the type's range.
 */
export function encodeIntArray(values: readonly number[], oid: typeof INT4_OID | typeof INT8_OID): Buffer {
  const width = oid === INT8_OID ? 8 : 4;
  const out = Buffer.allocUnsafe(20 + values.length * (4 + width));
  let offset = writeArrayHeader(out, oid, values.length, false);
  for (const v of values) {
    out.writeInt32BE(width, offset);
    if (width === 4) out.writeInt32BE(v, offset + 4);
    else {
      const high = Math.floor(v / 4294967296);
      out.writeInt32BE(high, offset + 4);
      out.writeUInt32BE(v - high * 4294967296, offset + 8);
    }
    offset += 4 + width;
  }
  return out;
}

/**
 * The header of a one-dimensional binary array (`array_recv`): dimensions, has-NULLs flag, element type
 * oid, length, lower bound 1. Returns where the elements start.
 */
function writeArrayHeader(out: Buffer, elementOid: number, length: number, hasNulls: boolean): number {
  out.writeInt32BE(1, 0);
  out.writeInt32BE(hasNulls ? 1 : 0, 4);
  out.writeUInt32BE(elementOid, 8);
  out.writeInt32BE(length, 12);
  out.writeInt32BE(1, 16);
  return 20;
}

/** The host stores words little-endian (PostgreSQL's binary forms are big-endian). */
export const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function writeVector(out: Buffer, start: number, vector: Float32Array): number {
  out.writeInt16BE(vector.length, start);
  out.writeInt16BE(0, start + 2);
  let offset = start + 4;
  for (let i = 0; i < vector.length; i++) {
    out.writeFloatBE(vector[i] as number, offset);
    offset += 4;
  }
  return offset;
}
