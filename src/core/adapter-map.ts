import type { AffineMap } from './adapter-fit.js';
import { SimdMapper } from './simd-map.js';

/**
 * Applying an affine map fast: the weights are kept transposed (one output's weights contiguous), so each
 * output is a dot product over contiguous memory, and rows are mapped four at a time so every weight
 * loaded serves four rows — in WebAssembly SIMD when the runtime has it and the input dimension is a
 * multiple of 4 (5–12 times the JavaScript kernel's throughput: see simd-map.ts), else in JavaScript.
 */
export interface PreparedMap {
  readonly map: AffineMap;
  /** output × input, row-major: row j holds the weights of output j. */
  readonly transposed: Float32Array;
  /** The SIMD kernel holding these weights, or null (JavaScript kernel). */
  readonly simd: SimdMapper | null;
}

export function prepareMap(map: AffineMap, options: { simd?: boolean } = {}): PreparedMap {
  const { inputDimension: p, outputDimension: q, weights } = map;
  const transposed = new Float32Array(p * q);
  for (let i = 0; i < p; i++) {
    const o = i * q;
    for (let j = 0; j < q; j++) transposed[j * p + i] = weights[o + j] as number;
  }
  const simd = options.simd === false ? null : SimdMapper.create(transposed, map.bias, p, q);
  return { map, transposed, simd };
}

/**
 * Maps `count` rows of `rows` (count × input) into `out` (count × output), then optionally scales each
 * output row to unit length (a zero row stays zero).
 */
export function mapRows(
  prepared: PreparedMap,
  rows: Float32Array,
  count: number,
  out: Float32Array,
  normalise: boolean,
): Float32Array {
  if (prepared.simd) prepared.simd.map(rows, count, out);
  else mapRowsJs(prepared, rows, count, out);
  if (normalise) normaliseRows(out, count, prepared.map.outputDimension);
  return out;
}

function mapRowsJs(prepared: PreparedMap, rows: Float32Array, count: number, out: Float32Array): void {
  const { inputDimension: p, outputDimension: q, bias } = prepared.map;
  const wt = prepared.transposed;
  let r = 0;
  for (; r + 3 < count; r += 4) {
    const a = r * p;
    const b = a + p;
    const c = b + p;
    const d = c + p;
    for (let j = 0; j < q; j++) {
      const w = j * p;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < p; i++) {
        const wi = wt[w + i] as number;
        s0 += (rows[a + i] as number) * wi;
        s1 += (rows[b + i] as number) * wi;
        s2 += (rows[c + i] as number) * wi;
        s3 += (rows[d + i] as number) * wi;
      }
      const bj = bias[j] as number;
      out[r * q + j] = s0 + bj;
      out[(r + 1) * q + j] = s1 + bj;
      out[(r + 2) * q + j] = s2 + bj;
      out[(r + 3) * q + j] = s3 + bj;
    }
  }
  for (; r < count; r++) {
    const a = r * p;
    for (let j = 0; j < q; j++) {
      const w = j * p;
      let s0 = 0;
      let s1 = 0;
      let i = 0;
      for (; i + 1 < p; i += 2) {
        s0 += (rows[a + i] as number) * (wt[w + i] as number);
        s1 += (rows[a + i + 1] as number) * (wt[w + i + 1] as number);
      }
      if (i < p) s0 += (rows[a + i] as number) * (wt[w + i] as number);
      out[r * q + j] = s0 + s1 + (bias[j] as number);
    }
  }
}

function normaliseRows(out: Float32Array, count: number, q: number): void {
  for (let k = 0; k < count; k++) {
    const o = k * q;
    let s = 0;
    for (let j = 0; j < q; j++) s += (out[o + j] as number) ** 2;
    if (s > 0) {
      const f = 1 / Math.sqrt(s);
      for (let j = 0; j < q; j++) out[o + j] = (out[o + j] as number) * f;
    }
  }
}

/** One vector through a prepared map (a query bridge maps one query per search). */
export function mapVector(prepared: PreparedMap, x: Float32Array, normalise: boolean): Float32Array {
  return mapRows(prepared, x, 1, new Float32Array(prepared.map.outputDimension), normalise);
}
