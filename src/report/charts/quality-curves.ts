import type { ReportData } from '../data.js';
import type { ChartSpec } from '../svg/spec.js';
import { fixed, percent, type ReportChart, reportChart } from './chart.js';
import { QUALITY_METRICS } from './quality.js';
import { COLORS, PALETTE, WIDTH } from './theme.js';

/**
 * The methods drawn from a curves file: the clean ends, the naive mixed index and what each strategy serves,
 * when the file has them (the quality benchmark writes a dozen; the table and the file keep the rest).
 */
export const CURVE_METHODS = [
  'clean v1',
  'clean v2',
  'naive mixed index',
  'blue-green / shadow',
  'progressive',
  'summed RRF',
  'lazy (default fusion)',
] as const;

const MAX_LINES = 8;

function curveColors(methods: readonly string[]): Map<string, string> {
  const colors = new Map<string, string>();
  let i = 0;
  for (const m of methods) {
    if (/clean v1|^old/i.test(m)) colors.set(m, COLORS.old);
    else if (/clean v2|^new/i.test(m)) colors.set(m, COLORS.new);
    else if (/naive|mixed index/i.test(m)) colors.set(m, COLORS.foreign);
    else colors.set(m, PALETTE[i++ % PALETTE.length] as string);
  }
  return colors;
}

/** Quality against coverage during a migration, one line per method, from a benchmark's curves file. */
export function qualityCurvesChart(data: ReportData): ReportChart {
  const points = data.quality.curves;
  const at10 = points.filter((p) => p.metric === 'ndcg@10' || p.metric === 'recall@10');
  const byMetric = at10.length > 0 ? at10 : points;
  const all = [...new Set(byMetric.map((p) => p.method))];
  const preferred = CURVE_METHODS.filter((m) => all.includes(m));
  const methods = preferred.length >= 3 ? [...preferred] : all.slice(0, MAX_LINES);
  const shown = byMetric.filter((p) => methods.includes(p.method));
  const metrics = [...new Set(shown.map((p) => p.metric))].sort();
  const title = 'Quality during a migration';
  const source = data.quality.curvesSource;
  const omitted = all.length - methods.length;
  const caption =
    'Quality as the share of documents already re-embedded grows, one line per way of serving the migration; the clean old and new indexes are the dashed references. ' +
    'A naive index that mixes both spaces (red) starts near zero and stays below the new model until the end; reembed never builds one.' +
    `${source ? ` Data: ${source}${data.quality.curvesDataset ? `, dataset ${data.quality.curvesDataset}` : ''}.` : ''}` +
    `${omitted > 0 ? ` ${omitted} more methods are in the file.` : ''}`;
  const table = {
    columns: ['method', 'coverage', ...metrics],
    rows: tableRows(shown, metrics),
  };
  const head = {
    id: 'quality-curves',
    title,
    caption,
    table,
    ifEmpty:
      'No curves. Pass `--curves FILE` with the JSON a quality-during-migration benchmark wrote (e.g. bench/results/quality.json).',
  };
  return reportChart(head, shown.length > 0, () => drawCurves(data, methods, metrics, shown));
}

function drawCurves(
  data: ReportData,
  methods: readonly string[],
  metrics: readonly string[],
  shown: ReportData['quality']['curves'],
): Omit<ChartSpec, 'title'> {
  const colors = curveColors(methods);
  const top = yMax(shown);
  return {
    subtitle: `${data.quality.curvesDataset ? `${data.quality.curvesDataset}: ` : ''}quality vs share of documents already in the new space · higher is better`,
    layout: 'row',
    spacing: 32,
    panels: metrics.map((metric) => ({
      kind: 'line' as const,
      title: METRIC_LABEL.get(metric) ?? metric,
      width: metrics.length > 1 ? 300 : WIDTH,
      height: 280,
      strokeWidth: 2,
      x: {
        title: 'documents in the new space',
        domain: [0, 1] as const,
        format: { style: 'percent' as const, digits: 0 },
        ticks: 5,
      },
      y: { title: null, domain: [0, top] as const, format: { style: 'fixed' as const, digits: 1 } },
      series: methods.map((method) => ({
        name: method,
        color: colors.get(method) ?? COLORS.muted,
        dashed: /^clean /i.test(method),
        points: shown
          .filter((p) => p.method === method && p.metric === metric)
          .sort((a, b) => a.coverage - b.coverage)
          .map((p) => ({ x: p.coverage, y: p.value })),
      })),
    })),
    legend: {
      columns: 2,
      items: methods.map((method) => ({
        label: method,
        color: colors.get(method) ?? COLORS.muted,
        symbol: 'line' as const,
        dashed: /^clean /i.test(method),
      })),
    },
  };
}

const METRIC_LABEL = new Map<string, string>(QUALITY_METRICS.map(([key, name]) => [key, name]));

/** Axis top: the next 0.1 above the largest value (metrics are in 0..1). */
function yMax(points: ReportData['quality']['curves']): number {
  const max = Math.max(...points.map((p) => p.value));
  return Math.min(1, Math.ceil((max + 0.02) * 10) / 10);
}

function tableRows(
  points: ReportData['quality']['curves'],
  metrics: readonly string[],
): (string | number | null)[][] {
  const byKey = new Map<string, { method: string; coverage: number; values: Map<string, number> }>();
  for (const p of points) {
    const key = `${p.method}\u0000${p.coverage}`;
    const row = byKey.get(key) ?? { method: p.method, coverage: p.coverage, values: new Map() };
    row.values.set(p.metric, p.value);
    byKey.set(key, row);
  }
  return [...byKey.values()].map((r) => [
    r.method,
    percent(r.coverage, 0),
    ...metrics.map((m) => fixed(r.values.get(m), 4)),
  ]);
}
