/**
 * pgvector's binary wire format, so vectors travel as bytes instead of decimal text. `pg` sends a Buffer
 * parameter in binary format; formatting 384 floats as text costs ~40 µs per vector in JS plus parsing on
 * the server, which would dominate a backfill. Layouts follow pgvector's `vector_recv` and Postgres'
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
 * extension's type oid differs per database.
 */
export function encodeVectorArray(vectors: readonly Float32Array[], vectorOid: number): Buffer {
  let size = 20;
  for (const v of vectors) size += 8 + 4 * v.length;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(1, 0); // dimensions of the array
  out.writeInt32BE(0, 4); // no NULLs
  out.writeUInt32BE(vectorOid, 8);
  out.writeInt32BE(vectors.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let offset = 20;
  for (const v of vectors) {
    out.writeInt32BE(4 + 4 * v.length, offset);
    offset = writeVector(out, offset + 4, v);
  }
  return out;
}

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
