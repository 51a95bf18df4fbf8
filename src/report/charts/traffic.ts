import type { ReportData } from '../data.js';
import type { AreaPanel, BarPanel, ChartSpec } from '../svg/spec.js';
import { percent, type ReportChart, reportChart, windowText } from './chart.js';
import { COLORS, namespaceColors, WIDTH } from './theme.js';

/**
 * Traffic share per namespace over the window and, when the window spans several minutes, served reads
 * per minute: during a progressive rollout the new namespace's band grows as the old one's shrinks.
 */
export function trafficChart(data: ReportData): ReportChart {
  const rows = data.traffic.filter((r) => r.queries > 0 || r.shadowReads > 0);
  const title = 'Traffic share per namespace';
  const caption =
    "Share of the collection's responses each namespace served over the window (a fused read counts for both namespaces), and its share of served reads minute by minute: " +
    'during a progressive rollout the new namespace grows as the old one shrinks. ' +
    'Shadow reads are compared, never served, and are counted apart.';
  const perMinute = new Map<string, number>();
  for (const m of data.trafficByMinute) perMinute.set(m.minute, (perMinute.get(m.minute) ?? 0) + m.queries);
  const table = {
    columns: ['minute (UTC)', 'namespace', 'served reads', 'shadow reads', 'share'],
    rows: [
      ...rows.map((r) => ['whole window', r.namespace, r.queries, r.shadowReads, percent(r.share)]),
      ...data.trafficByMinute.map((m) => [
        m.minute.slice(0, 16).replace('T', ' '),
        m.namespace,
        m.queries,
        null,
        percent(m.queries / (perMinute.get(m.minute) ?? 1)),
      ]),
    ],
  };
  const head = {
    id: 'traffic',
    title,
    caption,
    table,
    ifEmpty:
      'No query traffic recorded in the window. Traffic is recorded by `reembed search` and by recordTraffic(app) in the library.',
  };
  return reportChart(head, rows.length > 0, () => drawTraffic(data, rows));
}

function drawTraffic(data: ReportData, rows: ReportData['traffic']): Omit<ChartSpec, 'title'> {
  const colors = namespaceColors(data);
  const names = rows.map((r) => r.namespace).sort();
  const colorOf = (name: string): string => colors.get(name) ?? COLORS.muted;
  const byName = new Map(rows.map((r) => [r.namespace, r]));
  const share: BarPanel = {
    kind: 'bar',
    width: WIDTH,
    step: 30,
    band: 0.65,
    x: { title: 'share of responses', domain: [0, 1], format: { style: 'percent', digits: 0 }, ticks: 5 },
    rows: names.map((name) => {
      const r = byName.get(name) as (typeof rows)[number];
      return {
        label: name,
        bars: [
          {
            segments: [{ value: r.share ?? 0, color: colorOf(name) }],
            text: `${percent(r.share)} · ${r.queries} reads${r.shadowReads ? ` (+${r.shadowReads} shadow)` : ''}`,
          },
        ],
      };
    }),
  };
  const minutes = new Set(data.trafficByMinute.map((m) => m.minute));
  const subtitle = windowText(data);
  const legend = {
    items: names.map((name) => ({ label: name, color: colorOf(name), symbol: 'square' as const })),
  };
  if (minutes.size < 2) return { subtitle, panels: [share] };
  const overTime: AreaPanel = {
    kind: 'area',
    width: WIDTH,
    height: 180,
    x: { title: 'minute (UTC)', time: true, wholeMinutes: true },
    y: { title: 'share of served reads', domain: [0, 1], format: { style: 'percent', digits: 0 }, ticks: 5 },
    series: names.map((name) => ({
      name,
      color: colorOf(name),
      points: data.trafficByMinute
        .filter((m) => m.namespace === name)
        .map((m) => ({ x: Date.parse(m.minute), y: m.queries })),
    })),
  };
  return { subtitle, layout: 'column', spacing: 24, panels: [share, overTime], legend };
}
