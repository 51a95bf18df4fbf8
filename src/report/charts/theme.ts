import type { ReportData } from '../data.js';

/**
 * The colours shared by every chart (fonts, sizes and axis styles are in ../svg/render.ts). Colours carry meaning and stay the same in every chart: the old
 * namespace grey, the new one blue, a mix served during a migration orange, and red only for what is
 * wrong (a foreign fingerprint).
 */
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
