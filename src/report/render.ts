import { createRequire } from 'node:module';
import { type ChartFonts, findChartFonts } from './fonts.js';
import { renderChartSvg } from './svg/render.js';
import type { ChartSpec } from './svg/spec.js';

/**
 * Rendering a report chart: its `ChartSpec` drawn to a standalone SVG by reembed's own chart module
 * (svg/), and the SVG rasterised by resvg for PNG files. resvg is loaded only when a PNG is drawn.
 */

/**
 * Renders a chart spec to a standalone SVG. The SVG carries no element ids, so any number of charts can
 * be inlined in one HTML page; `idPrefix` is kept for callers that prefix ids of SVGs they add themselves.
 */
export function renderSvg(spec: ChartSpec, idPrefix = 'chart'): string {
  return prefixIds(renderChartSvg(spec), idPrefix);
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

type ResvgModule = typeof import('@resvg/resvg-js');
let resvg: ResvgModule | null = null;
/** The native rasteriser, on first PNG (a report without `--png` never loads it). */
const loadResvg = (): ResvgModule => {
  resvg ??= createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
  return resvg;
};

/** Rasterises an SVG to PNG bytes; the image is `round(svg size × scale)`. */
export function renderPng(
  svg: string,
  options: PngOptions = {},
): { png: Buffer; width: number; height: number } {
  const fonts = options.fonts ?? findChartFonts();
  const scale = options.scale ?? 2;
  const { Resvg } = loadResvg();
  const renderer = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: {
      loadSystemFonts: true,
      fontFiles: [...fonts.files],
      ...(fonts.family ? { defaultFontFamily: fonts.family, sansSerifFamily: fonts.family } : {}),
    },
  });
  const image = renderer.render();
  return { png: image.asPng(), width: image.width, height: image.height };
}
