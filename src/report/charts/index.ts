import type { ReportData } from '../data.js';
import type { ChartBuilder, ReportChart } from './chart.js';
import { coverageChart } from './coverage.js';
import { latencyChart } from './latency.js';
import { qualityChart } from './quality.js';
import { qualityCurvesChart } from './quality-curves.js';
import { trafficChart } from './traffic.js';
import { versionsChart } from './versions.js';

export type { ReportChart, ReportTable } from './chart.js';

/** The charts of a report, in page order. The quality-curves chart appears only with curve data. */
export const CHART_BUILDERS: readonly ChartBuilder[] = [
  qualityChart,
  qualityCurvesChart,
  coverageChart,
  versionsChart,
  latencyChart,
  trafficChart,
];

export function buildCharts(data: ReportData): ReportChart[] {
  return CHART_BUILDERS.map((build) => build(data)).filter(
    (c) => c.id !== 'quality-curves' || c.spec !== null,
  );
}
