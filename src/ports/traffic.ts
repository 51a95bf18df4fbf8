import type { TrafficBucket } from '../core/traffic.js';

/**
 * The traffic statistics port: per-minute aggregates of the query path, so the monitor can report query
 * counts, traffic share, latency p50/p99 and the mixed-version rate per namespace. Backends only store and
 * return rows; merging (`mergeTrafficBuckets`) and summarising (`summarizeTraffic`) are shared code, so a
 * backend implements three small methods. SQLite and PostgreSQL implement it, run through
 * `testTrafficRepository` (src/testing).
 */
export interface TrafficFilter {
  /** Rows of minutes at or after this time (default: everything retained). */
  readonly since?: Date;
  readonly collection?: string;
}

export interface TrafficRepository {
  /** Adds buckets, merging (summing counts and sketches, max of maxima and times) with rows of the same key. */
  record(buckets: readonly TrafficBucket[]): Promise<void>;
  read(filter?: TrafficFilter): Promise<TrafficBucket[]>;
  /** Deletes rows of minutes before `before`; returns how many. */
  prune(before: Date): Promise<number>;
}
