/** `reembed report`: charts and tables of quality, coverage, versions, latency and traffic, as HTML and PNG. */
export { collectReport, type CollectReportOptions } from './collect.js';
export { type CoverageSampling, coverageSamplesOf, type SampleCoverageOptions, sampleCoverage } from './coverage.js';
export type { CoverageSample, CoverageSampleFilter, CoverageSampleRepository } from './coverage-store.js';
export { type QualityCurves, parseQualityCurves, readQualityCurves } from './curves.js';
export type * from './data.js';
export { evaluateForReport, LAST_EVAL_KEY, type StoredEvaluation, storedQuality } from './quality.js';
export { type ChartFonts, FONT_PACKAGE, findChartFonts } from './fonts.js';
export { reportHtml } from './html.js';
export { renderPng, renderSvg, svgSize } from './render.js';
export { renderCharts, type WriteReportOptions, type WrittenReport, writeReport } from './write.js';
