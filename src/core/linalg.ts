import { symmetricEigenRows } from './eigen.js';

/** Small dense linear algebra for adapters (row-major Float64Array matrices). */

/** A row-major dense matrix. */
export interface Dense {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function dense(rows: number, cols: number, data?: Float64Array): Dense {
  return { rows, cols, data: data ?? new Float64Array(rows * cols) };
}

/** Column means of the selected rows of a rows × dim float32 matrix. */
export function columnMeans(rows: Float32Array, dim: number, pick: readonly number[]): Float64Array {
  const mean = new Float64Array(dim);
  for (const r of pick) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) mean[j] = (mean[j] as number) + (rows[o + j] as number);
  }
  const n = Math.max(1, pick.length);
  for (let j = 0; j < dim; j++) mean[j] = (mean[j] as number) / n;
  return mean;
}

/** The selected rows, centred by `mean`, as an n × dim float64 matrix. */
export function centredRows(
  rows: Float32Array,
  dim: number,
  pick: readonly number[],
  mean: Float64Array,
): Dense {
  const out = dense(pick.length, dim);
  pick.forEach((r, i) => {
    const o = r * dim;
    const p = i * dim;
    for (let j = 0; j < dim; j++) out.data[p + j] = (rows[o + j] as number) - (mean[j] as number);
  });
  return out;
}

/** Aᵀ·B for A (n × p) and B (n × q): a p × q matrix (cross-products of columns), without copying Aᵀ. */
export function crossProduct(a: Dense, b: Dense): Dense {
  return product(a, b, true);
}

/** A·B for A (n × p) and B (p × q). */
export function multiply(a: Dense, b: Dense): Dense {
  return product(a, b, false);
}

/**
 * A·B, or Aᵀ·B with `transposeA` (BLAS gemm's `transa`): one pass over A's rows in storage order, each
 * non-zero a[r][i] adding a multiple of one row of B to one row of the result — row i of B into row r
 * for A·B, row r of B into row i for Aᵀ·B.
 */
function product(a: Dense, b: Dense, transposeA: boolean): Dense {
  const { rows: n, cols: p } = a;
  const q = b.cols;
  const out = new Float64Array((transposeA ? p : n) * q);
  for (let r = 0; r < n; r++) {
    const ao = r * p;
    for (let i = 0; i < p; i++) {
      const x = a.data[ao + i] as number;
      if (x === 0) continue;
      const oo = (transposeA ? i : r) * q;
      const bo = (transposeA ? r : i) * q;
      for (let j = 0; j < q; j++) out[oo + j] = (out[oo + j] as number) + x * (b.data[bo + j] as number);
    }
  }
  return dense(transposeA ? p : n, q, out);
}

export function transpose(a: Dense): Dense {
  const out = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j] as number;
  }
  return dense(a.cols, a.rows, out);
}

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  readonly values: Float64Array;
  /** Eigenvectors as columns (n × n), in the order of `values`. */
  readonly vectors: Dense;
}

/** Eigendecomposition of a symmetric matrix (its lower triangle is read), eigenvalues descending. */
export function symmetricEigen(a: Dense): SymmetricEigen {
  const n = a.rows;
  const { values, vectorRows } = symmetricEigenRows(a.data, n);
  return { values, vectors: transpose(dense(n, n, vectorRows)) };
}
