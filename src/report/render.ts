import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { type ChartFonts, findChartFonts } from './fonts.js';

/**
 * Server-side rendering of a chart: Vega-Lite compiled to Vega, drawn headless to an SVG string (no
 * browser, no canvas, no network: data is inline), and the SVG rasterised by resvg for PNG files.
 */

/**
 * Renders a Vega-Lite spec to a standalone SVG. Element ids are prefixed with `idPrefix` so several charts
 * can be inlined in one HTML page without their clip paths and gradients colliding.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
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
export function renderPng(svg: string, options: PngOptions = {}): { png: Buffer; width: number; height: number } {
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
