import { ReembedError } from '../core/errors.js';

/**
 * A small, dependency-free metrics registry with Prometheus text exposition (format 0.0.4). The query
 * path feeds counters and histograms as traffic flows; the monitor sets gauges after each run; the
 * server's `/metrics` endpoint prints `registry.expose()`.
 *
 * @example
 * const registry = new MetricsRegistry();
 * const queries = registry.counter('reembed_queries_total', 'Queries served.', ['alias']);
 * queries.inc({ alias: 'docs' });
 * registry.expose(); // "# HELP reembed_queries_total Queries served.\n# TYPE ..."
 */
export type Labels = Readonly<Record<string, string>>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Latency buckets in seconds: 0.5 ms to 10 s, roughly doubling. */
export const DEFAULT_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

abstract class Family<V> {
  readonly series = new Map<string, { labels: Labels; value: V }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
  ) {}

  protected entry(labels: Labels, init: () => V): { labels: Labels; value: V } {
    const keys = Object.keys(labels);
    if (keys.length !== this.labelNames.length || !this.labelNames.every((l) => Object.hasOwn(labels, l))) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Metric ${this.name} takes labels [${this.labelNames.join(', ')}], got [${keys.join(', ')}].`,
        { details: { metric: this.name } },
      );
    }
    const key = this.labelNames.map((l) => labels[l]).join('\u0000');
    let e = this.series.get(key);
    if (!e) {
      e = { labels: Object.freeze({ ...labels }), value: init() };
      this.series.set(key, e);
    }
    return e;
  }

  /** Drops every series (e.g. before the monitor republishes gauges of namespaces that may be gone). */
  reset(): void {
    this.series.clear();
  }

  abstract lines(): string[];
}

export class Counter extends Family<{ n: number }> {
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0))
      throw new ReembedError('INVALID_INPUT', `Counter ${this.name} cannot go down (inc by ${by}).`);
    this.entry(labels, () => ({ n: 0 })).value.n += by;
  }
  get(labels: Labels = {}): number {
    return this.entry(labels, () => ({ n: 0 })).value.n;
  }
  lines(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${num(s.value.n)}`);
  }
}

export class Gauge extends Family<{ n: number }> {
  set(labels: Labels, value: number): void {
    this.entry(labels, () => ({ n: 0 })).value.n = value;
  }
  get(labels: Labels = {}): number {
    return this.entry(labels, () => ({ n: 0 })).value.n;
  }
  lines(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${num(s.value.n)}`);
  }
}

interface HistogramValue {
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Family<HistogramValue> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram', labelNames);
  }
  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return;
    const v = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).value;
    for (let i = 0; i < this.buckets.length; i++)
      if (value <= (this.buckets[i] as number)) v.counts[i] = (v.counts[i] ?? 0) + 1;
    v.sum += value;
    v.count++;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => {
        out.push(`${this.name}_bucket${labelText({ ...s.labels, le: num(le) })} ${s.value.counts[i]}`);
      });
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.value.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.value.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.value.count}`);
    }
    return out;
  }
}

/** Holds metric families by name; asking twice for one name returns the same family (same type required). */
export class MetricsRegistry {
  readonly #families = new Map<string, Family<unknown>>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#family(name, 'counter', labelNames, () => new Counter(name, help, 'counter', labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#family(name, 'gauge', labelNames, () => new Gauge(name, help, 'gauge', labelNames));
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = DEFAULT_SECONDS_BUCKETS,
  ): Histogram {
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || !sorted.every(Number.isFinite)) {
      throw new ReembedError('INVALID_INPUT', `Histogram ${name} needs finite bucket bounds.`);
    }
    return this.#family(name, 'histogram', labelNames, () => new Histogram(name, help, labelNames, sorted));
  }

  /** The Prometheus text exposition of every family, families in registration order. */
  expose(): string {
    const out: string[] = [];
    for (const f of this.#families.values()) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      out.push(...f.lines());
    }
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }

  #family<F extends Family<unknown>>(
    name: string,
    type: MetricType,
    labelNames: readonly string[],
    create: () => F,
  ): F {
    const existing = this.#families.get(name);
    if (existing) {
      if (existing.type !== type || existing.labelNames.join(',') !== labelNames.join(',')) {
        throw new ReembedError(
          'INVALID_INPUT',
          `Metric ${name} is already registered as a ${existing.type} with labels [${existing.labelNames.join(', ')}].`,
          { details: { metric: name } },
        );
      }
      return existing as F;
    }
    if (!NAME_RE.test(name)) throw new ReembedError('INVALID_INPUT', `"${name}" is not a valid metric name.`);
    for (const l of labelNames) {
      if (!LABEL_RE.test(l) || l === 'le' || l.startsWith('__')) {
        throw new ReembedError('INVALID_INPUT', `"${l}" is not a valid label name for metric ${name}.`);
      }
    }
    const family = create();
    this.#families.set(name, family as Family<unknown>);
    return family;
  }
}

/** Label values escaped as the exposition format requires: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}
