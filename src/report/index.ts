/** `reembed report`: charts and tables of quality, coverage, versions, latency and traffic, as HTML and PNG. */

export type {
  CoverageSample,
  CoverageSampleFilter,
  CoverageSampleRepository,
} from '../ports/coverage-samples.js';
export { buildCharts, CHART_BUILDERS, type ReportChart, type ReportTable } from './charts/index.js';
export { type CollectReportOptions, collectReport } from './collect.js';
export {
  type CoverageSampling,
  type SampleCoverageOptions,
  sampleCoverage,
} from './coverage.js';
export { parseQualityCurves, type QualityCurves, readQualityCurves } from './curves.js';
export type * from './data.js';
export { type ChartFonts, FONT_PACKAGE, findChartFonts } from './fonts.js';
export type { RenderedChart } from './html.js';
export { reportHtml } from './html.js';
export { evaluateForReport, LAST_EVAL_KEY, type StoredEvaluation, storedQuality } from './quality.js';
export { renderPng, renderSvg, svgSize } from './render.js';
export { renderCharts, type WriteReportOptions, type WrittenReport, writeReport } from './write.js';
