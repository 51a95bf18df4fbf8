import type { MigrationService } from '../../app/migrate.js';
import type { MigrationState, MigrationStrategy } from '../../core/migration.js';
import type { DemoClock } from './clock.js';
import type { TrafficRecorder, TrafficWindow } from './traffic.js';

/** Retrieval quality at one moment: nDCG@10 and recall@10 on the golden set. */
export interface Quality {
  readonly 'ndcg@10': number;
  readonly 'recall@10': number;
}

/**
 * One measured stage of the migration: how far the new namespace is, what applications were served
 * (the alias, evaluated without side effects), what the new namespace alone would give, and what the
 * live traffic of the stage saw.
 */
export interface CoveragePoint {
  /** `0%`, `30%` … during the backfill, then `shadowing`, `rollout 50%`, `after cutover`. */
  readonly label: string;
  /** Wall-clock seconds since the demo started. */
  readonly at: number;
  readonly state: MigrationState;
  /** The alias routing while the stage's queries ran (`single`, `shadow`, `split`, `fused`). */
  readonly routing: string;
  /** Share of live documents the new namespace holds at their newest version (0..1). */
  readonly coverage: number;
  /** Documents written by the backfill during the stage. */
  readonly backfilled: number;
  /** Documents that became current during the stage for another reason (lazy: re-embedded on read). */
  readonly fromReads: number;
  /** Quality of what the alias serves (the strategy's routing). */
  readonly served: Quality;
  /** Quality of the new namespace queried alone (null once retired). */
  readonly newAlone: Quality | null;
  readonly traffic: TrafficWindow;
  /** Progressive: share of traffic routed to the new namespace and tenants moved. */
  readonly rollout: { readonly percent: number; readonly tenants: number } | null;
}

/** Part 2's state: the service and its clock, the measured stages, and the outcomes of each phase. */
export interface DemoMigration {
  readonly service: MigrationService;
  readonly clock: DemoClock;
  readonly recorder: TrafficRecorder;
  readonly strategy: MigrationStrategy;
  readonly from: string;
  readonly to: string;
  /** The golden set written as JSONL: the migration's own quality gate reads it. */
  readonly goldenPath: string;
  readonly rollbackWindow: string;
  readonly batchSize: number;
  /** Detaches the recorder from the query path. */
  readonly detach: () => void;
  id: string | null;
  state: MigrationState | null;
  /** Lazy: the fusion method of the alias's fused routing (from the stored migration options). */
  fusion: string | null;
  /** Next golden query the traffic stream sends. */
  cursor: number;
  plan: Readonly<Record<string, unknown>> | null;
  points: CoveragePoint[];
  gates: readonly { readonly rule: string; readonly passed: boolean; readonly detail: string }[];
  cutover: Readonly<Record<string, unknown>> | null;
  retirement: Readonly<Record<string, unknown>> | null;
}
