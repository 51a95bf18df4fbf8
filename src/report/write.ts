import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { buildCharts } from './charts/index.js';
import type { ReportData } from './data.js';
import { type ChartFonts, findChartFonts } from './fonts.js';
import { type RenderedChart, reportHtml } from './html.js';
import { renderPng, renderSvg } from './render.js';

/** Renders every chart of a report to SVG (charts with nothing to draw keep `svg: null`). */
export async function renderCharts(data: ReportData): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const chart of buildCharts(data)) {
    const svg = chart.spec ? renderSvg(chart.spec, chart.id) : null;
    out.push({ chart, svg, warnings: [] });
  }
  return out;
}

export interface WriteReportOptions {
  /** HTML file to write (default: none). */
  readonly out?: string;
  /** Directory for one PNG per drawn chart, `<chart id>.png` (created if missing; default: none). */
  readonly pngDir?: string;
  /** PNG pixels per SVG pixel (default 2). */
  readonly scale?: number;
}

export interface WrittenPng {
  readonly chart: string;
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

export interface WrittenReport {
  readonly html: string | null;
  readonly pngs: readonly WrittenPng[];
  /** Every chart, drawn or not (with why not). */
  readonly charts: readonly {
    readonly id: string;
    readonly title: string;
    readonly drawn: boolean;
    readonly empty: string | null;
    readonly warnings: readonly string[];
  }[];
  /** Font used for PNG text; `family: null` means none was found and PNG text may be missing. */
  readonly fonts: ChartFonts;
}

/**
 * Writes the HTML report and/or the PNG charts of collected report data.
 *
 * @example
 * const written = await writeReport(await collectReport(app, { collection: 'docs' }), {
 *   out: 'report.html',
 *   pngDir: 'charts',
 * });
 */
export async function writeReport(data: ReportData, options: WriteReportOptions): Promise<WrittenReport> {
  const rendered = await renderCharts(data);
  const fonts = findChartFonts();
  let html: string | null = null;
  if (options.out) {
    html = resolve(options.out);
    await mkdir(dirname(html), { recursive: true });
    await writeFile(html, reportHtml(data, rendered));
  }
  const pngs: WrittenPng[] = [];
  if (options.pngDir) {
    const dir = resolve(options.pngDir);
    await mkdir(dir, { recursive: true });
    for (const { chart, svg } of rendered) {
      if (svg === null) continue;
      const image = renderPng(svg, { fonts, ...(options.scale ? { scale: options.scale } : {}) });
      const path = join(dir, `${chart.id}.png`);
      await writeFile(path, image.png);
      pngs.push(
        Object.freeze({
          chart: chart.id,
          path,
          width: image.width,
          height: image.height,
          bytes: image.png.length,
        }),
      );
    }
  }
  return Object.freeze({
    html,
    pngs: Object.freeze(pngs),
    charts: Object.freeze(
      rendered.map(({ chart, svg, warnings }) => ({
        id: chart.id,
        title: chart.title,
        drawn: svg !== null,
        empty: chart.empty,
        warnings,
      })),
    ),
    fonts,
  });
}
