import type { ReportData } from '../data.js';
import type { ChartSpec } from '../svg/spec.js';
import { fixed, type ReportChart, reportChart, windowText } from './chart.js';
import { COLORS, WIDTH } from './theme.js';

/** Read latency p50 and p99 per namespace: recorded traffic when there is some, else the evaluation's queries. */
export function latencyChart(data: ReportData): ReportChart {
  const rows = [...data.latency].sort((a, b) => a.namespace.localeCompare(b.namespace));
  const title = 'Read latency per namespace';
  const fromTraffic = rows.some((r) => r.source === 'traffic');
  const caption = fromTraffic
    ? 'Median (p50) and 99th percentile (p99) of served reads per namespace, from the recorded query traffic of the window.'
    : 'Median (p50) and 99th percentile (p99) of the golden-set queries of the evaluation (no recorded traffic in the window).';
  const table = {
    columns: ['namespace', 'p50 ms', 'p99 ms', 'reads', 'source'],
    rows: rows.map((r) => [r.namespace, fixed(r.p50, 2), fixed(r.p99, 2), r.samples, r.source]),
  };
  const head = {
    id: 'latency',
    title,
    caption,
    table,
    ifEmpty:
      'No latency measured: no query traffic was recorded in the window and nothing was evaluated. Serve queries with traffic recording on (`reembed search`, or recordTraffic(app) in the library), or pass --golden.',
  };
  return reportChart(head, rows.length > 0, () => drawLatency(data, rows, fromTraffic));
}

function drawLatency(
  data: ReportData,
  rows: ReportData['latency'],
  fromTraffic: boolean,
): Omit<ChartSpec, 'title'> {
  const subtitle = fromTraffic
    ? `served reads, ${windowText(data)} · lower is better`
    : 'golden-set evaluation queries (no recorded traffic) · lower is better';
  const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;
  const bar = (quantile: 'p50' | 'p99', value: number | null) => ({
    segments: value === null ? [] : [{ value, color: quantile === 'p50' ? COLORS.p50 : COLORS.p99 }],
    text: `${quantile} ${value === null ? '–' : ms(value)}`,
  });
  return {
    subtitle,
    panels: [
      {
        kind: 'bar',
        width: WIDTH - 120,
        step: 22,
        band: 0.9,
        // digits -1: as many as the ticks need.
        x: { title: 'milliseconds', format: { style: 'fixed', digits: -1 }, ticks: 5 },
        rows: rows.map((r) => ({ label: r.namespace, bars: [bar('p50', r.p50), bar('p99', r.p99)] })),
      },
    ],
    legend: {
      items: [
        { label: 'p50', color: COLORS.p50, symbol: 'square' },
        { label: 'p99', color: COLORS.p99, symbol: 'square' },
      ],
    },
  };
}
