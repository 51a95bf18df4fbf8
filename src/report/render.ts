import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CONFIG } from './charts/theme.js';
import { type ChartFonts, findChartFonts } from './fonts.js';
import { installTextMetrics } from './text-width.js';

/**
 * Server-side rendering of a chart: Vega-Lite compiled to Vega, drawn headless to an SVG string (no
 * browser, no canvas, no network: data is inline), and the SVG rasterised by resvg for PNG files.
 */

/**
 * Renders a Vega-Lite spec to a standalone SVG in the report theme (`CONFIG`; a spec's own `config`
 * wins). Element ids are prefixed with `idPrefix` so several charts
 * can be inlined in one HTML page without their clip paths and gradients colliding. Vega and Vega-Lite
 * warnings are appended to `warnings`.
 */
export async function renderSvg(
  spec: TopLevelSpec,
  idPrefix: string,
  warnings: string[] = [],
): Promise<string> {
  installTextMetrics();
  // Warnings (a dropped encoding, an unknown scale) go to `warnings`, never to the console of a CLI.
  const logger = vega.logger(vega.Warn, 'warn', (_method, level, input) => {
    warnings.push(`${level} ${Array.from(input as ArrayLike<unknown>, String).join(' ')}`);
  });
  const compiled = compile(spec, { config: CONFIG, logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger, logLevel: vega.Warn });
  try {
    const svg = await view.toSVG();
    // An error inside the dataflow still yields an (empty) SVG: a bug in a chart spec, never a picture.
    const failure = warnings.find((w) => w.startsWith('ERROR'));
    if (failure) throw new Error(`Chart ${idPrefix} failed to render: ${failure}`);
    return prefixIds(svg, idPrefix);
  } finally {
    view.finalize();
  }
}

export function prefixIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${prefix}-${id}"`);
}

/** Width and height of an SVG's root element, in CSS pixels. */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const width = Number(/\bwidth="([\d.]+)"/.exec(root)?.[1]);
  const height = Number(/\bheight="([\d.]+)"/.exec(root)?.[1]);
  return { width: Number.isFinite(width) ? width : 0, height: Number.isFinite(height) ? height : 0 };
}

export interface PngOptions {
  /** Pixels per SVG pixel (default 2: sharp on high-density screens and in READMEs). */
  readonly scale?: number;
  readonly fonts?: ChartFonts;
}

/** Rasterises an SVG to PNG bytes; the image is `round(svg size × scale)`. */
export function renderPng(
  svg: string,
  options: PngOptions = {},
): { png: Buffer; width: number; height: number } {
  const fonts = options.fonts ?? findChartFonts();
  const scale = options.scale ?? 2;
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: {
      loadSystemFonts: true,
      fontFiles: [...fonts.files],
      ...(fonts.family ? { defaultFontFamily: fonts.family, sansSerifFamily: fonts.family } : {}),
    },
  });
  const image = resvg.render();
  return { png: image.asPng(), width: image.width, height: image.height };
}
