import { LatencySketch, type SketchCounts } from './latency-sketch.js';

/**
 * Traffic statistics as values: per-minute aggregates of the query path (per namespace counts, latency
 * sketches, mixed-version responses). Merging rows is pure and shared by every backend's
 * `TrafficRepository` (`ports/traffic.ts`); summarising is `monitor/traffic-summary.ts`.
 */

/** What a row describes: one namespace read of a role, or (`response`, namespace `''`) whole responses of an alias. */
export const TRAFFIC_ROLES = ['served', 'fused', 'shadow', 'response'] as const;
export type TrafficRole = (typeof TRAFFIC_ROLES)[number];

/** One aggregate row: everything one alias did to one namespace in one role during one minute. */
export interface TrafficBucket {
  /** Unix time in whole minutes (`Math.floor(ms / 60_000)`). */
  readonly minute: number;
  readonly alias: string;
  readonly collection: string;
  /** `''` for `response` rows. */
  readonly namespace: string;
  readonly role: TrafficRole;
  /** Reads (or responses for `response` rows). */
  readonly queries: number;
  /** Of those, how many were part of a mixed-version response (several fingerprints, no fusion). */
  readonly mixed: number;
  readonly latencySumMs: number;
  readonly latencyMaxMs: number;
  /** Latency distribution of the reads (see `LatencySketch`). */
  readonly latency: SketchCounts;
  /** ISO time of the last query in the row. */
  readonly lastAt: string;
}

/** The key that identifies a row; buckets with equal keys merge. */
export function trafficKey(b: Pick<TrafficBucket, 'minute' | 'alias' | 'namespace' | 'role'>): string {
  return `${b.minute}\u0000${b.alias}\u0000${b.namespace}\u0000${b.role}`;
}

/** Merges two rows of the same key (counts and sketches add, maxima and last times take the larger). */
export function mergeTrafficBuckets(a: TrafficBucket, b: TrafficBucket): TrafficBucket {
  const sketch = LatencySketch.from(a.latency);
  sketch.merge(b.latency);
  return Object.freeze({
    ...a,
    queries: a.queries + b.queries,
    mixed: a.mixed + b.mixed,
    latencySumMs: a.latencySumMs + b.latencySumMs,
    latencyMaxMs: Math.max(a.latencyMaxMs, b.latencyMaxMs),
    latency: sketch.toJSON(),
    lastAt: laterIso(a.lastAt, b.lastAt),
  });
}

/** The later of two ISO-8601 UTC timestamps (they order as strings). */
export function laterIso(a: string, b: string): string {
  return a >= b ? a : b;
}
