import type { Config } from 'vega-lite';
import type { ReportData } from '../data.js';

/**
 * The look shared by every chart. Fonts: DejaVu Sans first (what the PNG renderer loads on Debian), then
 * common system fonts for browsers. Colours carry meaning and stay the same in every chart: the old
 * namespace grey, the new one blue, a mix served during a migration orange, and red only for what is
 * wrong (a foreign fingerprint).
 */
export const FONT_STACK = 'DejaVu Sans, Helvetica, Arial, sans-serif';

export const COLORS = Object.freeze({
  old: '#7f7f7f',
  new: '#1f77b4',
  mixed: '#ff7f0e',
  foreign: '#d62728',
  p50: '#9ecae1',
  p99: '#08519c',
  text: '#222222',
  muted: '#555555',
});

/** For namespaces that are neither old nor new, and for curve methods. Never red or orange. */
export const PALETTE = Object.freeze([
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#17becf',
  '#e377c2',
  '#bcbd22',
  '#393b79',
]);

export const WIDTH = 560;

export const CONFIG: Config = {
  font: FONT_STACK,
  background: 'white',
  padding: 16,
  view: { stroke: null },
  axis: {
    labelFontSize: 12,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    labelColor: COLORS.text,
    titleColor: COLORS.muted,
    gridColor: '#e6e6e6',
    domainColor: '#999999',
    tickColor: '#999999',
    labelLimit: 280,
  },
  legend: {
    labelFontSize: 12,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    titleColor: COLORS.muted,
    labelColor: COLORS.text,
    orient: 'bottom',
    direction: 'horizontal',
    labelLimit: 320,
    titleLimit: 320,
    gridAlign: 'none',
    columnPadding: 16,
    symbolType: 'square',
  },
  title: {
    fontSize: 16,
    fontWeight: 'bold',
    anchor: 'start',
    color: COLORS.text,
    subtitleFontSize: 12,
    subtitleColor: COLORS.muted,
    offset: 12,
  },
  header: { labelFontSize: 13, labelFontWeight: 'bold', labelColor: COLORS.text, titleFontSize: 12 },
  bar: { cornerRadiusEnd: 2 },
};

/**
 * One colour per namespace for every chart of a report: the migration's old namespace grey, its new one
 * blue, the others from `PALETTE` in name order.
 */
export function namespaceColors(data: Pick<ReportData, 'namespaces' | 'traffic'>): Map<string, string> {
  const colors = new Map<string, string>();
  const names = [
    ...new Set([...data.namespaces.map((n) => n.name), ...data.traffic.map((t) => t.namespace)]),
  ].sort();
  for (const ns of data.namespaces) {
    if (ns.role === 'old') colors.set(ns.name, COLORS.old);
    if (ns.role === 'new') colors.set(ns.name, COLORS.new);
  }
  let i = 0;
  for (const name of names) {
    if (colors.has(name)) continue;
    colors.set(name, PALETTE[i % PALETTE.length] as string);
    i++;
  }
  return colors;
}

/** A Vega-Lite color scale with an explicit domain → range, so a name keeps its colour across charts. */
export function colorScale(
  domain: readonly string[],
  colors: ReadonlyMap<string, string>,
): { domain: string[]; range: string[] } {
  return { domain: [...domain], range: domain.map((d) => colors.get(d) ?? COLORS.muted) };
}

/**
 * A UTC time axis whose labels fit the span shown (`14:05:30` within ten minutes, `14:05` within a day,
 * `Nov 21 14:05` within a month, dates beyond): Vega's default multi-format mixes 12-hour times and bare
 * seconds (`:15`). With `wholeMinutes` (per-minute data) ticks fall on whole minutes, never between.
 */
export function utcTimeAxis(
  first: string,
  last: string,
  options: { wholeMinutes?: boolean } = {},
): {
  scale: { type: 'utc' };
  axis: { format: string; labelAngle: number; labelOverlap: true; tickCount?: number; values?: number[] };
} {
  const from = Date.parse(first);
  const to = Date.parse(last);
  const span = Math.abs(to - from);
  const day = 86_400_000;
  let format =
    span <= 600_000 ? '%H:%M:%S' : span <= day ? '%H:%M' : span <= 31 * day ? '%b %d %H:%M' : '%Y-%m-%d';
  // A utc scale makes Vega-Lite format the labels with utcFormat.
  const axis = { format, labelAngle: 0, labelOverlap: true as const };
  if (!options.wholeMinutes) return { scale: { type: 'utc' }, axis: { ...axis, tickCount: 6 } };
  if (format === '%H:%M:%S') format = '%H:%M';
  const minutes = span / 60_000;
  const stepMinutes =
    [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].find((s) => minutes / s <= 6) ?? 2880;
  const step = stepMinutes * 60_000;
  const values: number[] = [];
  for (let t = Math.ceil(Math.min(from, to) / step) * step; t <= Math.max(from, to); t += step)
    values.push(t);
  return { scale: { type: 'utc' }, axis: { ...axis, format, values } };
}
