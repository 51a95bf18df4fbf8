import type { ReportData } from '../data.js';
import { chart, percent, type ReportChart, windowText } from './chart.js';
import { COLORS, colorScale, namespaceColors, utcTimeAxis, WIDTH } from './theme.js';

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
  if (rows.length === 0) {
    return chart({
      id: 'traffic',
      title,
      caption,
      spec: null,
      table,
      empty:
        'No query traffic recorded in the window. Traffic is recorded by `reembed search` and by recordTraffic(app) in the library.',
    });
  }
  const colors = namespaceColors(data);
  const names = rows.map((r) => r.namespace).sort();
  const color = {
    field: 'namespace',
    type: 'nominal' as const,
    title: null,
    scale: colorScale(names, colors),
    sort: names,
  };
  const shares = rows.map((r) => ({
    namespace: r.namespace,
    share: r.share ?? 0,
    label: `${percent(r.share)} · ${r.queries} reads${r.shadowReads ? ` (+${r.shadowReads} shadow)` : ''}`,
  }));
  const share = {
    width: WIDTH,
    height: { step: 30 },
    data: { values: shares },
    encoding: {
      y: { field: 'namespace', type: 'nominal' as const, title: null, sort: names },
      x: {
        field: 'share',
        type: 'quantitative' as const,
        title: 'share of responses',
        scale: { domain: [0, 1] },
        axis: { format: '.0%', tickCount: 5 },
      },
    },
    layer: [
      {
        mark: { type: 'bar' as const, height: { band: 0.65 } },
        encoding: { color: { ...color, legend: null } },
      },
      {
        mark: { type: 'text' as const, align: 'left' as const, dx: 4, fontSize: 11, color: COLORS.text },
        encoding: { text: { field: 'label', type: 'nominal' as const } },
      },
    ],
  };
  const minutes = new Set(data.trafficByMinute.map((m) => m.minute));
  const subtitle = windowText(data);
  if (minutes.size < 2) {
    return chart({
      id: 'traffic',
      title,
      caption,
      table,
      spec: { title: { text: title, subtitle }, ...share },
    });
  }
  const overTime = {
    width: WIDTH,
    height: 180,
    data: { values: data.trafficByMinute.map((m) => ({ ...m })) },
    mark: { type: 'area' as const, opacity: 0.9 },
    encoding: {
      x: {
        field: 'minute',
        type: 'temporal' as const,
        title: 'minute (UTC)',
        ...utcTimeAxis(
          data.trafficByMinute[0]?.minute ?? data.since,
          data.trafficByMinute.at(-1)?.minute ?? data.generatedAt,
          { wholeMinutes: true },
        ),
      },
      y: {
        field: 'queries',
        type: 'quantitative' as const,
        title: 'share of served reads',
        stack: 'normalize' as const,
        axis: { format: '.0%', tickCount: 5 },
      },
      color,
    },
  };
  return chart({
    id: 'traffic',
    title,
    caption,
    table,
    spec: { title: { text: title, subtitle }, vconcat: [share, overTime], spacing: 24 },
  });
}
