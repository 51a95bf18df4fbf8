import { readFile } from 'node:fs/promises';
import { ReembedError } from '../core/errors.js';
import type { QualityCurvePoint } from './data.js';

/**
 * Quality-during-migration curves from a benchmark's JSON (e.g. `bench/results/quality.json`): how
 * nDCG@10 / recall@10 move with the share of documents already in the new space, one line per method
 * (naive mixed index, reembed's routing strategies ...). Accepted layouts, coverage as 0..1 or percent:
 *
 * - `{ "dataset"?: "scifact", "curves": [{ "method": "naive mixed", "points": [{ "coverage": 0.3, "ndcg@10": 0.41 }] }] }`
 *   (a point may also nest its metrics: `{ "coverage": 0.3, "metrics": { "ndcg@10": 0.41 } }`);
 * - `{ "dataset"?: ..., "rows": [{ "method": "naive mixed", "coverage": 30, "ndcg@10": 0.41, "recall@10": 0.5 }] }`
 *   (`points` instead of `rows`, or a top-level array, work too).
 * Metrics are the numeric fields named `name@k`.
 */
export interface QualityCurves {
  readonly dataset: string | null;
  readonly points: readonly QualityCurvePoint[];
}

const METRIC_KEY = /^[a-z][a-z0-9_]*@\d+$/i;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseQualityCurves(value: unknown, source = 'quality curves'): QualityCurves {
  const root = Array.isArray(value) ? { rows: value } : value;
  if (!isObject(root)) throw invalid(source, 'expected a JSON object or array');
  const flat: Json[] = [];
  if (Array.isArray(root.curves)) {
    for (const curve of root.curves) {
      if (!isObject(curve) || !Array.isArray(curve.points)) throw invalid(source, 'each curve needs "method" and "points"');
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
      throw invalid(source, `every point needs a "method" string and a numeric "coverage" (got ${JSON.stringify(row).slice(0, 120)})`);
    }
    const fields = isObject(row.metrics) ? { ...row, ...row.metrics } : row;
    const metrics = Object.entries(fields).filter(
      (e): e is [string, number] => METRIC_KEY.test(e[0]) && typeof e[1] === 'number' && Number.isFinite(e[1]),
    );
    raw.push({ method: row.method, coverage, metrics });
  }
  const percent = raw.some((r) => r.coverage > 1);
  const points: QualityCurvePoint[] = [];
  for (const r of raw) {
    for (const [metric, v] of r.metrics) {
      points.push(
        Object.freeze({ method: r.method, coverage: percent ? r.coverage / 100 : r.coverage, metric: metric.toLowerCase(), value: v }),
      );
    }
  }
  points.sort((a, b) => a.method.localeCompare(b.method) || a.metric.localeCompare(b.metric) || a.coverage - b.coverage);
  return Object.freeze({
    dataset: typeof root.dataset === 'string' ? root.dataset : null,
    points: Object.freeze(points),
  });
}

/** Reads and parses a curves file; `INVALID_INPUT` naming the file when it cannot be used. */
export async function readQualityCurves(path: string): Promise<QualityCurves> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ReembedError('NOT_FOUND', `Quality curves file ${path} cannot be read: ${(error as Error).message}.`, {
      cause: error,
      details: { path },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(path, `not JSON (${(error as Error).message})`);
  }
  return parseQualityCurves(value, path);
}

function invalid(source: string, why: string): ReembedError {
  return new ReembedError(
    'INVALID_INPUT',
    `Quality curves ${source}: ${why}. Write {"curves": [{"method": "...", "points": [{"coverage": 0.5, "ndcg@10": 0.4}]}]}.`,
    { details: { source } },
  );
}
