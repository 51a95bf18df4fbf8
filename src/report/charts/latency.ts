import type { ReportData } from '../data.js';
import { chart, fixed, type ReportChart, windowText } from './chart.js';
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
  if (rows.length === 0) {
    return chart({
      id: 'latency',
      title,
      caption,
      spec: null,
      table,
      empty:
        'No latency measured: no query traffic was recorded in the window and nothing was evaluated. Serve queries with traffic recording on (`reembed search`, or recordTraffic(app) in the library), or pass --golden.',
    });
  }
  const values = rows.flatMap((r) => [
    { namespace: r.namespace, quantile: 'p50', ms: r.p50 },
    { namespace: r.namespace, quantile: 'p99', ms: r.p99 },
  ]);
  const subtitle = fromTraffic
    ? `served reads, ${windowText(data)} · lower is better`
    : 'golden-set evaluation queries (no recorded traffic) · lower is better';
  return chart({
    id: 'latency',
    title,
    caption,
    table,
    spec: {
      title: { text: title, subtitle },
      data: { values },
      width: WIDTH - 120,
      height: { step: 22 },
      encoding: {
        y: { field: 'namespace', type: 'nominal', title: null },
        yOffset: { field: 'quantile', type: 'nominal', sort: ['p50', 'p99'] },
        x: { field: 'ms', type: 'quantitative', title: 'milliseconds', scale: { nice: true } },
      },
      layer: [
        {
          mark: { type: 'bar', height: { band: 0.9 } },
          encoding: {
            color: {
              field: 'quantile',
              type: 'nominal',
              title: null,
              scale: { domain: ['p50', 'p99'], range: [COLORS.p50, COLORS.p99] },
            },
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 4, fontSize: 11, color: COLORS.text },
          encoding: { text: { field: 'label', type: 'nominal' } },
          transform: [
            {
              calculate: "datum.quantile + ' ' + format(datum.ms, datum.ms < 10 ? '.2f' : '.0f') + ' ms'",
              as: 'label',
            },
          ],
        },
      ],
    },
  });
}
