import type { QualityRow, ReportData } from '../data.js';
import type { ChartSpec } from '../svg/spec.js';
import { fixed, percent, type ReportChart, reportChart } from './chart.js';
import { COLORS, PALETTE } from './theme.js';

/** The metrics the quality charts draw, with their display names. */
export const QUALITY_METRICS = [
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

const label = (r: Pick<QualityRow, 'target' | 'kind' | 'routing'>): string =>
  r.kind === 'alias' ? `${r.target} (alias${r.routing ? `, ${r.routing}` : ''})` : r.target;

/** nDCG@10 and recall@10 of each evaluated namespace (old, new) and of an alias serving a mix mid-migration. */
export function qualityChart(data: ReportData): ReportChart {
  const rows = [...data.quality.rows].sort(
    (a, b) => rank(a.role) - rank(b.role) || a.target.localeCompare(b.target),
  );
  const table = {
    columns: [
      'target',
      'role',
      'nDCG@10',
      'recall@10',
      'coverage',
      'queries',
      'golden set',
      'evaluated',
      'p50 ms',
      'p99 ms',
    ],
    rows: rows.map((r) => [
      label(r),
      r.role,
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
  const head = {
    id: 'quality',
    title,
    caption,
    table,
    ifEmpty:
      'No evaluation yet. Run `reembed report --golden DIR|NAME` (a BEIR directory, a JSONL file or a stored golden set) to evaluate every namespace.',
  };
  return reportChart(head, rows.length > 0, () => drawQuality(rows));
}

function drawQuality(rows: readonly QualityRow[]): Omit<ChartSpec, 'title'> {
  const roles = [...new Set(rows.map((r) => r.role))];
  const golden = rows[0]?.golden;
  const metrics = QUALITY_METRICS.filter(([key]) => rows.some((r) => r.metrics[key] !== undefined));
  const colorOf = (role: string): string => ROLE_COLORS.get(role) ?? COLORS.muted;
  return {
    subtitle: golden ? `golden set ${golden.name}, ${golden.queries} queries · higher is better` : '',
    layout: 'row',
    spacing: 48,
    panels: metrics.map(([key, name], i) => ({
      kind: 'bar' as const,
      title: name,
      width: 240,
      step: 30,
      band: 0.7,
      labels: i === 0,
      x: { title: null, domain: [0, 1] as const, format: { style: 'fixed' as const, digits: 1 }, ticks: 5 },
      rows: rows.map((r) => {
        const value = r.metrics[key];
        return {
          label: label(r),
          bars: [
            value === undefined
              ? { segments: [], text: '–' }
              : { segments: [{ value, color: colorOf(r.role) }], text: value.toFixed(3) },
          ],
        };
      }),
    })),
    legend: {
      items: roles.map((role) => ({ label: role, color: colorOf(role), symbol: 'square' as const })),
    },
  };
}

function rank(role: string): number {
  const i = ROLE_ORDER.indexOf(role);
  return i < 0 ? ROLE_ORDER.length : i;
}
