import { textWidth } from '../text-width.js';
import {
  digitsFor,
  formatNumber,
  isTimeAxis,
  linearScale,
  linearTicks,
  niceStep,
  type Scale,
  timeDomain,
  timeTicks,
  valueDomain,
} from './axis.js';
import type {
  AreaPanel,
  BarPanel,
  ChartSpec,
  Legend,
  LinePanel,
  NumberFormat,
  Panel,
  TimeAxis,
  ValueAxis,
  XYPanel,
} from './spec.js';

/**
 * Draws a `ChartSpec` as a standalone SVG string: plain `<rect>`, `<path>`, `<line>` and `<text>`, no
 * scripts, ids or URLs, so charts inline in the HTML report as they are and rasterise with any SVG
 * renderer. Text is laid out with DejaVu Sans advance widths (text-width.ts), the font the PNGs use;
 * browsers drawing Helvetica or Arial get slightly narrower text, so nothing overlaps there either.
 */

export const FONT_STACK = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const INK = '#222222';
const MUTED = '#555555';
const GRID = '#e6e6e6';
const DOMAIN = '#999999';
const PADDING = 16;
const LABEL = 12;
const TICK = 5;

const esc = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v: number): string => String(Math.round(v * 100) / 100);

function text(
  x: number,
  y: number,
  content: string,
  options: {
    size?: number;
    color?: string;
    anchor?: 'start' | 'middle' | 'end';
    bold?: boolean;
    rotate?: number;
  } = {},
): string {
  const size = options.size ?? LABEL;
  const attrs = [
    `x="${n(x)}"`,
    `y="${n(y)}"`,
    `font-size="${size}"`,
    `fill="${options.color ?? INK}"`,
    ...(options.anchor && options.anchor !== 'start' ? [`text-anchor="${options.anchor}"`] : []),
    ...(options.bold ? ['font-weight="bold"'] : []),
    ...(options.rotate ? [`transform="rotate(${options.rotate} ${n(x)} ${n(y)})"`] : []),
  ];
  return `<text ${attrs.join(' ')}>${esc(content)}</text>`;
}

const line = (x1: number, y1: number, x2: number, y2: number, stroke: string, extra = ''): string =>
  `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${stroke}"${extra}/>`;

/** Baseline offset that centres 12 px text vertically on a y coordinate. */
const middle = (size: number): number => size * 0.35;

/** A panel laid out: how far it reaches beyond its plot on each side, and how to draw it at an origin. */
interface Measured {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly width: number;
  readonly height: number;
  /** SVG of the panel with its plot's top-left corner at (x, y). */
  draw(x: number, y: number): string;
}

const HEADER = 26;

/** A panel's header, `top` px above its plot (the panel's measured top). */
function header(title: string | undefined, x: number, y: number, top: number): string {
  return title ? text(x, y - top + 15, title, { size: 13, bold: true }) : '';
}

interface XAxisDraw {
  readonly ticks: readonly { at: number; label: string }[];
  readonly title: string | null;
}

function xAxis(axis: XAxisDraw, x: number, y: number, width: number, height: number): string {
  const out: string[] = [];
  for (const t of axis.ticks) out.push(line(x + t.at, y, x + t.at, y + height, GRID));
  out.push(line(x, y + height, x + width, y + height, DOMAIN));
  for (const t of axis.ticks) {
    out.push(line(x + t.at, y + height, x + t.at, y + height + TICK, DOMAIN));
    out.push(text(x + t.at, y + height + TICK + 14, t.label, { anchor: 'middle' }));
  }
  if (axis.title)
    out.push(text(x + width / 2, y + height + TICK + 34, axis.title, { anchor: 'middle', color: MUTED }));
  return out.join('');
}

const xAxisBottom = (title: string | null): number => TICK + (title ? 40 : 22);

/** Linear or time ticks positioned on `width` px, thinned until their labels do not touch. */
function horizontalTicks(
  axis: ValueAxis | TimeAxis,
  domain: [number, number],
  width: number,
): { scale: Scale; ticks: { at: number; label: string }[] } {
  const scale = linearScale(domain, [0, width]);
  let ticks: { at: number; label: string }[];
  if (isTimeAxis(axis)) {
    const t = timeTicks(domain, axis);
    ticks = t.values.map((v) => ({ at: scale(v), label: t.label(v) }));
  } else {
    const values = linearTicks(domain, axis.ticks ?? 5);
    const format = formatOf(axis, domain);
    ticks = values.map((v) => ({ at: scale(v), label: formatNumber(v, format) }));
  }
  while (ticks.length > 2 && overlaps(ticks)) ticks = ticks.filter((_, i) => i % 2 === 0);
  return { scale, ticks };
}

function overlaps(ticks: readonly { at: number; label: string }[]): boolean {
  for (let i = 1; i < ticks.length; i++) {
    const a = ticks[i - 1] as { at: number; label: string };
    const b = ticks[i] as { at: number; label: string };
    if (a.at + textWidth(a.label, LABEL) / 2 + 8 > b.at - textWidth(b.label, LABEL) / 2) return true;
  }
  return false;
}

/** A `fixed` format with digits 0 means "as many as the ticks need". */
function formatOf(axis: ValueAxis, domain: readonly [number, number]): NumberFormat {
  if (axis.format.style === 'fixed' && axis.format.digits < 0)
    return { style: 'fixed', digits: digitsFor(niceStep(domain[1] - domain[0], axis.ticks ?? 5)) };
  return axis.format;
}

function measureBars(panel: BarPanel): Measured {
  const labels = panel.labels ?? true;
  const labelWidth = labels ? Math.max(0, ...panel.rows.map((r) => textWidth(r.label, LABEL))) + TICK + 4 : 0;
  const values = panel.rows.flatMap((r) => r.bars.map((b) => b.segments.reduce((s, g) => s + g.value, 0)));
  const domain = valueDomain(panel.x, values);
  const { scale, ticks } = horizontalTicks(panel.x, domain, panel.width);
  const height = panel.rows.reduce((s, r) => s + Math.max(1, r.bars.length) * panel.step, 0);
  let right = 0;
  for (const r of panel.rows) {
    for (const b of r.bars) {
      const end = scale(b.segments.reduce((s, g) => s + g.value, 0));
      if (b.text) right = Math.max(right, end + 4 + textWidth(b.text, LABEL) - panel.width);
    }
    if (r.note) right = Math.max(right, 8 + textWidth(r.note.text, LABEL, r.note.bold));
  }
  const lastTick = ticks[ticks.length - 1];
  if (lastTick) right = Math.max(right, lastTick.at + textWidth(lastTick.label, LABEL) / 2 - panel.width);
  const top = panel.title ? HEADER : 4;
  const bottom = xAxisBottom(panel.x.title);
  return {
    left: labelWidth,
    right: Math.ceil(right + 2),
    top,
    bottom,
    width: panel.width,
    height,
    draw(x, y) {
      const out = [header(panel.title, x, y, HEADER)];
      out.push(xAxis({ ticks, title: panel.x.title }, x, y, panel.width, height));
      let rowY = y;
      for (const r of panel.rows) {
        const rowHeight = Math.max(1, r.bars.length) * panel.step;
        if (labels) {
          out.push(line(x - TICK, rowY + rowHeight / 2, x, rowY + rowHeight / 2, DOMAIN));
          out.push(text(x - TICK - 3, rowY + rowHeight / 2 + middle(LABEL), r.label, { anchor: 'end' }));
        }
        const barHeight = panel.step * panel.band;
        let outline: { y: number; end: number } | null = null;
        r.bars.forEach((b, i) => {
          const top = rowY + i * panel.step + (panel.step - barHeight) / 2;
          let from = 0;
          for (const g of b.segments) {
            const x0 = scale(from);
            const x1 = scale(from + g.value);
            from += g.value;
            if (x1 - x0 <= 0) continue;
            out.push(
              `<rect x="${n(x + x0)}" y="${n(top)}" width="${n(x1 - x0)}" height="${n(barHeight)}" fill="${g.color}"/>`,
            );
          }
          const end = scale(from);
          if (b.text) out.push(text(x + end + 4, top + barHeight / 2 + middle(LABEL), b.text));
          outline = { y: top, end: Math.max(end, outline?.end ?? 0) };
        });
        const box = outline as { y: number; end: number } | null;
        if (r.outline && box) {
          const top = rowY + (panel.step - barHeight) / 2;
          const h = rowHeight - panel.step + barHeight;
          out.push(
            `<rect x="${n(x)}" y="${n(top)}" width="${n(box.end)}" height="${n(h)}" fill="none" stroke="${r.outline}" stroke-width="2.5"/>`,
          );
        }
        if (r.note) {
          out.push(
            text(x + panel.width + 8, rowY + rowHeight / 2 + middle(LABEL), r.note.text, {
              color: r.note.color ?? MUTED,
              bold: r.note.bold ?? false,
            }),
          );
        }
        rowY += rowHeight;
      }
      if (labels) out.push(line(x, y, x, y + height, DOMAIN));
      return out.join('');
    },
  };
}

function yAxisOf(axis: ValueAxis, domain: [number, number], height: number) {
  const scale = linearScale(domain, [height, 0]);
  const format = formatOf(axis, domain);
  const ticks = linearTicks(domain, axis.ticks ?? 5).map((v) => ({
    at: scale(v),
    label: formatNumber(v, format),
  }));
  const labelWidth = Math.max(0, ...ticks.map((t) => textWidth(t.label, LABEL)));
  const left = TICK + 3 + labelWidth + (axis.title ? 22 : 0);
  const draw = (x: number, y: number, width: number): string => {
    const out: string[] = [];
    for (const t of ticks) out.push(line(x, y + t.at, x + width, y + t.at, GRID));
    out.push(line(x, y, x, y + height, DOMAIN));
    for (const t of ticks) {
      out.push(line(x - TICK, y + t.at, x, y + t.at, DOMAIN));
      out.push(text(x - TICK - 3, y + t.at + middle(LABEL), t.label, { anchor: 'end' }));
    }
    if (axis.title) {
      const tx = x - TICK - 3 - labelWidth - 10;
      out.push(text(tx, y + height / 2, axis.title, { anchor: 'middle', color: MUTED, rotate: -90 }));
    }
    return out.join('');
  };
  return { scale, left, draw };
}

function xDomainOf(axis: ValueAxis | TimeAxis, xs: readonly number[]): [number, number] {
  return isTimeAxis(axis) ? timeDomain(xs) : valueDomain(axis, xs);
}

/**
 * What a panel over an x axis (lines, stacked areas) lays out the same way: the x scale and ticks, the y
 * axis, its box (margins for the y labels, the x axis and a last x label overhanging the right edge), and
 * its title and x axis drawn at (x, y).
 */
function xyFrame(panel: XYPanel, xs: readonly number[], yDomain: [number, number]) {
  const { scale: sx, ticks } = horizontalTicks(panel.x, xDomainOf(panel.x, xs), panel.width);
  const yAxis = yAxisOf(panel.y, yDomain, panel.height);
  const lastTick = ticks[ticks.length - 1];
  const right = lastTick ? Math.max(0, lastTick.at + textWidth(lastTick.label, LABEL) / 2 - panel.width) : 0;
  return {
    sx,
    yAxis,
    box: {
      left: yAxis.left,
      right: Math.ceil(right + 4),
      top: panel.title ? HEADER + 10 : 8,
      bottom: xAxisBottom(panel.x.title),
      width: panel.width,
      height: panel.height,
    },
    axes: (x: number, y: number): string[] => [
      header(panel.title, x - yAxis.left, y, HEADER + 10),
      xAxis({ ticks, title: panel.x.title }, x, y, panel.width, panel.height),
    ],
  };
}

function measureLines(panel: LinePanel): Measured {
  const xs = [
    ...panel.series.flatMap((s) => s.points.map((p) => p.x)),
    ...(panel.rules ?? []).map((r) => r.x),
  ];
  const ys = panel.series.flatMap((s) => s.points.map((p) => p.y));
  const { sx, yAxis, box, axes } = xyFrame(panel, xs, valueDomain(panel.y, ys));
  const stroke = panel.strokeWidth ?? 2.5;
  return {
    ...box,
    draw(x, y) {
      const out = axes(x, y);
      out.push(yAxis.draw(x, y, panel.width));
      for (const r of panel.rules ?? []) {
        const rx = x + sx(r.x);
        out.push(line(rx, y, rx, y + panel.height, '#bbbbbb', ' stroke-dasharray="4,4"'));
        if (r.label)
          out.push(text(rx - 4, y + panel.height - 4, r.label, { size: 11, color: MUTED, rotate: -90 }));
      }
      for (const s of panel.series) {
        if (s.points.length === 0) continue;
        const d = s.points
          .map((p, i) => `${i === 0 ? 'M' : 'L'}${n(x + sx(p.x))},${n(y + yAxis.scale(p.y))}`)
          .join('');
        const dash = s.dashed ? ' stroke-dasharray="5,4"' : '';
        out.push(
          `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${stroke}" stroke-linejoin="round" stroke-linecap="round"${dash}/>`,
        );
        if (s.markers ?? true) {
          for (const p of s.points)
            out.push(
              `<circle cx="${n(x + sx(p.x))}" cy="${n(y + yAxis.scale(p.y))}" r="3.2" fill="${s.color}"/>`,
            );
        }
      }
      return out.join('');
    },
  };
}

function measureArea(panel: AreaPanel): Measured {
  const xs = [...new Set(panel.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const { sx, yAxis, box, axes } = xyFrame(panel, xs, [0, 1]);
  const valueAt = panel.series.map((s) => new Map(s.points.map((p) => [p.x, p.y])));
  const totals = xs.map((x) => valueAt.reduce((sum, m) => sum + (m.get(x) ?? 0), 0));
  return {
    ...box,
    draw(x, y) {
      const out = axes(x, y);
      const below = xs.map(() => 0);
      panel.series.forEach((s, i) => {
        const map = valueAt[i] as Map<number, number>;
        const top = xs.map((t, j) => (below[j] as number) + (map.get(t) ?? 0) / ((totals[j] as number) || 1));
        const upper = xs.map((t, j) => `${n(x + sx(t))},${n(y + yAxis.scale(top[j] as number))}`);
        const lower = xs.map((t, j) => `${n(x + sx(t))},${n(y + yAxis.scale(below[j] as number))}`).reverse();
        out.push(`<path d="M${[...upper, ...lower].join('L')}Z" fill="${s.color}" fill-opacity="0.9"/>`);
        top.forEach((v, j) => {
          below[j] = v;
        });
      });
      out.push(yAxis.draw(x, y, 0));
      return out.join('');
    },
  };
}

function measure(panel: Panel): Measured {
  if (panel.kind === 'bar') return measureBars(panel);
  if (panel.kind === 'line') return measureLines(panel);
  return measureArea(panel);
}

interface LegendBox {
  readonly width: number;
  readonly height: number;
  draw(x: number, y: number): string;
}

const SWATCH = 18;

function measureLegend(legend: Legend, maxWidth: number): LegendBox {
  const itemWidth = (label: string): number => SWATCH + 6 + textWidth(label, LABEL);
  const titleHeight = legend.title ? 20 : 0;
  const rowHeight = 20;
  const positions: { x: number; y: number }[] = [];
  let width = legend.title ? textWidth(legend.title, LABEL) : 0;
  if (legend.columns) {
    const columns = Math.max(1, legend.columns);
    const columnWidth = Math.max(...legend.items.map((i) => itemWidth(i.label))) + 20;
    legend.items.forEach((_, i) => {
      positions.push({ x: (i % columns) * columnWidth, y: Math.floor(i / columns) * rowHeight });
    });
    width = Math.max(width, Math.min(columns, legend.items.length) * columnWidth - 20);
  } else {
    let cx = 0;
    let cy = 0;
    for (const item of legend.items) {
      const w = itemWidth(item.label);
      if (cx > 0 && cx + w > maxWidth) {
        cx = 0;
        cy += rowHeight;
      }
      positions.push({ x: cx, y: cy });
      width = Math.max(width, cx + w);
      cx += w + 16;
    }
  }
  const rows = positions.length ? Math.max(...positions.map((p) => p.y)) / rowHeight + 1 : 0;
  return {
    width,
    height: titleHeight + rows * rowHeight,
    draw(x, y) {
      const out: string[] = [];
      if (legend.title) out.push(text(x, y + 12, legend.title, { color: MUTED }));
      legend.items.forEach((item, i) => {
        const p = positions[i] as { x: number; y: number };
        const cy = y + titleHeight + p.y + 9;
        if (item.symbol === 'line') {
          const dash = item.dashed ? ' stroke-dasharray="5,4"' : '';
          out.push(line(x + p.x, cy, x + p.x + SWATCH, cy, item.color, ` stroke-width="3"${dash}`));
        } else {
          out.push(
            `<rect x="${n(x + p.x + 4)}" y="${n(cy - 5)}" width="10" height="10" fill="${item.color}"/>`,
          );
        }
        out.push(text(x + p.x + SWATCH + 6, cy + middle(LABEL), item.label));
      });
      return out.join('');
    },
  };
}

/** Renders a chart to a standalone SVG document (white background, sizes in CSS pixels). */
export function renderChartSvg(spec: ChartSpec): string {
  const layout = spec.layout ?? 'row';
  const spacing = spec.spacing ?? 32;
  const panels = spec.panels.map(measure);
  const titleHeight = 20 + (spec.subtitle ? 18 : 0) + 12;
  const body: string[] = [];
  let contentWidth = 0;
  let contentHeight = 0;
  let plotLeft = 0;
  if (layout === 'row') {
    const top = Math.max(0, ...panels.map((p) => p.top));
    const height = Math.max(0, ...panels.map((p) => p.height + p.bottom));
    let x = 0;
    panels.forEach((p, i) => {
      if (i > 0) x += spacing;
      if (i === 0) plotLeft = p.left;
      body.push(p.draw(x + p.left, top));
      x += p.left + p.width + p.right;
    });
    contentWidth = x;
    contentHeight = top + height;
  } else {
    // Plots aligned on one left edge, each panel under the last.
    const left = Math.max(0, ...panels.map((p) => p.left));
    plotLeft = left;
    let y = 0;
    panels.forEach((p, i) => {
      if (i > 0) y += spacing;
      body.push(p.draw(left, y + p.top));
      y += p.top + p.height + p.bottom;
      contentWidth = Math.max(contentWidth, left + p.width + p.right);
    });
    contentHeight = y;
  }
  let legendSvg = '';
  if (spec.legend && spec.legend.items.length > 0) {
    const legend = measureLegend(spec.legend, Math.max(200, contentWidth - plotLeft));
    legendSvg = legend.draw(PADDING + plotLeft, PADDING + titleHeight + contentHeight + 12);
    contentWidth = Math.max(contentWidth, plotLeft + legend.width);
    contentHeight += 12 + legend.height;
  }
  const titleWidth = Math.max(
    textWidth(spec.title, 16, true),
    spec.subtitle ? textWidth(spec.subtitle, LABEL) : 0,
  );
  const width = Math.ceil(PADDING * 2 + Math.max(contentWidth, titleWidth));
  const height = Math.ceil(PADDING * 2 + titleHeight + contentHeight);
  const head = [
    text(PADDING, PADDING + 15, spec.title, { size: 16, bold: true }),
    spec.subtitle ? text(PADDING, PADDING + 34, spec.subtitle, { color: spec.subtitleColor ?? MUTED }) : '',
  ].join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_STACK}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    head,
    `<g transform="translate(${PADDING} ${PADDING + titleHeight})">${body.join('')}</g>`,
    legendSvg,
    '</svg>',
  ].join('');
}
