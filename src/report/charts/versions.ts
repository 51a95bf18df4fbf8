import type { ReportData } from '../data.js';
import type { ChartSpec } from '../svg/spec.js';
import { percent, type ReportChart, reportChart } from './chart.js';
import { COLORS, namespaceColors, WIDTH } from './theme.js';

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
  const head = {
    id: 'versions',
    title,
    caption,
    table,
    alert: foreign.length > 0,
    ifEmpty: 'No records yet. Ingest documents: reembed ingest docs FILE.jsonl.',
  };
  return reportChart(head, rows.length > 0, () => drawVersions(data, rows, foreign));
}

function drawVersions(
  data: ReportData,
  rows: ReportData['versions'],
  foreign: ReportData['versions'],
): Omit<ChartSpec, 'title'> {
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
  const subtitle = foreign.length
    ? `ALERT: ${alerts.length === 1 ? '1 namespace holds' : `${alerts.length} namespaces hold`} records of another space`
    : 'every namespace holds one fingerprint: its own space';
  return {
    subtitle,
    subtitleColor: foreign.length ? COLORS.foreign : COLORS.muted,
    panels: [
      {
        kind: 'bar',
        width: WIDTH - 160,
        step: 34,
        band: 0.65,
        x: { title: 'share of records', domain: [0, 1], format: { style: 'percent', digits: 0 }, ticks: 5 },
        rows: namespaces.map((ns) => {
          const alert = alerts.find((a) => a.namespace === ns);
          // Own space first, foreign slices after it; a few foreign records are a sliver, so the whole
          // bar of an affected namespace gets a red outline and a call-out in words.
          const segments = rows
            .filter((r) => r.namespace === ns)
            .sort((a, b) => Number(a.foreign) - Number(b.foreign))
            .map((r) => ({ value: r.share, color: colors.get(legend(r)) ?? COLORS.muted }));
          return {
            label: ns,
            bars: [{ segments }],
            ...(alert
              ? {
                  outline: COLORS.foreign,
                  note: { text: alert.text, color: COLORS.foreign, bold: true },
                }
              : { note: { text: '100% own space', color: COLORS.muted } }),
          };
        }),
      },
    ],
    legend: {
      title: 'fingerprint and space',
      columns: 1,
      items: labels.map((l) => ({
        label: l,
        color: colors.get(l) ?? COLORS.muted,
        symbol: 'square' as const,
      })),
    },
  };
}
