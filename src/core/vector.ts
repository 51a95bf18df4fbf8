import { ReembedError } from './errors.js';

/**
 * Validates one vector: the right length and only finite values. Throws `DIMENSION_MISMATCH` or
 * `INVALID_VECTOR` naming the position, so a provider's bad output never reaches a store.
 */
export function validateVector(
  vector: ArrayLike<number>,
  dimension: number,
  where: string,
): asserts vector is Float32Array | number[] {
  if (vector.length !== dimension) {
    throw new ReembedError(
      'DIMENSION_MISMATCH',
      `${where}: vector has ${vector.length} dimensions, the space expects ${dimension}. Check the model and the space's dimension.`,
      { details: { expected: dimension, actual: vector.length, where } },
    );
  }
  if (vector instanceof Float32Array && sumOfSquaresIsFinite(vector)) return;
  for (let i = 0; i < vector.length; i++) {
    const v = vector[i] as number;
    if (!Number.isFinite(v)) {
      throw new ReembedError(
        'INVALID_VECTOR',
        `${where}: component ${i} is ${v}; vectors must hold finite numbers only. The embedder returned bad output.`,
        { details: { index: i, value: String(v), where } },
      );
    }
  }
}

/**
 * Refuses a query vector that cannot rank anything: under cosine or dot every record scores 0 against a
 * zero vector, so the "hits" would be arbitrary. `INVALID_VECTOR` with `details.reason = 'zero-norm'`;
 * `hint` says where the vector came from and what to do (e.g. a text with no word the model knows).
 * l2 ranks by distance to the origin, a real ordering, so it is allowed there.
 */
export function assertQueryVector(
  vector: Float32Array,
  metric: 'cosine' | 'dot' | 'l2',
  where: string,
  hint = 'Pass a vector with at least one non-zero component.',
): void {
  if (metric === 'l2' || sumOfSquares(vector) > 0) return;
  throw new ReembedError(
    'INVALID_VECTOR',
    `${where} is all zeros: under ${metric} similarity every record would score 0 and the hits would be arbitrary. ${hint}`,
    { details: { reason: 'zero-norm', metric, where } },
  );
}

/**
 * Whether every component of a float32 vector is finite, by one sum of squares: NaN and ±Infinity propagate
 * into it, and a float32's square cannot overflow a double (a sum of 2^31 of them cannot either). Only for
 * Float32Array, whose elements are always numbers: in a plain array, `null * null` is 0 and `'2' * '2'` is 4.
 */
function sumOfSquaresIsFinite(vector: Float32Array): boolean {
  return Number.isFinite(sumOfSquares(vector));
}

/** Σ v[i]² in float64. */
function sumOfSquares(vector: Float32Array): number {
  return dot(vector, vector);
}

export function toFloat32(vector: ArrayLike<number>): Float32Array {
  return vector instanceof Float32Array ? vector : Float32Array.from(vector as ArrayLike<number>);
}

/**
 * A squared norm within this of 1 is unit to float32 precision (one float32 epsilon at 1.0): a vector
 * normalised in float32 lands within ~5e-8 of 1 at any dimension from 64 to 3,072, and rescaling it would
 * move its components by rounding error at most (the factor is within half a float32 ulp of 1). Embedding
 * providers mostly return such vectors; a cosine namespace's store then copies them without a scaling pass.
 */
export const UNIT_TOLERANCE = 2 ** -23;

/**
 * 1 / ‖v‖ (float64 sum of squares), or exactly 1 when there is nothing to scale: a zero vector, or one
 * already unit to float32 precision (`UNIT_TOLERANCE`).
 */
export function inverseNorm(vector: Float32Array): number {
  const sum = sumOfSquares(vector);
  return sum > 0 && Math.abs(sum - 1) > UNIT_TOLERANCE ? 1 / Math.sqrt(sum) : 1;
}

/**
 * L2-normalises in place and returns the vector; a zero vector stays zero, and a vector already unit to
 * float32 precision stays exactly as it is (so normalising is idempotent, byte for byte).
 */
export function normalizeInPlace(vector: Float32Array): Float32Array {
  const inv = inverseNorm(vector);
  if (inv !== 1) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) * inv;
  return vector;
}

/** Σ a[i]·b[offsetB + i] in float64, with four accumulators (independent additions pipeline: ~2x one running sum). */
export function dot(a: Float32Array, b: Float32Array, offsetB = 0): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += (a[i] as number) * (b[offsetB + i] as number);
    s1 += (a[i + 1] as number) * (b[offsetB + i + 1] as number);
    s2 += (a[i + 2] as number) * (b[offsetB + i + 2] as number);
    s3 += (a[i + 3] as number) * (b[offsetB + i + 3] as number);
  }
  for (; i < n; i++) s0 += (a[i] as number) * (b[offsetB + i] as number);
  return s0 + s1 + s2 + s3;
}

/** Vector ↔ bytes for BLOB storage (little-endian float32, the platform order on every target we run). */
export function vectorToBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function bytesToVector(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer, 0, bytes.byteLength / 4);
}

/**
 * Similarity of two vectors as the stores rank them (higher is better for every metric): cosine, inner
 * product, or −squared L2 distance. Used where a score is computed outside a store (a probe's held-out
 * document) and must be comparable with the store's own scores.
 */
export function similarity(metric: 'cosine' | 'dot' | 'l2', a: Float32Array, b: Float32Array): number {
  if (metric === 'dot') return dot(a, b);
  if (metric === 'cosine') {
    const na = Math.sqrt(sumOfSquares(a));
    const nb = Math.sqrt(sumOfSquares(b));
    return na === 0 || nb === 0 ? 0 : dot(a, b) / (na * nb);
  }
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    sum += d * d;
  }
  return -sum;
}
