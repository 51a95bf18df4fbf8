/**
 * Coverage history: the coverage of a namespace is measured against the source at one instant and never
 * stored by the migration engine, so a chart of coverage over time needs samples. Backends only store and
 * return rows (SQLite and PostgreSQL implement it, run through `testCoverageSampleRepository`);
 * `sampleCoverage` (report/coverage.ts) measures and records them, and the monitor, a backfill or the CLI
 * may call it as often as they like.
 */
export interface CoverageSample {
  readonly namespace: string;
  readonly collection: string;
  /** ISO-8601 UTC time of the measurement. */
  readonly at: string;
  /** Live source documents of the collection. */
  readonly live: number;
  /** Live documents the namespace held at their newest version. */
  readonly current: number;
  /** Live documents the namespace held at an older version. */
  readonly stale: number;
}

export interface CoverageSampleFilter {
  readonly collection?: string;
  readonly namespace?: string;
  /** Samples at or after this time (default: everything retained). */
  readonly since?: Date;
}

export interface CoverageSampleRepository {
  /** Stores samples; a sample of the same namespace and time replaces the held one. */
  record(samples: readonly CoverageSample[]): Promise<void>;
  /** Oldest first. */
  read(filter?: CoverageSampleFilter): Promise<CoverageSample[]>;
  /** The newest sample of each namespace (of one collection, or all). */
  latest(collection?: string): Promise<Map<string, CoverageSample>>;
  /** Deletes samples taken before `before`; returns how many. */
  prune(before: Date): Promise<number>;
}
