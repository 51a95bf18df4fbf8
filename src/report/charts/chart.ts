import type { TopLevelSpec } from 'vega-lite';
import type { ReportData } from '../data.js';

/**
 * One chart of a report: a Vega-Lite spec (null when there is nothing to draw, with `empty` saying how
 * to get data) and the table of the numbers it draws, shown beside it so the report stays readable
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
  readonly spec: TopLevelSpec | null;
  /** Why nothing is drawn, and what to run to get data (when `spec` is null). */
  readonly empty: string | null;
  readonly table: ReportTable;
  /** Something in this chart is wrong now (e.g. a foreign fingerprint): the HTML flags the section. */
  readonly alert: boolean;
}

export type ChartBuilder = (data: ReportData) => ReportChart;

export function chart(fields: Omit<ReportChart, 'empty' | 'alert'> & Partial<Pick<ReportChart, 'empty' | 'alert'>>): ReportChart {
  return Object.freeze({ empty: null, alert: false, ...fields });
}

/** Fixed digits, or `–` for a missing number. */
export function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${(value * 100).toFixed(digits)}%`;
}
