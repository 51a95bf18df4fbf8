import { LatencySketch } from '../core/latency-sketch.js';
import type { TrafficBucket } from '../core/traffic.js';

/**
 * Turns stored traffic rows into the numbers the monitor checks: per namespace query count, last query,
 * latency p50/p99, mixed-version rate and traffic share; per alias responses and which namespaces served
 * them. Pure, so every backend's rows summarise the same way.
 */
export interface LatencyStats {
  readonly samples: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly mean: number | null;
  readonly max: number | null;
}

export interface NamespaceTrafficStats {
  readonly namespace: string;
  readonly collection: string;
  /** Served or fused reads: queries this namespace answered. */
  readonly queries: number;
  /** Shadow reads (compared, never served). */
  readonly shadowReads: number;
  /** Served reads that were part of a mixed-version response. */
  readonly mixed: number;
  /** `mixed / queries`, or null without queries. */
  readonly mixedRate: number | null;
  /** Share of the collection's responses this namespace took part in (null when the collection had none). */
  readonly share: number | null;
  readonly lastQueryAt: string | null;
  /** Latency of served and fused reads (ms). */
  readonly latency: LatencyStats;
}

export interface AliasTrafficStats {
  readonly alias: string;
  readonly collection: string;
  readonly queries: number;
  readonly mixed: number;
  readonly mixedRate: number | null;
  /** Served or fused reads per namespace: the traffic split of the alias. */
  readonly byNamespace: Readonly<Record<string, number>>;
  readonly lastQueryAt: string | null;
  /** End-to-end response latency (ms). */
  readonly latency: LatencyStats;
}

export interface TrafficSummary {
  readonly kind: 'traffic-summary';
  readonly namespaces: Readonly<Record<string, NamespaceTrafficStats>>;
  readonly aliases: Readonly<Record<string, AliasTrafficStats>>;
  /** Responses per collection (denominator of namespace shares). */
  readonly collections: Readonly<Record<string, number>>;
}

interface Acc {
  collection: string;
  queries: number;
  shadow: number;
  mixed: number;
  sum: number;
  max: number;
  last: string | null;
  sketch: LatencySketch;
  byNamespace: Record<string, number>;
}

const acc = (collection: string): Acc => ({
  collection,
  queries: 0,
  shadow: 0,
  mixed: 0,
  sum: 0,
  max: 0,
  last: null,
  sketch: new LatencySketch(),
  byNamespace: {},
});

function addLatency(a: Acc, b: TrafficBucket): void {
  a.sum += b.latencySumMs;
  a.max = Math.max(a.max, b.latencyMaxMs);
  a.sketch.merge(b.latency);
  if (a.last === null || b.lastAt > a.last) a.last = b.lastAt;
}

function latencyOf(a: Acc, samples: number): LatencyStats {
  return Object.freeze({
    samples,
    p50: a.sketch.quantile(0.5),
    p99: a.sketch.quantile(0.99),
    mean: samples === 0 ? null : a.sum / samples,
    max: samples === 0 ? null : a.max,
  });
}

/**
 * @example
 * const summary = summarizeTraffic(await traffic.read({ since: dayAgo }));
 * summary.namespaces['docs@v2']?.latency.p99;
 */
export function summarizeTraffic(buckets: readonly TrafficBucket[]): TrafficSummary {
  const namespaces = new Map<string, Acc>();
  const aliases = new Map<string, Acc>();
  const collections: Record<string, number> = {};
  for (const b of buckets) {
    if (b.role === 'response') {
      const a = aliases.get(b.alias) ?? acc(b.collection);
      aliases.set(b.alias, a);
      a.queries += b.queries;
      a.mixed += b.mixed;
      addLatency(a, b);
      collections[b.collection] = (collections[b.collection] ?? 0) + b.queries;
      continue;
    }
    const n = namespaces.get(b.namespace) ?? acc(b.collection);
    namespaces.set(b.namespace, n);
    if (b.role === 'shadow') {
      n.shadow += b.queries;
      continue;
    }
    n.queries += b.queries;
    n.mixed += b.mixed;
    addLatency(n, b);
    const a = aliases.get(b.alias) ?? acc(b.collection);
    aliases.set(b.alias, a);
    a.byNamespace[b.namespace] = (a.byNamespace[b.namespace] ?? 0) + b.queries;
  }
  const rate = (x: number, n: number): number | null => (n === 0 ? null : x / n);
  const nsOut: Record<string, NamespaceTrafficStats> = {};
  for (const [name, n] of namespaces) {
    const total = collections[n.collection] ?? 0;
    nsOut[name] = Object.freeze({
      namespace: name,
      collection: n.collection,
      queries: n.queries,
      shadowReads: n.shadow,
      mixed: n.mixed,
      mixedRate: rate(n.mixed, n.queries),
      share: total === 0 ? null : Math.min(1, n.queries / total),
      lastQueryAt: n.last,
      latency: latencyOf(n, n.queries),
    });
  }
  const aliasOut: Record<string, AliasTrafficStats> = {};
  for (const [name, a] of aliases) {
    aliasOut[name] = Object.freeze({
      alias: name,
      collection: a.collection,
      queries: a.queries,
      mixed: a.mixed,
      mixedRate: rate(a.mixed, a.queries),
      byNamespace: Object.freeze({ ...a.byNamespace }),
      lastQueryAt: a.last,
      latency: latencyOf(a, a.queries),
    });
  }
  return Object.freeze({
    kind: 'traffic-summary' as const,
    namespaces: Object.freeze(nsOut),
    aliases: Object.freeze(aliasOut),
    collections: Object.freeze(collections),
  });
}
