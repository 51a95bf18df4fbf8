import { ReembedError } from './errors.js';
import { type QueryEvaluation, quantileSorted } from './metrics.js';

/**
 * Is the difference between two systems on the same queries real, or noise? Paired tests over
 * per-query metric differences (new − old), seeded so the same inputs always give the same answer.
 */

export { seededRandom } from './random.js';

export interface SignificanceOptions {
  /** Random sign flips (permutation test) and resamples (bootstrap). Default 10,000. */
  readonly iterations?: number;
  /** Default 42. */
  readonly seed?: number;
}

export interface SignificanceResult {
  /** Mean of (b − a): positive means `b` (the new system) is better on this metric. */
  readonly meanDiff: number;
  /** Two-sided p-value of the paired randomisation test (exact when n ≤ 16). */
  readonly pValue: number;
  /** Percentile bootstrap 95% confidence interval of the mean difference. */
  readonly ci95: readonly [number, number];
  readonly n: number;
  readonly iterations: number;
  readonly seed: number;
}

/**
 * Paired randomisation test and bootstrap CI for two aligned samples (`a[i]` and `b[i]` are the same
 * query). Under the null hypothesis each difference is equally likely to have either sign; the p-value
 * is the share of sign assignments whose |mean| is at least the observed one ((count + 1) / (R + 1)
 * for the random version, so it is never 0).
 *
 * @example pairedSignificance(oldNdcg, newNdcg).pValue < 0.05 // the change is unlikely to be noise
 */
export function pairedSignificance(
  a: readonly number[],
  b: readonly number[],
  options: SignificanceOptions = {},
): SignificanceResult {
  if (a.length !== b.length) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Paired samples differ in length (${a.length} vs ${b.length}); pair them by query first.`,
      {
        details: { a: a.length, b: b.length },
      },
    );
  }
  if (a.length === 0)
    throw new ReembedError(
      'INVALID_INPUT',
      'No paired queries to compare: evaluate both systems on the same golden set.',
    );
  const iterations = options.iterations ?? 10_000;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new ReembedError(
      'INVALID_INPUT',
      `iterations=${iterations} is invalid: use a positive integer such as 10000.`,
    );
  }
  const seed = options.seed ?? 42;
  const n = a.length;
  const diffs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = (b[i] as number) - (a[i] as number);
    if (!Number.isFinite(d))
      throw new ReembedError('INVALID_INPUT', `Query ${i} has a non-finite metric value; fix the inputs.`);
    diffs[i] = d;
    sum += d;
  }
  const meanDiff = sum / n;
  return Object.freeze({
    meanDiff,
    pValue: permutationPValue(diffs, Math.abs(sum), iterations, seed),
    ci95: bootstrapCi(diffs, iterations, seed ^ 0x9e3779b9),
    n,
    iterations,
    seed,
  });
}

function permutationPValue(diffs: Float64Array, observed: number, iterations: number, seed: number): number {
  const n = diffs.length;
  // Tolerance so that ties (e.g. all-zero differences) count as "at least as extreme".
  const threshold = observed - 1e-12 * Math.max(1, observed);
  if (n <= 16) {
    let extreme = 0;
    const total = 2 ** n;
    for (let mask = 0; mask < total; mask++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += mask & (1 << i) ? -(diffs[i] as number) : (diffs[i] as number);
      if (Math.abs(s) >= threshold) extreme++;
    }
    return extreme / total;
  }
  // Each 32-bit output of the seeded generator (mulberry32, inlined) gives 32 sign flips: a call per flip
  // was most of a probe gate's cost.
  let state = seed >>> 0;
  let extreme = 0;
  for (let r = 0; r < iterations; r++) {
    let s = 0;
    for (let base = 0; base < n; base += 32) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      let bits = (t ^ (t >>> 14)) >>> 0;
      const end = Math.min(n, base + 32);
      for (let i = base; i < end; i++, bits >>>= 1)
        s += bits & 1 ? -(diffs[i] as number) : (diffs[i] as number);
    }
    if (Math.abs(s) >= threshold) extreme++;
  }
  return (extreme + 1) / (iterations + 1);
}

function bootstrapCi(diffs: Float64Array, iterations: number, seed: number): readonly [number, number] {
  const n = diffs.length;
  const means = new Float64Array(iterations);
  let state = seed >>> 0; // `seededRandom` inlined, as in `permutationPValue`
  for (let r = 0; r < iterations; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      s += diffs[Math.floor(u * n)] as number;
    }
    means[r] = s / n;
  }
  means.sort();
  const sorted = Array.from(means);
  return Object.freeze([quantileSorted(sorted, 0.025), quantileSorted(sorted, 0.975)] as const);
}

export interface PairedComparison extends SignificanceResult {
  readonly metric: string;
  /** Queries present in only one of the two evaluations (left out of the test). */
  readonly unpaired: number;
}

/**
 * Pairs two per-query evaluations by query id on one metric (e.g. `ndcg@10`) and tests the difference
 * new − old. Throws `INVALID_INPUT` when the metric was not computed.
 */
export function compareEvaluations(
  oldPerQuery: readonly QueryEvaluation[],
  newPerQuery: readonly QueryEvaluation[],
  metric: string,
  options: SignificanceOptions = {},
): PairedComparison {
  const newById = new Map(newPerQuery.map((q) => [q.queryId, q.metrics]));
  const a: number[] = [];
  const b: number[] = [];
  for (const q of oldPerQuery) {
    const other = newById.get(q.queryId);
    if (!other) continue;
    const x = q.metrics[metric];
    const y = other[metric];
    if (x === undefined || y === undefined) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Metric "${metric}" was not computed for query "${q.queryId}"; evaluate with that k.`,
        {
          details: { metric, available: Object.keys(x === undefined ? q.metrics : other) },
        },
      );
    }
    a.push(x);
    b.push(y);
  }
  const unpaired = oldPerQuery.length + newPerQuery.length - 2 * a.length;
  return Object.freeze({ ...pairedSignificance(a, b, options), metric, unpaired });
}
