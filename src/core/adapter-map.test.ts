import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AffineMap } from './adapter-fit.js';
import { applyAffine } from './adapter-fit.js';
import { mapRows, mapVector, prepareMap } from './adapter-map.js';
import { simdAvailable } from './simd-map.js';

function randomMap(p: number, q: number, seed: number): AffineMap {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return {
    inputDimension: p,
    outputDimension: q,
    weights: Float32Array.from({ length: p * q }, next),
    bias: Float32Array.from({ length: q }, next),
  };
}

function rowsOf(count: number, p: number, seed: number): Float32Array {
  return randomMap(count, p, seed).weights;
}

/** The reference: one row at a time, in the input-major (axpy) form with f64 sums. */
function applyAffineRows(map: AffineMap, rows: Float32Array, normalise: boolean): Float32Array {
  const p = map.inputDimension;
  const q = map.outputDimension;
  const n = rows.length / p;
  const out = new Float32Array(n * q);
  for (let r = 0; r < n; r++) {
    applyAffine(map, rows.subarray(r * p, (r + 1) * p), out.subarray(r * q, (r + 1) * q), normalise);
  }
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

describe('affine map kernels', () => {
  it('assembles a valid WebAssembly module, and this runtime (Node 20) runs it in SIMD', () => {
    expect(simdAvailable()).toBe(true);
    expect(prepareMap(randomMap(8, 3, 1)).simd).not.toBeNull();
  });

  it('falls back to JavaScript when the input dimension is not a multiple of 4, or when asked', () => {
    expect(prepareMap(randomMap(6, 4, 1)).simd).toBeNull();
    expect(prepareMap(randomMap(8, 4, 1), { simd: false }).simd).toBeNull();
  });

  it('SIMD, JavaScript and the reference row-by-row form agree on any shape and row count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }).map((k) => k * 4),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 0, max: 1_100 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 1_000_000 }),
        (p, q, count, normalise, seed) => {
          const map = randomMap(p, q, seed);
          const rows = rowsOf(count, p, seed + 1);
          const reference = applyAffineRows(map, rows, normalise);
          const simd = mapRows(prepareMap(map), rows, count, new Float32Array(count * q), normalise);
          const js = mapRows(
            prepareMap(map, { simd: false }),
            rows,
            count,
            new Float32Array(count * q),
            normalise,
          );
          // Sums of up to 96 products of magnitude ≤ 0.25: f32 lanes stay within 1e-4 of f64 sums.
          expect(maxDiff(simd, reference)).toBeLessThan(1e-4);
          expect(maxDiff(js, reference)).toBeLessThan(1e-4);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('maps more rows than one kernel chunk, and one vector at a time, identically', () => {
    const map = randomMap(384, 384, 7);
    const count = 2_500; // over two chunks of 1,024 rows
    const rows = rowsOf(count, 384, 8);
    const prepared = prepareMap(map);
    const all = mapRows(prepared, rows, count, new Float32Array(count * 384), true);
    for (const r of [0, 1_023, 1_024, 2_049, count - 1]) {
      const one = mapVector(prepared, rows.subarray(r * 384, (r + 1) * 384), true);
      expect(maxDiff(one, all.subarray(r * 384, (r + 1) * 384))).toBeLessThan(1e-6);
    }
    expect(maxDiff(all, applyAffineRows(map, rows, true))).toBeLessThan(1e-5);
  });
});
