import type { NamespaceState } from '../core/namespace.js';
import type { CoverageSample } from '../ports/coverage-samples.js';

/**
 * Everything a report shows, as plain JSON: `collectReport` gathers it from a running deployment,
 * `renderReport` turns it into charts, tables and an HTML page, and `reembed report --json` prints it.
 * Keeping the data separate from the rendering lets tests check numbers and pictures independently.
 */
export interface ReportData {
  readonly kind: 'report-data';
  readonly generatedAt: string;
  /** The collection reported on, or null for every collection. */
  readonly collection: string | null;
  /** Start of the traffic window. */
  readonly since: string;
  readonly namespaces: readonly ReportNamespace[];
  readonly migrations: readonly ReportMigration[];
  readonly quality: ReportQuality;
  /** Oldest first, the report-time sample of each namespace last. */
  readonly coverage: readonly CoverageSample[];
  /** False when the backend keeps no coverage history (only the report-time sample is shown). */
  readonly coverageHistory: boolean;
  readonly versions: readonly VersionShare[];
  readonly latency: readonly LatencyRow[];
  readonly traffic: readonly TrafficRow[];
  /** Served and fused reads per minute and namespace, oldest first. */
  readonly trafficByMinute: readonly TrafficMinute[];
}

export interface ReportNamespace {
  readonly name: string;
  readonly collection: string;
  readonly state: NamespaceState;
  readonly space: string;
  readonly fingerprint: string;
  readonly dimension: number;
  readonly records: number;
  readonly live: number;
  readonly current: number;
  readonly stale: number;
  readonly coverage: number;
  /** `old` / `new` in the collection's current (or last) migration, else null. */
  readonly role: 'old' | 'new' | null;
}

export interface ReportMigration {
  readonly id: string;
  readonly collection: string;
  readonly alias: string;
  readonly from: string;
  readonly to: string;
  readonly strategy: string;
  readonly state: string;
  readonly createdAt: string;
  readonly completedAt: string | null;
  /** State changes in time order, from the audit log (`planned` at creation first). */
  readonly timeline: readonly { readonly at: string; readonly state: string }[];
  /** Progressive: traffic share of the new namespace (percent). */
  readonly rolloutPercent: number | null;
  /** Shadow: agreement of served and shadow reads. */
  readonly agreement: {
    readonly samples: number;
    readonly rbo: number | null;
    readonly overlap: Readonly<Record<string, number>>;
  } | null;
}

/** One evaluated target: a namespace, or an alias that serves a mix during a migration. */
export interface QualityRow {
  readonly target: string;
  readonly kind: 'namespace' | 'alias';
  readonly collection: string;
  /** `old`, `new`, `during migration`, or the namespace state. */
  readonly role: string;
  /** How the alias routes, for `during migration` rows (`split 40%`, `fused rrf`). */
  readonly routing: string | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly latency: { readonly p50: number; readonly p99: number };
  /** Coverage of the namespace (of the new namespace, for an alias) when it was evaluated. */
  readonly coverage: number | null;
  readonly at: string;
  readonly golden: { readonly name: string; readonly digest: string; readonly queries: number };
  readonly errors: number;
  /** `evaluation` when this report ran it, `stored` when read from the namespace manifest. */
  readonly source: 'evaluation' | 'stored';
}

/** A point of a quality-during-migration curve (from a benchmark's JSON, see `readQualityCurves`). */
export interface QualityCurvePoint {
  readonly method: string;
  /** Share of documents in the new space, 0..1. */
  readonly coverage: number;
  readonly metric: string;
  readonly value: number;
}

export interface ReportQuality {
  readonly rows: readonly QualityRow[];
  readonly curves: readonly QualityCurvePoint[];
  /** Where the curves came from (a file path), or null. */
  readonly curvesSource: string | null;
  /** Dataset named by the curves file, if any. */
  readonly curvesDataset: string | null;
  /** Collections a golden set given for every collection was not evaluated on, and why. */
  readonly skipped: readonly QualitySkip[];
}

/** A golden set not applied to a collection: it judges documents the collection does not hold. */
export interface QualitySkip {
  readonly collection: string;
  readonly golden: string;
  readonly reason: string;
}

export interface VersionShare {
  readonly namespace: string;
  readonly fingerprint: string;
  /** Name of the space the fingerprint belongs to, when the catalog knows it. */
  readonly space: string | null;
  readonly records: number;
  readonly share: number;
  /** True when the fingerprint is not the namespace's own: corruption, drawn in red. */
  readonly foreign: boolean;
}

export interface LatencyRow {
  readonly namespace: string;
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
  /** `traffic` (recorded query path, the window) or `evaluation` (golden-set queries of this report). */
  readonly source: 'traffic' | 'evaluation';
}

export interface TrafficRow {
  readonly namespace: string;
  readonly collection: string;
  readonly queries: number;
  readonly shadowReads: number;
  /** Share of the collection's responses, 0..1. */
  readonly share: number | null;
}

export interface TrafficMinute {
  /** ISO time of the minute's start. */
  readonly minute: string;
  readonly namespace: string;
  readonly queries: number;
}

/** Coverage ratio of a sample (1 for an empty collection, as `measureCoverage` reports it). */
export function sampleRatio(sample: Pick<CoverageSample, 'live' | 'current'>): number {
  return sample.live === 0 ? 1 : sample.current / sample.live;
}
