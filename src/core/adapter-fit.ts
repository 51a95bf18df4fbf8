import { mapRows, prepareMap } from './adapter-map.js';
import { ReembedError } from './errors.js';
import { crossProduct, type Dense, dense, multiply, symmetricEigen, transpose } from './linalg.js';
import { seededRandom } from './significance.js';

/**
 * Fitting a linear map between two embedding spaces from paired samples (the same item embedded in both,
 * or a query embedded in one and its document in the other). Every method gives an affine map
 * y = (x − μx)·W + μy, x a source-space row vector and y a target-space one. Hyper-parameters are chosen
 * on held-out pairs (never on the pairs the map was fitted on), and so is the method when several are
 * asked for; the chosen one is then refitted on every pair.
 *
 * - `procrustes` (equal dimensions): W = s·R, R the orthogonal matrix closest to mapping the centred
 *   sources onto the centred targets (Schönemann 1966: the polar factor of XᵀY), s one global scale.
 * - `ridge`: W = (XᵀX + λI)⁻¹·XᵀY, any dimensions; λ among multiples of the mean eigenvalue of XᵀX (one
 *   eigendecomposition serves every λ).
 * - `low-rank`: the ridge map restricted to the r leading directions of its fitted targets (reduced-rank
 *   ridge regression; Izenman 1975), at the ridge's λ, r chosen on held-out pairs.
 *
 * Everything is computed from the pairs' first and second moments, so the cost is one pass over the pairs
 * (n·p·(p+q)) plus a few eigendecompositions of p × p or q × q matrices.
 */
export const ADAPTER_METHODS = ['procrustes', 'ridge', 'low-rank'] as const;
export type AdapterMethod = (typeof ADAPTER_METHODS)[number];

/** How held-out pairs score a candidate map (higher is better). */
export const FIT_CRITERIA = ['retrieval', 'cosine'] as const;
export type FitCriterion = (typeof FIT_CRITERIA)[number];

/** An affine map between spaces: y = x·W + b (W is input × output, row-major). */
export interface AffineMap {
  readonly inputDimension: number;
  readonly outputDimension: number;
  readonly weights: Float32Array;
  readonly bias: Float32Array;
}

/** Paired rows: `source[i]` and `target[i]` are one pair. */
export interface PairedRows {
  readonly source: Float32Array;
  readonly target: Float32Array;
  readonly sourceDimension: number;
  readonly targetDimension: number;
  readonly count: number;
}

export interface FitOptions {
  /** Methods to try (default: every method the dimensions allow). */
  readonly methods?: readonly AdapterMethod[];
  /** Share of the pairs held out to choose hyper-parameters and the method (default 0.2; at least 10 pairs, at most half). */
  readonly holdout?: number;
  /** Seed of the held-out split (default 1). */
  readonly seed?: number;
  /** Ridge strengths to try, as multiples of the mean eigenvalue of XᵀX. */
  readonly lambdas?: readonly number[];
  /** Ranks to try for `low-rank` (those below the output dimension). */
  readonly ranks?: readonly number[];
  /** How held-out pairs score a map (default `retrieval`). */
  readonly criterion?: FitCriterion;
}

export interface TunedMethod {
  readonly method: AdapterMethod;
  readonly params: Readonly<Record<string, number>>;
  /** Held-out score by the fit's criterion (higher is better). */
  readonly heldOutScore: number;
}

export interface FitReport {
  readonly chosen: TunedMethod & { readonly map: AffineMap };
  /** Every method tried, with its best hyper-parameters and held-out score. */
  readonly candidates: readonly TunedMethod[];
  readonly criterion: FitCriterion;
  readonly pairs: { readonly fit: number; readonly heldOut: number };
}

export const DEFAULT_LAMBDAS: readonly number[] = Object.freeze([
  1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1, 3,
]);
export const DEFAULT_RANKS: readonly number[] = Object.freeze([16, 32, 64, 96, 128, 192, 256]);
export const MIN_PAIRS = 20;
/** Held-out pairs scored per candidate (more only slows tuning down: the ranking criterion is stable by then). */
const MAX_SCORED = 300;

/**
 * Fits every requested method on the fit part of the pairs, scores each on the held-out part, keeps the
 * best, and refits it with its chosen hyper-parameters on all pairs.
 *
 * @example
 * const { chosen } = fitAffine(pairs, { methods: ['ridge', 'low-rank'], seed: 1 });
 * applyAffine(chosen.map, x, out, true);
 */
export function fitAffine(pairs: PairedRows, options: FitOptions = {}): FitReport {
  const steps = fitAffineSteps(pairs, options);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * `fitAffine` in small units of work (one eigendecomposition, one candidate scored), yielding what it
 * just did after each: a caller that must stay responsive (an interrupt, a progress line) drives it and
 * returns to its event loop between units. Returns the same report as `fitAffine`.
 */
export function* fitAffineSteps(pairs: PairedRows, options: FitOptions = {}): Generator<string, FitReport> {
  checkPairs(pairs);
  const methods = resolveMethods(pairs, options.methods);
  const criterion = options.criterion ?? 'retrieval';
  const { fit, heldOut } = splitPairs(pairs.count, options.holdout ?? 0.2, options.seed ?? 1);
  const fitMoments = momentsOf(pairs, fit);
  const heldMoments = momentsOf(pairs, heldOut);
  yield 'moments';
  const tuner = new Tuner(pairs, fitMoments, evenly(heldOut, MAX_SCORED), criterion);
  const candidates: TunedMethod[] = [];
  const ridge = yield* tuner.ridge(options.lambdas ?? DEFAULT_LAMBDAS);
  if (methods.includes('ridge')) candidates.push(ridge);
  if (methods.includes('low-rank')) {
    candidates.push(yield* tuner.lowRank(ridge.params.lambda as number, options.ranks ?? DEFAULT_RANKS));
  }
  if (methods.includes('procrustes')) {
    candidates.push(tuner.procrustes());
    yield 'procrustes';
  }
  const best = candidates.reduce((a, b) => (b.heldOutScore > a.heldOutScore ? b : a));
  const map = mapFromMoments(best.method, addMoments(fitMoments, heldMoments), best.params);
  return {
    chosen: { ...best, map },
    candidates,
    criterion,
    pairs: { fit: fit.length, heldOut: heldOut.length },
  };
}

/** Fits one method with given hyper-parameters on every pair (no held-out tuning). */
export function fitMethod(
  method: AdapterMethod,
  pairs: PairedRows,
  params: Readonly<Record<string, number>> = {},
): AffineMap {
  checkPairs(pairs);
  resolveMethods(pairs, [method]);
  const all = Array.from({ length: pairs.count }, (_, i) => i);
  return mapFromMoments(method, momentsOf(pairs, all), { lambda: 0.01, rank: 64, ...params });
}

/** At most `max` of `rows`, evenly spaced. */
function evenly(rows: readonly number[], max: number): number[] {
  if (rows.length <= max) return [...rows];
  const step = rows.length / max;
  return Array.from({ length: max }, (_, i) => rows[Math.floor(i * step)] as number);
}

function checkPairs(pairs: PairedRows): void {
  if (!(pairs.count >= MIN_PAIRS)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `An adapter needs at least ${MIN_PAIRS} pairs (documents embedded in both spaces); got ${pairs.count}. Embed more documents in the target space first (a backfill's first batches give pairs).`,
      { details: { pairs: pairs.count, minimum: MIN_PAIRS } },
    );
  }
  if (
    pairs.source.length !== pairs.count * pairs.sourceDimension ||
    pairs.target.length !== pairs.count * pairs.targetDimension
  ) {
    throw new ReembedError('INVALID_INPUT', 'Paired rows do not match their declared count and dimensions.', {
      details: { count: pairs.count, source: pairs.sourceDimension, target: pairs.targetDimension },
    });
  }
  for (const rows of [pairs.source, pairs.target]) {
    for (let i = 0; i < rows.length; i++) {
      if (!Number.isFinite(rows[i] as number)) {
        throw new ReembedError('INVALID_VECTOR', 'A paired vector holds a non-finite value.', {
          details: { index: i },
        });
      }
    }
  }
}

function resolveMethods(pairs: PairedRows, methods: readonly AdapterMethod[] | undefined): AdapterMethod[] {
  const equal = pairs.sourceDimension === pairs.targetDimension;
  if (!methods || methods.length === 0) return equal ? [...ADAPTER_METHODS] : ['ridge', 'low-rank'];
  for (const m of methods) {
    if (!(ADAPTER_METHODS as readonly string[]).includes(m)) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Unknown adapter method "${m}"; use one of ${ADAPTER_METHODS.join(', ')}.`,
        { details: { method: m } },
      );
    }
    if (m === 'procrustes' && !equal) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Orthogonal Procrustes maps between equal dimensions; these spaces have ${pairs.sourceDimension} and ${pairs.targetDimension}. Use ridge or low-rank.`,
        { details: { method: m, source: pairs.sourceDimension, target: pairs.targetDimension } },
      );
    }
  }
  return [...new Set(methods)];
}

/** A seeded split: `share` of the pairs (at least 10, at most half) are held out. */
export function splitPairs(count: number, share: number, seed: number): { fit: number[]; heldOut: number[] } {
  const order = Array.from({ length: count }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const held = Math.min(Math.floor(count / 2), Math.max(10, Math.round(count * share)));
  return {
    heldOut: order.slice(0, held).sort((a, b) => a - b),
    fit: order.slice(held).sort((a, b) => a - b),
  };
}

/** Raw first and second moments of a subset of pairs: n, Σx, Σy, ΣxxᵀΣ (p × p), Σxyᵀ (p × q). */
interface Moments {
  readonly n: number;
  readonly p: number;
  readonly q: number;
  readonly sx: Float64Array;
  readonly sy: Float64Array;
  readonly sxx: Float64Array;
  readonly sxy: Float64Array;
}

function momentsOf(pairs: PairedRows, pick: readonly number[]): Moments {
  const p = pairs.sourceDimension;
  const q = pairs.targetDimension;
  const sx = new Float64Array(p);
  const sy = new Float64Array(q);
  const sxx = new Float64Array(p * p);
  const sxy = new Float64Array(p * q);
  const x = new Float64Array(p);
  const y = new Float64Array(q);
  for (const r of pick) {
    for (let i = 0; i < p; i++) x[i] = pairs.source[r * p + i] as number;
    for (let j = 0; j < q; j++) y[j] = pairs.target[r * q + j] as number;
    for (let i = 0; i < p; i++) {
      const xi = x[i] as number;
      sx[i] = (sx[i] as number) + xi;
      if (xi === 0) continue;
      const oi = i * p;
      for (let k = i; k < p; k++) sxx[oi + k] = (sxx[oi + k] as number) + xi * (x[k] as number);
      const oy = i * q;
      for (let j = 0; j < q; j++) sxy[oy + j] = (sxy[oy + j] as number) + xi * (y[j] as number);
    }
    for (let j = 0; j < q; j++) sy[j] = (sy[j] as number) + (y[j] as number);
  }
  for (let i = 0; i < p; i++) for (let k = 0; k < i; k++) sxx[i * p + k] = sxx[k * p + i] as number;
  return { n: pick.length, p, q, sx, sy, sxx, sxy };
}

function addMoments(a: Moments, b: Moments): Moments {
  const add = (u: Float64Array, v: Float64Array): Float64Array => u.map((x, i) => x + (v[i] as number));
  return {
    n: a.n + b.n,
    p: a.p,
    q: a.q,
    sx: add(a.sx, b.sx),
    sy: add(a.sy, b.sy),
    sxx: add(a.sxx, b.sxx),
    sxy: add(a.sxy, b.sxy),
  };
}

/** Means and centred cross-products: Cxx = Σxxᵀ − n·μxμxᵀ, Cxy = Σxyᵀ − n·μxμyᵀ. */
interface Centred {
  readonly mx: Float64Array;
  readonly my: Float64Array;
  readonly cxx: Dense;
  readonly cxy: Dense;
}

function centre(m: Moments): Centred {
  const n = Math.max(1, m.n);
  const mx = m.sx.map((s) => s / n);
  const my = m.sy.map((s) => s / n);
  const cxx = dense(m.p, m.p, m.sxx.slice());
  const cxy = dense(m.p, m.q, m.sxy.slice());
  for (let i = 0; i < m.p; i++) {
    const xi = (mx[i] as number) * m.n;
    for (let k = 0; k < m.p; k++)
      cxx.data[i * m.p + k] = (cxx.data[i * m.p + k] as number) - xi * (mx[k] as number);
    for (let j = 0; j < m.q; j++)
      cxy.data[i * m.q + j] = (cxy.data[i * m.q + j] as number) - xi * (my[j] as number);
  }
  return { mx, my, cxx, cxy };
}

/** Ridge solutions for every λ from one eigendecomposition: W(λ) = V·diag(1/(e+λ·ē))·Vᵀ·Cxy. */
class RidgeBasis {
  readonly values: Float64Array;
  readonly vectors: Dense;
  /** Vᵀ·Cxy (p × q). */
  readonly z: Dense;
  readonly meanEigenvalue: number;

  constructor(c: Centred) {
    const { values, vectors } = symmetricEigen(c.cxx);
    this.values = values;
    this.vectors = vectors;
    this.z = crossProduct(vectors, c.cxy);
    this.meanEigenvalue = Math.max(1e-12, values.reduce((a, b) => a + Math.max(0, b), 0) / values.length);
  }

  /** diag(1/(e+λ))·Vᵀ·Cxy. */
  scaledZ(lambda: number): Dense {
    const { z } = this;
    const out = dense(z.rows, z.cols);
    const shift = lambda * this.meanEigenvalue;
    for (let i = 0; i < z.rows; i++) {
      const f = 1 / (Math.max(0, this.values[i] as number) + shift);
      for (let j = 0; j < z.cols; j++) out.data[i * z.cols + j] = (z.data[i * z.cols + j] as number) * f;
    }
    return out;
  }

  solve(lambda: number): Dense {
    return multiply(this.vectors, this.scaledZ(lambda));
  }
}

/** The top r eigenvectors (columns, q × r) of Wᵀ·Cxx·W: the leading directions of the fitted targets. */
function fittedDirections(w: Dense, cxx: Dense, rank: number): Dense {
  const wtcw = crossProduct(w, multiply(cxx, w));
  const { vectors } = symmetricEigen(wtcw);
  return columns(vectors, Math.min(rank, vectors.cols));
}

function columns(m: Dense, count: number): Dense {
  const out = dense(m.rows, count);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < count; j++) out.data[i * count + j] = m.data[i * m.cols + j] as number;
  }
  return out;
}

/** W·Vr·Vrᵀ. */
function restrict(w: Dense, directions: Dense): Dense {
  return multiply(multiply(w, directions), transpose(directions));
}

function procrustesOf(c: Centred): Dense {
  // The polar factor of M = Cxy: R = M·(MᵀM)^(-1/2) = M·V·Σ⁻¹·Vᵀ. Directions without a singular value
  // (fewer pairs than dimensions) are left out instead of inverted.
  const m = c.cxy;
  const { values, vectors } = symmetricEigen(crossProduct(m, m));
  const q = vectors.rows;
  const tol = Math.sqrt(Math.max(0, values[0] as number)) * 1e-9;
  const scaled = dense(q, q);
  let traceSigma = 0;
  for (let j = 0; j < q; j++) {
    const sigma = Math.sqrt(Math.max(0, values[j] as number));
    traceSigma += sigma;
    const inv = sigma > tol ? 1 / sigma : 0;
    for (let i = 0; i < q; i++) scaled.data[i * q + j] = (vectors.data[i * q + j] as number) * inv;
  }
  const r = multiply(m, multiply(scaled, transpose(vectors)));
  let trace = 0;
  for (let i = 0; i < c.cxx.rows; i++) trace += c.cxx.data[i * c.cxx.cols + i] as number;
  const scale = trace > 0 ? traceSigma / trace : 1;
  for (let i = 0; i < r.data.length; i++) r.data[i] = (r.data[i] as number) * scale;
  return r;
}

function mapFromMoments(
  method: AdapterMethod,
  moments: Moments,
  params: Readonly<Record<string, number>>,
): AffineMap {
  const c = centre(moments);
  let w: Dense;
  if (method === 'procrustes') w = procrustesOf(c);
  else {
    w = new RidgeBasis(c).solve(params.lambda as number);
    if (method === 'low-rank') w = restrict(w, fittedDirections(w, c.cxx, params.rank as number));
  }
  return toAffine(w, c.mx, c.my);
}

/** y = (x − μx)·W + μy written as x·W + b. */
function toAffine(w: Dense, mx: Float64Array, my: Float64Array): AffineMap {
  const bias = new Float32Array(w.cols);
  for (let j = 0; j < w.cols; j++) {
    let s = my[j] as number;
    for (let i = 0; i < w.rows; i++) s -= (mx[i] as number) * (w.data[i * w.cols + j] as number);
    bias[j] = s;
  }
  return { inputDimension: w.rows, outputDimension: w.cols, weights: Float32Array.from(w.data), bias };
}

/** Scores candidate maps on held-out pairs, each fitted on the fit part's moments. */
class Tuner {
  readonly #centred: Centred;
  readonly #criterion: FitCriterion;
  /** Held-out sources centred by the fit part's mean (nv × p). */
  readonly #xv: Dense;
  /** Held-out targets, unit length (nv × q). */
  readonly #targets: Float64Array;
  #basis: RidgeBasis | null = null;

  constructor(pairs: PairedRows, fit: Moments, heldOut: readonly number[], criterion: FitCriterion) {
    this.#centred = centre(fit);
    this.#criterion = criterion;
    const p = pairs.sourceDimension;
    const q = pairs.targetDimension;
    this.#xv = dense(heldOut.length, p);
    this.#targets = new Float64Array(heldOut.length * q);
    heldOut.forEach((r, i) => {
      for (let k = 0; k < p; k++) {
        this.#xv.data[i * p + k] = (pairs.source[r * p + k] as number) - (this.#centred.mx[k] as number);
      }
      let norm = 0;
      for (let j = 0; j < q; j++) norm += (pairs.target[r * q + j] as number) ** 2;
      const f = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let j = 0; j < q; j++) this.#targets[i * q + j] = (pairs.target[r * q + j] as number) * f;
    });
  }

  get #ridgeBasis(): RidgeBasis {
    this.#basis ??= new RidgeBasis(this.#centred);
    return this.#basis;
  }

  *ridge(lambdas: readonly number[]): Generator<string, TunedMethod> {
    const basis = this.#ridgeBasis;
    yield 'ridge basis';
    const projected = multiply(this.#xv, basis.vectors); // held-out sources in the eigenbasis
    let best: TunedMethod = { method: 'ridge', params: {}, heldOutScore: Number.NEGATIVE_INFINITY };
    for (const lambda of lambdas) {
      const score = this.#score(multiply(projected, basis.scaledZ(lambda)));
      if (score > best.heldOutScore) best = { method: 'ridge', params: { lambda }, heldOutScore: score };
      yield `ridge λ ${lambda}`;
    }
    return best;
  }

  *lowRank(lambda: number, ranks: readonly number[]): Generator<string, TunedMethod> {
    const w = this.#ridgeBasis.solve(lambda);
    const q = w.cols;
    const all = fittedDirections(w, this.#centred.cxx, q);
    yield 'low-rank directions';
    const mapped = multiply(this.#xv, w);
    let best: TunedMethod = {
      method: 'low-rank',
      params: { lambda, rank: q },
      heldOutScore: Number.NEGATIVE_INFINITY,
    };
    for (const rank of ranks) {
      if (rank >= q) continue;
      const dirs = columns(all, rank);
      const score = this.#score(multiply(multiply(mapped, dirs), transpose(dirs)));
      if (score > best.heldOutScore)
        best = { method: 'low-rank', params: { lambda, rank }, heldOutScore: score };
      yield `low-rank ${rank}`;
    }
    return best;
  }

  procrustes(): TunedMethod {
    const score = this.#score(multiply(this.#xv, procrustesOf(this.#centred)));
    return { method: 'procrustes', params: {}, heldOutScore: score };
  }

  /** Held-out score of centred predictions (nv × q; μy is added here). */
  #score(predicted: Dense): number {
    const q = predicted.cols;
    const n = predicted.rows;
    if (n === 0) return 0;
    const my = this.#centred.my;
    const pred = new Float64Array(n * q);
    for (let i = 0; i < n; i++) {
      let norm = 0;
      for (let j = 0; j < q; j++) {
        const v = (predicted.data[i * q + j] as number) + (my[j] as number);
        pred[i * q + j] = v;
        norm += v * v;
      }
      const f = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let j = 0; j < q; j++) pred[i * q + j] = (pred[i * q + j] as number) * f;
    }
    const t = this.#targets;
    const cos = (i: number, k: number): number => {
      let s = 0;
      const a = i * q;
      const b = k * q;
      for (let j = 0; j < q; j++) s += (pred[a + j] as number) * (t[b + j] as number);
      return s;
    };
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const own = cos(i, i);
      if (this.#criterion === 'cosine') {
        sum += own;
        continue;
      }
      let rank = 1;
      for (let k = 0; k < n; k++) if (k !== i && cos(i, k) > own) rank++;
      sum += 1 / rank;
    }
    return sum / n;
  }
}

/**
 * Applies an affine map to one row vector, writing into `out` (length outputDimension); with `normalise`
 * the result is scaled to unit length (a zero result stays zero).
 */
export function applyAffine(
  map: AffineMap,
  x: Float32Array,
  out: Float32Array,
  normalise: boolean,
): Float32Array {
  const q = map.outputDimension;
  out.set(map.bias);
  const w = map.weights;
  for (let i = 0; i < map.inputDimension; i++) {
    const xi = x[i] as number;
    if (xi === 0) continue;
    const o = i * q;
    for (let j = 0; j < q; j++) out[j] = (out[j] as number) + xi * (w[o + j] as number);
  }
  if (normalise) {
    let s = 0;
    for (let j = 0; j < q; j++) s += (out[j] as number) ** 2;
    if (s > 0) {
      const f = 1 / Math.sqrt(s);
      for (let j = 0; j < q; j++) out[j] = (out[j] as number) * f;
    }
  }
  return out;
}

/** Applies a map to many rows (rows × inputDimension) at once, through the fast kernels of `adapter-map.ts`. */
export function applyAffineRows(map: AffineMap, rows: Float32Array, normalise: boolean): Float32Array {
  const n = rows.length / map.inputDimension;
  return mapRows(prepareMap(map), rows, n, new Float32Array(n * map.outputDimension), normalise);
}
