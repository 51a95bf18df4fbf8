import type { ReportData } from '../data.js';
import type { ChartSpec } from '../svg/spec.js';

/**
 * One chart of a report: what to draw (a `ChartSpec`, drawn to SVG by ../svg/render.ts; null when there
 * is nothing to draw, with `empty` saying how to get data) and the table of the numbers it draws, shown beside it so the report stays readable
 * without the picture (and by screen readers).
 */
export interface ReportTable {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number | null)[])[];
}

export interface ReportChart {
  /** File stem of the PNG and anchor in the HTML: `quality`, `coverage`, `versions` ... */
  readonly id: string;
  readonly title: string;
  /** What the chart shows and how to read it. */
  readonly caption: string;
  readonly spec: ChartSpec | null;
  /** Why nothing is drawn, and what to run to get data (when `spec` is null). */
  readonly empty: string | null;
  readonly table: ReportTable;
  /** Something in this chart is wrong now (e.g. a foreign fingerprint): the HTML flags the section. */
  readonly alert: boolean;
}

export type ChartBuilder = (data: ReportData) => ReportChart;

export function chart(
  fields: Omit<ReportChart, 'empty' | 'alert'> & Partial<Pick<ReportChart, 'empty' | 'alert'>>,
): ReportChart {
  return Object.freeze({ empty: null, alert: false, ...fields });
}

/**
 * What a chart states whether or not it draws: its id, title, caption, the table of its numbers, and what
 * to run to get data when it has none.
 */
export type ChartHead = Pick<ReportChart, 'id' | 'title' | 'caption' | 'table'> &
  Partial<Pick<ReportChart, 'alert'>> & { readonly ifEmpty: string };

/**
 * A chart of the report: drawn by `draw` when there is data (the picture carries the chart's title), else
 * empty, `head.ifEmpty` saying why and what to run to get data.
 */
export function reportChart(
  head: ChartHead,
  hasData: boolean,
  draw: () => Omit<ChartSpec, 'title'>,
): ReportChart {
  const { ifEmpty, ...fields } = head;
  return hasData
    ? chart({ ...fields, spec: { title: head.title, ...draw() } })
    : chart({ ...fields, spec: null, empty: ifEmpty });
}

/** Fixed digits, or `–` for a missing number. */
export function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : `${(value * 100).toFixed(digits)}%`;
}

/** The traffic window in words: `last 24 h (since 2026-01-01 12:00 UTC)`. */
export function windowText(data: Pick<ReportData, 'since' | 'generatedAt'>): string {
  const hours = (Date.parse(data.generatedAt) - Date.parse(data.since)) / 3_600_000;
  const span = hours >= 48 && hours % 24 === 0 ? `${hours / 24} days` : `${Number(hours.toFixed(1))} h`;
  return `last ${span} (since ${data.since.slice(0, 16).replace('T', ' ')} UTC)`;
}
