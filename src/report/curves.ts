import { readFile } from 'node:fs/promises';
import { ReembedError } from '../core/errors.js';
import type { QualityCurvePoint } from './data.js';

/**
 * Quality-during-migration curves from a benchmark's JSON: how nDCG@10 / recall@10 move with the share
 * of documents already in the new space, one line per method (naive mixed index, each strategy ...).
 * Accepted layouts, coverage as 0..1 or percent:
 *
 * - the quality benchmark's `bench/results/quality.json`: `{ "coverages": [0, 0.1, ...], "reports":
 *   [{ "name": "scifact", "results": { "<method>": { "ndcg@10": [[seed values at coverage 0], ...] } } }] }`
 *   (per-coverage values may also be plain numbers; seeds are averaged);
 * - `{ "dataset"?: "scifact", "curves": [{ "method": "naive mixed", "points": [{ "coverage": 0.3, "ndcg@10": 0.41 }] }] }`
 *   (a point may also nest its metrics: `{ "coverage": 0.3, "metrics": { "ndcg@10": 0.41 } }`);
 * - `{ "dataset"?: ..., "rows": [{ "method": "naive mixed", "coverage": 30, "ndcg@10": 0.41 }] }`
 *   (`points` instead of `rows`, or a top-level array, work too).
 * Metrics are the numeric fields named `name@k`.
 */
export interface QualityCurves {
  readonly dataset: string | null;
  /** Every dataset the file holds (benchmark layout), to choose from with `dataset`. */
  readonly datasets: readonly string[];
  readonly points: readonly QualityCurvePoint[];
}

export interface QualityCurvesOptions {
  /** Benchmark layout: which report (default: the first). */
  readonly dataset?: string;
}

const METRIC_KEY = /^[a-z][a-z0-9_]*@\d+$/i;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseQualityCurves(
  value: unknown,
  source = 'quality curves',
  options: QualityCurvesOptions = {},
): QualityCurves {
  const root = Array.isArray(value) ? { rows: value } : value;
  if (!isObject(root)) throw invalid(source, 'expected a JSON object or array');
  if (Array.isArray(root.reports) && Array.isArray(root.coverages))
    return benchmarkCurves(root, source, options);
  if (options.dataset !== undefined && root.dataset !== options.dataset) {
    throw invalid(source, `it holds no dataset "${options.dataset}"`);
  }
  const flat: Json[] = [];
  if (Array.isArray(root.curves)) {
    for (const curve of root.curves) {
      if (!isObject(curve) || !Array.isArray(curve.points))
        throw invalid(source, 'each curve needs "method" and "points"');
      for (const p of curve.points) if (isObject(p)) flat.push({ method: curve.method, ...p });
    }
  } else {
    const rows = Array.isArray(root.rows) ? root.rows : Array.isArray(root.points) ? root.points : null;
    if (!rows) throw invalid(source, 'expected "curves", "rows" or "points"');
    for (const r of rows) if (isObject(r)) flat.push(r);
  }
  const raw: { method: string; coverage: number; metrics: [string, number][] }[] = [];
  for (const row of flat) {
    const coverage = Number(row.coverage ?? row.migrated ?? row.share);
    if (typeof row.method !== 'string' || !Number.isFinite(coverage)) {
      throw invalid(
        source,
        `every point needs a "method" string and a numeric "coverage" (got ${JSON.stringify(row).slice(0, 120)})`,
      );
    }
    const fields = isObject(row.metrics) ? { ...row, ...row.metrics } : row;
    const metrics = Object.entries(fields).filter(
      (e): e is [string, number] =>
        METRIC_KEY.test(e[0]) && typeof e[1] === 'number' && Number.isFinite(e[1]),
    );
    raw.push({ method: row.method, coverage, metrics });
  }
  const dataset = typeof root.dataset === 'string' ? root.dataset : null;
  return curvesOf(raw, dataset, dataset === null ? [] : [dataset]);
}

/** The quality benchmark's layout: per dataset, per method, per metric, one value (or one per seed) per coverage. */
function benchmarkCurves(root: Json, source: string, options: QualityCurvesOptions): QualityCurves {
  const coverages = (root.coverages as unknown[]).map(Number);
  const reports = (root.reports as unknown[]).filter(isObject);
  const datasets = reports.map((r) => String(r.name ?? ''));
  const report = options.dataset === undefined ? reports[0] : reports.find((r) => r.name === options.dataset);
  if (!report || !isObject(report.results)) {
    throw invalid(
      source,
      options.dataset === undefined
        ? 'its "reports" hold no results'
        : `it holds no dataset "${options.dataset}" (it has: ${datasets.join(', ')})`,
    );
  }
  const raw: { method: string; coverage: number; metrics: [string, number][] }[] = [];
  for (const [method, byMetric] of Object.entries(report.results)) {
    if (!isObject(byMetric)) continue;
    coverages.forEach((coverage, i) => {
      const metrics: [string, number][] = [];
      for (const [metric, series] of Object.entries(byMetric)) {
        const cell = Array.isArray(series) ? series[i] : undefined;
        const values = (Array.isArray(cell) ? cell : [cell]).filter(
          (v): v is number => typeof v === 'number' && Number.isFinite(v),
        );
        if (METRIC_KEY.test(metric) && values.length > 0)
          metrics.push([metric, values.reduce((a, b) => a + b, 0) / values.length]);
      }
      if (Number.isFinite(coverage)) raw.push({ method, coverage, metrics });
    });
  }
  return curvesOf(raw, String(report.name ?? '') || null, datasets);
}

function curvesOf(
  raw: readonly { method: string; coverage: number; metrics: readonly [string, number][] }[],
  dataset: string | null,
  datasets: readonly string[],
): QualityCurves {
  const percent = raw.some((r) => r.coverage > 1);
  const points: QualityCurvePoint[] = [];
  for (const r of raw) {
    for (const [metric, v] of r.metrics) {
      points.push(
        Object.freeze({
          method: r.method,
          coverage: percent ? r.coverage / 100 : r.coverage,
          metric: metric.toLowerCase(),
          value: v,
        }),
      );
    }
  }
  return Object.freeze({ dataset, datasets: Object.freeze([...datasets]), points: Object.freeze(points) });
}

/** Reads and parses a curves file; `INVALID_INPUT` naming the file when it cannot be used. */
export async function readQualityCurves(
  path: string,
  options: QualityCurvesOptions = {},
): Promise<QualityCurves> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ReembedError(
      'NOT_FOUND',
      `Quality curves file ${path} cannot be read: ${(error as Error).message}.`,
      {
        cause: error,
        details: { path },
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(path, `not JSON (${(error as Error).message})`);
  }
  return parseQualityCurves(value, path, options);
}

function invalid(source: string, why: string): ReembedError {
  return new ReembedError(
    'INVALID_INPUT',
    `Quality curves ${source}: ${why}. Write {"curves": [{"method": "...", "points": [{"coverage": 0.5, "ndcg@10": 0.4}]}]}.`,
    { details: { source } },
  );
}
