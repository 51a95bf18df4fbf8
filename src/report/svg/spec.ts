/**
 * What a report chart draws, as plain data: one or more panels (horizontal bars, lines over a numeric or
 * time axis, or normalised stacked areas), a title, and a legend. `renderChartSvg` (render.ts) turns it
 * into a standalone SVG string with no dependency; the report's charts (../charts/) build these specs.
 */

/**
 * How axis and value numbers are written: `percent` (0.25 → `25%`) or `fixed` (0.25 → `0.25`); on an
 * axis, `fixed` with `digits: -1` writes as many digits as the tick step needs.
 */
export interface NumberFormat {
  readonly style: 'percent' | 'fixed';
  readonly digits: number;
}

export interface ValueAxis {
  /** Axis title under (x) or beside (y) the axis; null for none. */
  readonly title: string | null;
  /** Fixed domain; without it, `[0, nice(max)]`. */
  readonly domain?: readonly [number, number];
  readonly format: NumberFormat;
  /** About how many ticks (default 5). */
  readonly ticks?: number;
}

export interface TimeAxis {
  readonly title: string | null;
  readonly time: true;
  /** Ticks on whole minutes only (per-minute data). */
  readonly wholeMinutes?: boolean;
}

/** A piece of a horizontal bar; pieces of one bar are stacked left to right. */
export interface BarSegment {
  readonly value: number;
  readonly color: string;
}

export interface Bar {
  readonly segments: readonly BarSegment[];
  /** Text just right of the bar's end (its value). */
  readonly text?: string;
}

export interface Note {
  readonly text: string;
  readonly color?: string;
  readonly bold?: boolean;
}

/** One category of a bar panel: one bar, or several (grouped, e.g. p50 and p99) one under the other. */
export interface BarRow {
  readonly label: string;
  readonly bars: readonly Bar[];
  /** Outline colour around the row's bars (an alert). */
  readonly outline?: string;
  /** Text right of the axis end, in the row (a call-out that a thin slice would hide). */
  readonly note?: Note;
}

export interface BarPanel {
  readonly kind: 'bar';
  /** Header above the panel (facets). */
  readonly title?: string;
  /** Plot width in px. */
  readonly width: number;
  /** Height of one bar's band in px. */
  readonly step: number;
  /** Share of the band the bar fills (0..1). */
  readonly band: number;
  readonly rows: readonly BarRow[];
  readonly x: ValueAxis;
  /** Category labels left of the plot (default true; facets after the first hide them). */
  readonly labels?: boolean;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly Point[];
  readonly dashed?: boolean;
  /** Dots on the points (default true). */
  readonly markers?: boolean;
}

/** A dashed vertical line at `x` with a label written upwards along it (none when empty). */
export interface Rule {
  readonly x: number;
  readonly label: string;
}

/** What a panel over an x axis (lines, stacked areas) states. */
export interface XYPanel {
  readonly title?: string;
  readonly width: number;
  readonly height: number;
  readonly x: ValueAxis | TimeAxis;
  readonly y: ValueAxis;
  readonly series: readonly Series[];
}

export interface LinePanel extends XYPanel {
  readonly kind: 'line';
  readonly rules?: readonly Rule[];
  readonly strokeWidth?: number;
}

/** Series stacked and normalised to 100% at each x (shares over time); y is a percent axis. */
export interface AreaPanel extends XYPanel {
  readonly kind: 'area';
  /** Bottom first. Points of each series share the same x values (missing ones count 0). */
  readonly series: readonly Series[];
}

export type Panel = BarPanel | LinePanel | AreaPanel;

export interface LegendItem {
  readonly label: string;
  readonly color: string;
  /** A filled square (bars, areas) or a line (line series). */
  readonly symbol: 'square' | 'line';
  readonly dashed?: boolean;
}

export interface Legend {
  readonly title?: string;
  readonly items: readonly LegendItem[];
  /** Items in this many columns; without it, one row that wraps. */
  readonly columns?: number;
}

export interface ChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly subtitleColor?: string;
  readonly panels: readonly Panel[];
  /** Panels side by side (`row`, facets) or one under the other (`column`). */
  readonly layout?: 'row' | 'column';
  /** Gap between panels in px. */
  readonly spacing?: number;
  readonly legend?: Legend;
}
