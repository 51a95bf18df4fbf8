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
export const PALETTE = Object.freeze(['#2ca02c', '#9467bd', '#8c564b', '#17becf', '#e377c2', '#bcbd22', '#393b79']);

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
    labelLimit: 220,
  },
  legend: {
    labelFontSize: 12,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    titleColor: COLORS.muted,
    labelColor: COLORS.text,
    orient: 'bottom',
    direction: 'horizontal',
    columns: 3,
    labelLimit: 320,
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
  const names = [...new Set([...data.namespaces.map((n) => n.name), ...data.traffic.map((t) => t.namespace)])].sort();
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
export function colorScale(domain: readonly string[], colors: ReadonlyMap<string, string>): { domain: string[]; range: string[] } {
  return { domain: [...domain], range: domain.map((d) => colors.get(d) ?? COLORS.muted) };
}

/** Shortens a long label from the middle, keeping its start and end readable. */
export function shorten(text: string, max = 34): string {
  if (text.length <= max) return text;
  const half = Math.floor((max - 1) / 2);
  return `${text.slice(0, half)}…${text.slice(text.length - (max - 1 - half))}`;
}
