import type { Reembed } from '../../app/reembed.js';
import { ReembedError } from '../../core/errors.js';
import type { GoldenSet } from '../../core/golden.js';
import type { MigrationStrategy } from '../../core/migration.js';
import type { Space } from '../../core/space.js';
import type { CliContext } from '../context.js';
import type { DemoDataset } from './dataset.js';
import type { DemoMigration } from './migration-state.js';
import type { TimelineEvent } from './timeline.js';

/**
 * The demo is a list of steps over one shared, typed state. Each step reads what earlier steps left in
 * the state, adds its own results, and returns a one-line summary for humans plus details for `--json`.
 * To extend the demo (e.g. a full migration with `--strategy`), write a step and add it to the list in
 * `run.ts`; the runner times, prints and reports it like the others.
 */
export interface DemoOptions {
  /** BEIR directory, or undefined for the synthetic corpus. */
  readonly dataset?: string;
  readonly seed: number;
  readonly dimension: number;
  /** Synthetic corpus size (ignored with a dataset). */
  readonly docs: number;
  readonly queries: number;
  /** Share of documents re-embedded to v2 in the naive mixed index (0..1). */
  readonly migratedShare: number;
  readonly batchSize: number;
  /** Part 2: migrate the alias from v1 to v2 with this strategy (null: stop after the comparison). */
  readonly strategy: MigrationStrategy | null;
  /** Live queries answered through the alias at each stage of the migration. */
  readonly traffic: number;
  /** `upgrade` (default): mixed index, then a migration; `deprecation`: the old model is retired, a bridge serves. */
  readonly scenario?: 'upgrade' | 'deprecation';
}

/** One row of the comparison table. */
export interface DemoEvaluation {
  readonly row: 'clean-v1' | 'clean-v2' | 'mixed';
  readonly label: string;
  /** Where the vectors live: a namespace of the store, or `memory` for the naive mixed index. */
  readonly index: string;
  readonly queryWith: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly queries: number;
  readonly seconds: number;
}

export interface DemoState {
  readonly ctx: CliContext;
  readonly app: Reembed;
  readonly options: DemoOptions;
  readonly dataset: DemoDataset;
  readonly collection: string;
  readonly alias: string;
  /** Directory for model files (next to the database). */
  readonly dataDir: string;
  /**
   * Record model files by absolute path: the app resolves relative ones against the database's directory
   * (SQLite) or the working directory (Postgres), and on Postgres `dataDir` is a temporary directory.
   */
  readonly absoluteModelPaths: boolean;
  /** `performance.now()` when the demo started: timeline times are relative to it. */
  readonly started: number;
  /** What happened when, for the TIMELINE (part 1 serving facts, then every migration event). */
  readonly timeline: TimelineEvent[];
  v1?: Space;
  v2?: Space;
  v1Namespace?: string;
  v2Namespace?: string;
  golden?: GoldenSet;
  /** Ids ingested, to check the judgments against. */
  ingestedIds?: Set<string>;
  documents?: number;
  evaluations: DemoEvaluation[];
  /** The error the guard raised when asked to mix spaces. */
  guard?: { readonly code: string; readonly message: string };
  /** Part 2, once the migration service exists. */
  migration?: DemoMigration;
}

export interface StepOutcome {
  /** One line for humans. */
  readonly summary: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface DemoStep {
  readonly name: string;
  run(state: DemoState): Promise<StepOutcome>;
}

export interface StepReport {
  readonly name: string;
  readonly status: 'done' | 'failed' | 'skipped';
  readonly seconds: number;
  readonly summary: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export const METRIC_KEYS = ['recall@10', 'ndcg@10'] as const;

/** What an earlier step put in the state; `INVALID_STATE` when a step runs before it (a wiring bug of the demo). */
export function need<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null)
    throw new ReembedError('INVALID_STATE', `Demo step order: ${what} is not ready yet.`);
  return value;
}
