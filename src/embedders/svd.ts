import { createRequire } from 'node:module';
import type { Matrix } from 'ml-matrix';

/** ml-matrix, loaded by the first fit: opening an LSA space (or the CLI) never needs it. */
let linalg: typeof import('ml-matrix') | null = null;
const mlMatrix = (): typeof import('ml-matrix') => {
  linalg ??= createRequire(import.meta.url)('ml-matrix') as typeof import('ml-matrix');
  return linalg;
};

/**
 * Randomized truncated SVD of a sparse matrix (Halko, Martinsson & Tropp 2011, "Finding structure with
 * randomness", algorithms 4.3 and 5.1), used to fit LSA.
 *
 * For A (rows × cols, CSR) and rank k with oversampling p (l = k + p):
 *   Y = A·Ω (Ω cols × l Gaussian), Q = orth(Y); q times: Q = orth(A·(Aᵀ·Q))  — power iterations;
 *   C = Aᵀ·Q (so B = Qᵀ·A = Cᵀ), G = B·Bᵀ = Qᵀ·(A·C) (l × l), G = U_B·Λ·U_Bᵀ (ml-matrix EVD);
 *   σ = sqrt(λ), V_k = Aᵀ·(Q·U_B,k·Σ_k⁻¹).
 * Only the rows-side (documents) block is orthonormalised, and V is formed through the sparse Aᵀ,
 * so no dense cols × l product is ever orthonormalised: with ~30k terms that is the difference between
 * seconds and minutes. Power iterations in float64 keep the loss of accuracy from skipping the
 * intermediate orthonormalisation far below what retrieval can notice (it affects singular values below
 * σ₁·ε^(1/(2q+1)) ≈ σ₁·10⁻³ for q = 2).
 *
 * Deterministic: Ω comes from a seeded generator, and every loop runs in a fixed order.
 */
export interface CsrMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: Float64Array;
}

export interface TruncatedSvd {
  /** Singular values, descending (length k). */
  readonly sigma: Float64Array;
  /** Right singular vectors, cols × k, row-major (row j = the k coordinates of column j of A). */
  readonly v: Float64Array;
}

export interface SvdOptions {
  readonly rank: number;
  readonly seed: number;
  readonly oversampling?: number;
  readonly powerIterations?: number;
}

export function randomizedSvd(a: CsrMatrix, options: SvdOptions): TruncatedSvd {
  const steps = randomizedSvdSteps(a, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `randomizedSvd` in small units of work (one product with A or Aᵀ, one orthonormalisation, the small
 * eigendecomposition), yielding after each: a caller that must stay responsive to an interrupt drives it
 * and returns to its event loop between units. Same result as `randomizedSvd`.
 */
export function* randomizedSvdSteps(a: CsrMatrix, options: SvdOptions): Generator<string, TruncatedSvd> {
  const k = options.rank;
  const l = Math.min(k + (options.oversampling ?? 10), a.rows, a.cols);
  const q = options.powerIterations ?? 2;
  const rng = gaussian(options.seed);
  const omega = new Float64Array(a.cols * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng();

  const sampled = multiply(a, omega, l);
  yield 'range: A·Ω';
  let qMat = orthonormalize(sampled, a.rows, l, rng);
  yield 'range: orthonormalised';
  for (let it = 0; it < q; it++) {
    const back = multiplyTransposed(a, qMat, l);
    yield `power iteration ${it + 1}: Aᵀ·Q`;
    qMat = orthonormalize(multiply(a, back, l), a.rows, l, rng);
    yield `power iteration ${it + 1}: orthonormalised`;
  }
  const c = multiplyTransposed(a, qMat, l);
  yield 'projection: Aᵀ·Q';
  const ac = multiply(a, c, l);
  yield 'projection: A·Aᵀ·Q';
  const g = gram(qMat, ac, a.rows, l);
  yield 'projection: Gram matrix';
  const evd = new (mlMatrix().EigenvalueDecomposition)(g, { assumeSymmetric: true });
  yield 'eigendecomposition';
  const order = evd.realEigenvalues
    .map((value, index) => ({ value, index }))
    .sort((x, y) => y.value - x.value);
  const vectors = evd.eigenvectorMatrix;

  // W = Q·U_B,k·Σ⁻¹ (rows × k); V = Aᵀ·W.
  const sigma = new Float64Array(k);
  const ub = new Float64Array(l * k);
  // Eigenvalues carry absolute error ~ε·λ₁, so σ below ~√ε·σ₁ is noise: treat it as zero.
  const floor = Math.sqrt(Math.max(order[0]?.value ?? 0, 0)) * 1e-6;
  for (let j = 0; j < k; j++) {
    const entry = order[j];
    const s = entry === undefined ? 0 : Math.sqrt(Math.max(entry.value, 0));
    sigma[j] = s;
    if (entry === undefined || s <= floor) continue; // rank-deficient corpus: leave the component zero
    for (let i = 0; i < l; i++) ub[i * k + j] = vectors.get(i, entry.index) / s;
  }
  const w = denseMultiply(qMat, ub, a.rows, l, k);
  yield 'left singular vectors';
  const v = multiplyTransposed(a, w, k);
  fixSigns(v, a.cols, k);
  return { sigma, v };
}

/** A·X for X cols × width (row-major); returns rows × width. */
export function multiply(a: CsrMatrix, x: Float64Array, width: number): Float64Array {
  return sparseTimesDense(a, x, width, false);
}

/** Aᵀ·X for X rows × width (row-major); returns cols × width. */
export function multiplyTransposed(a: CsrMatrix, x: Float64Array, width: number): Float64Array {
  return sparseTimesDense(a, x, width, true);
}

/** A·X, or Aᵀ·X when `transposed`: each stored a[r][c] adds value·X[c] to out[r] (value·X[r] to out[c]). */
function sparseTimesDense(a: CsrMatrix, x: Float64Array, width: number, transposed: boolean): Float64Array {
  const out = new Float64Array((transposed ? a.cols : a.rows) * width);
  for (let r = 0; r < a.rows; r++) {
    for (let p = a.rowPtr[r] as number; p < (a.rowPtr[r + 1] as number); p++) {
      const value = a.values[p] as number;
      const col = a.colIdx[p] as number;
      const o = (transposed ? col : r) * width;
      const xo = (transposed ? r : col) * width;
      for (let c = 0; c < width; c++) out[o + c] = (out[o + c] as number) + value * (x[xo + c] as number);
    }
  }
  return out;
}

/**
 * Orthonormal basis of the columns of Y (rows × width, row-major) by modified Gram-Schmidt, done on a
 * column-major copy so the inner loops are contiguous. A column that vanishes (rank deficiency) is
 * replaced by a random vector orthogonalised against the others, keeping Q orthonormal.
 */
export function orthonormalize(
  y: Float64Array,
  rows: number,
  width: number,
  rng: () => number,
): Float64Array {
  const col = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < width; c++) col[c * rows + r] = y[r * width + c] as number;
  for (let j = 0; j < width; j++) {
    const jo = j * rows;
    const before = Math.sqrt(sumSquares(col, jo, rows));
    for (let attempt = 0; ; attempt++) {
      for (let i = 0; i < j; i++) {
        const io = i * rows;
        let d = 0;
        for (let r = 0; r < rows; r++) d += (col[io + r] as number) * (col[jo + r] as number);
        for (let r = 0; r < rows; r++) col[jo + r] = (col[jo + r] as number) - d * (col[io + r] as number);
      }
      const norm = Math.sqrt(sumSquares(col, jo, rows));
      if (norm > 1e-10 * Math.max(before, 1e-300) && norm > 0) {
        for (let r = 0; r < rows; r++) col[jo + r] = (col[jo + r] as number) / norm;
        break;
      }
      if (attempt > 3) throw new Error('orthonormalize: cannot extend the basis (width exceeds rows?)');
      for (let r = 0; r < rows; r++) col[jo + r] = rng();
    }
  }
  const out = new Float64Array(rows * width);
  for (let c = 0; c < width; c++)
    for (let r = 0; r < rows; r++) out[r * width + c] = col[c * rows + r] as number;
  return out;
}

function sumSquares(x: Float64Array, offset: number, length: number): number {
  let s = 0;
  for (let i = offset; i < offset + length; i++) s += (x[i] as number) * (x[i] as number);
  return s;
}

/** Qᵀ·Z for Q and Z rows × width (row-major), symmetrised; returns a width × width ml-matrix. */
function gram(qMat: Float64Array, z: Float64Array, rows: number, width: number): Matrix {
  const g = new Float64Array(width * width);
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    for (let i = 0; i < width; i++) {
      const qi = qMat[o + i] as number;
      if (qi === 0) continue;
      const go = i * width;
      for (let j = 0; j < width; j++) g[go + j] = (g[go + j] as number) + qi * (z[o + j] as number);
    }
  }
  const m = new (mlMatrix().Matrix)(width, width);
  for (let i = 0; i < width; i++) {
    for (let j = 0; j < width; j++)
      m.set(i, j, ((g[i * width + j] as number) + (g[j * width + i] as number)) / 2);
  }
  return m;
}

/** X (rows × inner) · Y (inner × width), both row-major. */
function denseMultiply(
  x: Float64Array,
  y: Float64Array,
  rows: number,
  inner: number,
  width: number,
): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    for (let i = 0; i < inner; i++) {
      const xv = x[r * inner + i] as number;
      if (xv === 0) continue;
      const yo = i * width;
      for (let c = 0; c < width; c++) out[o + c] = (out[o + c] as number) + xv * (y[yo + c] as number);
    }
  }
  return out;
}

/** Singular vectors are defined up to sign: make the largest-magnitude entry of each column positive. */
function fixSigns(v: Float64Array, rows: number, width: number): void {
  for (let c = 0; c < width; c++) {
    let best = 0;
    for (let r = 0; r < rows; r++) {
      const value = v[r * width + c] as number;
      if (Math.abs(value) > Math.abs(best)) best = value;
    }
    if (best < 0) for (let r = 0; r < rows; r++) v[r * width + c] = -(v[r * width + c] as number);
  }
}

/** Seeded standard-normal generator (mulberry32 + Box-Muller): the same sequence for the same seed. */
export function gaussian(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = uniform();
    const v = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}
