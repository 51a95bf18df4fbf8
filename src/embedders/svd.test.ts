import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { type CsrMatrix, gaussian, orthonormalize, randomizedSvd } from './svd.js';

function randomSparse(
  rows: number,
  cols: number,
  density: number,
  seed: number,
): { csr: CsrMatrix; dense: Matrix } {
  const rng = gaussian(seed);
  const dense = new Matrix(rows, cols);
  const rowPtr = new Int32Array(rows + 1);
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (Math.abs(rng()) < density * 2.5) {
        const v = rng();
        dense.set(r, c, v);
        colIdx.push(c);
        values.push(v);
      }
    }
    rowPtr[r + 1] = colIdx.length;
  }
  return {
    csr: { rows, cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float64Array.from(values) },
    dense,
  };
}

describe('randomizedSvd', () => {
  it('recovers the leading singular values and orthonormal right singular vectors', () => {
    const { csr, dense } = randomSparse(60, 90, 0.2, 3);
    const exact = new SingularValueDecomposition(dense, { autoTranspose: true });
    const k = 10;
    const svd = randomizedSvd(csr, { rank: k, seed: 1, oversampling: 10, powerIterations: 4 });
    // A random matrix has a flat spectrum, the hardest case for randomized SVD: allow 1% relative error.
    for (let j = 0; j < k; j++) {
      const truth = exact.diagonal[j] as number;
      expect(Math.abs((svd.sigma[j] as number) - truth) / truth).toBeLessThan(0.01);
    }
    // VᵀV = I
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let d = 0;
        for (let r = 0; r < csr.cols; r++) d += (svd.v[r * k + a] as number) * (svd.v[r * k + b] as number);
        expect(d).toBeCloseTo(a === b ? 1 : 0, 6);
      }
    }
  });

  it('is exact when rank + oversampling covers the matrix, and deterministic per seed', () => {
    const { csr, dense } = randomSparse(20, 30, 0.3, 5);
    const exact = new SingularValueDecomposition(dense, { autoTranspose: true });
    const a = randomizedSvd(csr, { rank: 8, seed: 9, oversampling: 12 });
    const b = randomizedSvd(csr, { rank: 8, seed: 9, oversampling: 12 });
    expect(a).toEqual(b);
    for (let j = 0; j < 8; j++) expect(a.sigma[j]).toBeCloseTo(exact.diagonal[j] as number, 8);
  });

  it('handles rank-deficient input without NaN (zero components)', () => {
    // Two identical rows: rank 1.
    const csr: CsrMatrix = {
      rows: 3,
      cols: 3,
      rowPtr: Int32Array.from([0, 2, 4, 4]),
      colIdx: Int32Array.from([0, 1, 0, 1]),
      values: Float64Array.from([1, 2, 1, 2]),
    };
    const svd = randomizedSvd(csr, { rank: 3, seed: 1 });
    expect(svd.sigma[0]).toBeCloseTo(Math.sqrt(10), 8);
    expect(Array.from(svd.v).every(Number.isFinite)).toBe(true);
    expect(svd.sigma[2]).toBeCloseTo(0, 6);
  });

  it('orthonormalize returns orthonormal columns', () => {
    const rng = gaussian(2);
    const rows = 40;
    const width = 6;
    const y = Float64Array.from({ length: rows * width }, () => rng());
    const q = orthonormalize(y, rows, width, rng);
    for (let a = 0; a < width; a++) {
      for (let b = 0; b < width; b++) {
        let d = 0;
        for (let r = 0; r < rows; r++) d += (q[r * width + a] as number) * (q[r * width + b] as number);
        expect(d).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
  });
});
