/**
 * Aggregation and markdown for the quality-during-migration benchmark: per-method metric tables over
 * coverage points, and the goal check for reembed's default policy.
 */
import { METHOD_GROUP, METHODS, type Method } from './quality-methods.js';

export const COVERAGES = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1] as const;
export const METRICS = ['ndcg@10', 'recall@10', 'mrr@10'] as const;
export type Metric = (typeof METRICS)[number];

/** values[method][metric][coverage index] = one value per seed. */
export type Results = Record<Method, Record<Metric, number[][]>>;

export function emptyResults(): Results {
  const out = {} as Results;
  for (const m of METHODS) {
    out[m] = {} as Record<Metric, number[][]>;
    for (const metric of METRICS) out[m][metric] = COVERAGES.map(() => []);
  }
  return out;
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const halfRange = (xs: readonly number[]): number => (Math.max(...xs) - Math.min(...xs)) / 2;

const pct = (c: number): string => `${Math.round(c * 100)}%`;

/** One markdown table: rows = methods, columns = coverage points; cells = mean over seeds (± half-range). */
export function metricTable(results: Results, metric: Metric, withSpread: boolean): string {
  const head = `| | method | ${COVERAGES.map(pct).join(' | ')} |`;
  const rule = `|---|---|${COVERAGES.map(() => '---:').join('|')}|`;
  const rows = METHODS.map((m) => {
    const cells = results[m][metric].map((seeds) => {
      const spread = halfRange(seeds);
      return withSpread && spread >= 0.0005
        ? `${mean(seeds).toFixed(3)} ±${spread.toFixed(3)}`
        : mean(seeds).toFixed(3);
    });
    return `| ${METHOD_GROUP[m]} | ${m} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...rows].join('\n');
}

export interface GoalCheck {
  readonly method: Method;
  readonly met: boolean;
  readonly line: string;
}

/**
 * The goal for a policy: nDCG@10 ≥ clean v1 − 0.005 at every coverage, ≥ the midpoint of clean
 * v1 and clean v2 at 50%, and equal to clean v2 at 100% (means over seeds).
 */
export function goalCheck(results: Results, method: Method): GoalCheck {
  const nd = (m: Method, i: number): number => mean(results[m]['ndcg@10'][i] as number[]);
  const last = COVERAGES.length - 1;
  const v1 = nd('clean v1', 0);
  const v2 = nd('clean v2', 0);
  const floor = v1 - 0.005;
  let worst = { margin: Number.POSITIVE_INFINITY, at: 0 };
  COVERAGES.forEach((c, i) => {
    const margin = nd(method, i) - floor;
    if (margin < worst.margin) worst = { margin, at: c };
  });
  const half = COVERAGES.indexOf(0.5);
  const midpoint = (v1 + v2) / 2;
  const atHalf = nd(method, half);
  const atFull = nd(method, last);
  const floorOk = worst.margin >= 0;
  const midOk = atHalf >= midpoint;
  const fullOk = Math.abs(atFull - v2) < 1e-9;
  const met = floorOk && midOk && fullOk;
  const mark = (ok: boolean): string => (ok ? 'pass' : 'FAIL');
  const line =
    `**${method}**: floor v1−0.005 = ${floor.toFixed(3)} ${mark(floorOk)} (tightest ${worst.margin >= 0 ? '+' : ''}` +
    `${worst.margin.toFixed(3)} at ${pct(worst.at)}); 50% ${atHalf.toFixed(3)} vs midpoint ${midpoint.toFixed(3)} ` +
    `${mark(midOk)}; 100% ${atFull.toFixed(3)} vs clean v2 ${v2.toFixed(3)} ${mark(fullOk)} → goal ${met ? 'MET' : 'NOT MET'}`;
  return { method, met, line };
}
