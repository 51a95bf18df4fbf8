import type { ReportData } from '../data.js';
import { chart, percent, type ReportChart } from './chart.js';
import { COLORS, colorScale, namespaceColors, WIDTH } from './theme.js';

const FOREIGN_SHADES = [COLORS.foreign, '#a50f15', '#fb6a4a', '#67000d'];

/**
 * Fingerprint share of each namespace's records. A healthy namespace is one bar of one colour (its own
 * space); any other fingerprint is drawn red and called out in words next to the bar, because a few
 * foreign records are too thin a slice to see.
 */
export function versionsChart(data: ReportData): ReportChart {
  const rows = data.versions;
  const title = 'Version distribution';
  const foreign = rows.filter((r) => r.foreign);
  const caption =
    "Share of each namespace's records by space fingerprint. Each namespace must be 100% its own space (invariant 1); " +
    'a foreign fingerprint is shown in red and is an alert: those records were written behind the namespace guard.';
  const table = {
    columns: ['namespace', 'fingerprint', 'space', 'records', 'share', 'status'],
    rows: rows.map((r) => [
      r.namespace,
      r.fingerprint,
      r.space ?? 'unknown',
      r.records,
      percent(r.share, 2),
      r.foreign ? 'FOREIGN' : 'own',
    ]),
  };
  if (rows.length === 0) {
    return chart({
      id: 'versions',
      title,
      caption,
      spec: null,
      table,
      empty: 'No records yet. Ingest documents: reembed ingest docs FILE.jsonl.',
    });
  }
  const nsColors = namespaceColors(data);
  const legend = (r: (typeof rows)[number]): string =>
    r.foreign
      ? `${r.fingerprint} ${r.space ?? 'unknown space'}: FOREIGN`
      : `${r.fingerprint} ${r.space ?? ''}`.trim();
  const labels = [...new Set(rows.map(legend))];
  const colors = new Map<string, string>();
  let shade = 0;
  for (const r of rows) {
    const key = legend(r);
    if (colors.has(key)) continue;
    colors.set(
      key,
      r.foreign
        ? (FOREIGN_SHADES[shade++ % FOREIGN_SHADES.length] as string)
        : (nsColors.get(r.namespace) ?? COLORS.new),
    );
  }
  const namespaces = [...new Set(rows.map((r) => r.namespace))];
  const alerts = namespaces.flatMap((ns) => {
    const bad = foreign.filter((r) => r.namespace === ns);
    if (bad.length === 0) return [];
    const records = bad.reduce((s, r) => s + r.records, 0);
    const share = bad.reduce((s, r) => s + r.share, 0);
    return [
      {
        namespace: ns,
        text: `${records} foreign record${records === 1 ? '' : 's'} (${percent(share, share < 0.01 ? 2 : 1)})`,
      },
    ];
  });
  const okays = namespaces
    .filter((ns) => !alerts.some((a) => a.namespace === ns))
    .map((ns) => ({ namespace: ns, text: '100% own space' }));
  const subtitle = foreign.length
    ? `ALERT: ${alerts.length === 1 ? '1 namespace holds' : `${alerts.length} namespaces hold`} records of another space`
    : 'every namespace holds one fingerprint: its own space';
  return chart({
    id: 'versions',
    title,
    caption,
    table,
    alert: foreign.length > 0,
    spec: {
      title: { text: title, subtitle, subtitleColor: foreign.length ? COLORS.foreign : COLORS.muted },
      width: WIDTH - 160,
      height: { step: 34 },
      encoding: { y: { field: 'namespace', type: 'nominal', title: null, sort: namespaces } },
      layer: [
        {
          data: {
            values: rows.map((r) => ({
              namespace: r.namespace,
              share: r.share,
              fingerprint: legend(r),
              order: r.foreign ? 1 : 0,
              alert: alerts.some((a) => a.namespace === r.namespace),
            })),
          },
          mark: { type: 'bar', height: { band: 0.65 }, cornerRadiusEnd: 0 },
          encoding: {
            // A few foreign records are a sliver: the whole bar of an affected namespace gets a red outline.
            stroke: { condition: { test: 'datum.alert', value: COLORS.foreign }, value: null },
            strokeWidth: { condition: { test: 'datum.alert', value: 2.5 }, value: 0 },
            x: {
              field: 'share',
              type: 'quantitative',
              title: 'share of records',
              stack: 'zero',
              scale: { domain: [0, 1] },
              axis: { format: '.0%', tickCount: 5 },
            },
            color: {
              field: 'fingerprint',
              type: 'nominal',
              title: 'fingerprint and space',
              scale: colorScale(labels, colors),
              sort: labels,
              legend: { direction: 'vertical', orient: 'bottom' },
            },
            order: { field: 'order', type: 'quantitative' },
          },
        },
        {
          data: { values: okays },
          mark: { type: 'text', align: 'left', dx: 8, fontSize: 12, color: COLORS.muted },
          encoding: { x: { datum: 1 }, text: { field: 'text', type: 'nominal' } },
        },
        {
          data: { values: alerts },
          mark: {
            type: 'text',
            align: 'left',
            dx: 8,
            fontSize: 12,
            fontWeight: 'bold',
            color: COLORS.foreign,
          },
          encoding: { x: { datum: 1 }, text: { field: 'text', type: 'nominal' } },
        },
      ],
    },
  });
}
