import type { NumberFormat, TimeAxis, ValueAxis } from './spec.js';

/** Scales, ticks and number/time formats of the report's SVG charts (pure functions). */

export type Scale = (value: number) => number;

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** A round step near `span / count`: 1, 2 or 5 times a power of ten. */
export function niceStep(span: number, count: number): number {
  const raw = Math.abs(span) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const error = raw / magnitude;
  const factor = error >= 7.07 ? 10 : error >= 3.16 ? 5 : error >= 1.41 ? 2 : 1;
  return factor * magnitude;
}

/** The domain of a value axis: its fixed domain, or 0 to the next round number above the largest value. */
export function valueDomain(axis: ValueAxis, values: readonly number[]): [number, number] {
  if (axis.domain) return [axis.domain[0], axis.domain[1]];
  const finite = values.filter((v) => Number.isFinite(v));
  const max = finite.length ? Math.max(0, ...finite) : 0;
  if (max === 0) return [0, 1];
  const step = niceStep(max, axis.ticks ?? 5);
  return [0, Math.ceil(max / step - 1e-9) * step];
}

/** Round tick values inside the domain. */
export function linearTicks(domain: readonly [number, number], count = 5): number[] {
  const [d0, d1] = domain;
  const step = niceStep(d1 - d0, count);
  const ticks: number[] = [];
  for (let i = Math.ceil(d0 / step - 1e-9); i * step <= d1 + step * 1e-9; i++) ticks.push(round(i * step));
  return ticks;
}

const round = (v: number): number => Number(v.toPrecision(12));

/** Digits that tell ticks `step` apart (0.2 → 1, 5 → 0, 0.05 → 2). */
export function digitsFor(step: number): number {
  return Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
}

export function formatNumber(value: number, format: NumberFormat): string {
  if (!Number.isFinite(value)) return '–';
  return format.style === 'percent'
    ? `${(value * 100).toFixed(format.digits)}%`
    : value.toFixed(format.digits);
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  91 * DAY,
  365 * DAY,
];

/** The data extent of a time axis (a single instant is widened by a minute each side). */
export function timeDomain(values: readonly number[]): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [0, MINUTE];
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return min === max ? [min - MINUTE, max + MINUTE] : [min, max];
}

/**
 * Ticks of a UTC time axis on round instants (about `count` of them) and their labels, whose format fits
 * the span shown: `14:05:30` within ten minutes, `14:05` within a day, `Nov 21 14:05` within a month,
 * dates beyond. With `wholeMinutes`, ticks fall on whole minutes only.
 */
export function timeTicks(
  domain: readonly [number, number],
  axis: Pick<TimeAxis, 'wholeMinutes'>,
  count = 6,
): { values: number[]; label: (t: number) => string } {
  const [from, to] = domain;
  const span = to - from;
  const steps = axis.wholeMinutes ? TIME_STEPS.filter((s) => s >= MINUTE) : TIME_STEPS;
  const step = steps.find((s) => span / s <= count) ?? (steps[steps.length - 1] as number);
  const values: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) values.push(t);
  const seconds = span <= 10 * MINUTE && !axis.wholeMinutes && step < MINUTE;
  const label = (t: number): string => {
    const iso = new Date(t).toISOString();
    if (span <= DAY) return seconds ? iso.slice(11, 19) : iso.slice(11, 16);
    if (span <= 31 * DAY)
      return `${MONTHS[new Date(t).getUTCMonth()]} ${iso.slice(8, 10)} ${iso.slice(11, 16)}`;
    return iso.slice(0, 10);
  };
  return { values, label };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export const isTimeAxis = (axis: ValueAxis | TimeAxis): axis is TimeAxis => 'time' in axis && axis.time;
