import type { ReportData } from '../data.js';
import { type ReportChart, chart, fixed, percent } from './chart.js';
import { COLORS, PALETTE, colorScale, WIDTH } from './theme.js';

const METRICS = [
  ['ndcg@10', 'nDCG@10'],
  ['recall@10', 'recall@10'],
] as const;

const ROLE_ORDER = ['old', 'during migration', 'new', 'serving', 'active', 'building', 'retiring'];
const ROLE_COLORS = new Map<string, string>([
  ['old', COLORS.old],
  ['new', COLORS.new],
  ['during migration', COLORS.mixed],
  ['serving', PALETTE[0] as string],
  ['active', PALETTE[1] as string],
  ['building', PALETTE[5] as string],
  ['retiring', PALETTE[2] as string],
]);

const label = (target: string, kind: string): string => (kind === 'alias' ? `${target} (alias)` : target);

/** nDCG@10 and recall@10 of each evaluated namespace (old, new) and of an alias serving a mix mid-migration. */
export function qualityChart(data: ReportData): ReportChart {
  const rows = [...data.quality.rows].sort(
    (a, b) => rank(a.role) - rank(b.role) || a.target.localeCompare(b.target),
  );
  const table = {
    columns: ['target', 'role', 'nDCG@10', 'recall@10', 'coverage', 'queries', 'golden set', 'evaluated', 'p50 ms', 'p99 ms'],
    rows: rows.map((r) => [
      label(r.target, r.kind),
      r.routing ? `${r.role}: ${r.routing}` : r.role,
      fixed(r.metrics['ndcg@10'], 4),
      fixed(r.metrics['recall@10'], 4),
      percent(r.coverage),
      r.golden.queries,
      `${r.golden.name} (${r.golden.digest})`,
      `${r.at}${r.source === 'stored' ? ' (stored)' : ''}`,
      fixed(r.latency.p50, 2),
      fixed(r.latency.p99, 2),
    ]),
  };
  const title = 'Retrieval quality: old vs new vs during migration';
  const caption =
    'Golden-set quality of each namespace, and of an alias that serves a mix of both during a migration (split or fused routing). ' +
    'Higher is better; the old namespace is grey, the new one blue, the mix orange.';
  if (rows.length === 0) {
    return chart({
      id: 'quality',
      title,
      caption,
      spec: null,
      table,
      empty:
        'No evaluation yet. Run `reembed report --golden DIR|NAME` (a BEIR directory, a JSONL file or a stored golden set) to evaluate every namespace.',
    });
  }
  const values = rows.flatMap((r) =>
    METRICS.filter(([key]) => r.metrics[key] !== undefined).map(([key, name]) => ({
      label: label(r.target, r.kind),
      role: r.role,
      metric: name,
      value: r.metrics[key] as number,
    })),
  );
  const roles = [...new Set(rows.map((r) => r.role))];
  const golden = rows[0]?.golden;
  const labels = [...new Set(values.map((v) => v.label))];
  return chart({
    id: 'quality',
    title,
    caption,
    table,
    spec: {
      title: {
        text: title,
        subtitle: golden ? `golden set ${golden.name}, ${golden.queries} queries · higher is better` : '',
      },
      data: { values },
      facet: {
        column: { field: 'metric', type: 'nominal', title: null, sort: METRICS.map(([, n]) => n), header: { labelAnchor: 'start' } },
      },
      spacing: 48,
      spec: {
        width: Math.round((WIDTH - 220) / 2),
        height: { step: 30 },
        encoding: {
          y: { field: 'label', type: 'nominal', title: null, sort: labels },
          x: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] }, axis: { format: '.1f', tickCount: 5 } },
        },
        layer: [
          {
            mark: { type: 'bar', height: { band: 0.7 } },
            encoding: {
              color: { field: 'role', type: 'nominal', title: null, scale: colorScale(roles, ROLE_COLORS), sort: roles },
            },
          },
          {
            mark: { type: 'text', align: 'left', dx: 4, fontSize: 12, color: COLORS.text },
            encoding: { text: { field: 'value', type: 'quantitative', format: '.3f' } },
          },
        ],
      },
    },
  });
}

function rank(role: string): number {
  const i = ROLE_ORDER.indexOf(role);
  return i < 0 ? ROLE_ORDER.length : i;
}

/** Quality against coverage during a migration, one line per method, from a benchmark's curves file. */
export function qualityCurvesChart(data: ReportData): ReportChart {
  const points = data.quality.curves;
  const at10 = points.filter((p) => p.metric.endsWith('@10'));
  const shown = at10.length > 0 ? at10 : points;
  const metrics = [...new Set(shown.map((p) => p.metric))].sort();
  const methods = [...new Set(shown.map((p) => p.method))];
  const title = 'Quality during a migration';
  const source = data.quality.curvesSource;
  const caption =
    'Quality as the share of documents already in the new space grows, one line per way of serving the migration. ' +
    `A naive index that mixes both spaces dips below both ends; reembed's routing does not.${source ? ` Data: ${source}.` : ''}`;
  const table = {
    columns: ['method', 'coverage', ...metrics],
    rows: tableRows(shown, metrics),
  };
  if (shown.length === 0) {
    return chart({
      id: 'quality-curves',
      title,
      caption,
      spec: null,
      table,
      empty:
        'No curves. Pass `--curves FILE` with the JSON a quality-during-migration benchmark wrote (e.g. bench/results/quality.json).',
    });
  }
  const colors = new Map(methods.map((m, i) => [m, /naive|mixed/i.test(m) ? COLORS.foreign : (PALETTE[i % PALETTE.length] as string)]));
  return chart({
    id: 'quality-curves',
    title,
    caption,
    table,
    spec: {
      title: {
        text: title,
        subtitle: `${data.quality.curvesDataset ? `${data.quality.curvesDataset} · ` : ''}x: documents already in the new space · higher is better`,
      },
      data: { values: shown.map((p) => ({ ...p })) },
      facet: { column: { field: 'metric', type: 'nominal', title: null, sort: metrics, header: { labelAnchor: 'start' } } },
      spacing: 40,
      spec: {
        width: metrics.length > 1 ? Math.round((WIDTH - 60) / 2) : WIDTH,
        height: 260,
        mark: { type: 'line', point: { size: 40, filled: true }, strokeWidth: 2 },
        encoding: {
          x: {
            field: 'coverage',
            type: 'quantitative',
            title: 'documents in the new space',
            scale: { domain: [0, 1] },
            axis: { format: '.0%', tickCount: 5 },
          },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false }, axis: { format: '.2f' } },
          color: { field: 'method', type: 'nominal', title: null, scale: colorScale(methods, colors), sort: methods },
        },
      },
      resolve: { scale: { y: 'independent' } },
    },
  });
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
  return [...byKey.values()].map((r) => [r.method, percent(r.coverage, 0), ...metrics.map((m) => fixed(r.values.get(m), 4))]);
}
