import type { Migration, MigrationReport } from '../core/migration.js';
import type { Alias } from '../core/routing.js';
import type { BackfillRunner } from '../jobs/backfill.js';
import { type RetirementReport, runRetirement } from '../jobs/retire.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { type Checkpoint, checkpointKey, type Job } from '../ports/jobs.js';
import type { AgreementSummary } from '../ports/migrations.js';
import { type BackfillTarget, createBackfillRunner } from './migrate-backfill.js';
import { type MigrationContext, observedMigrations, requireRepositories } from './migrate-context.js';
import { type CutoverOptions, cutoverMigration, rollbackMigration } from './migrate-cutover.js';
import { gatePlanOf } from './migrate-gates.js';
import { MigrationObserver } from './migrate-observer.js';
import type { GatePlanEntry, MigrationInput } from './migrate-options.js';
import { type MigrationPlan, type PlanOptions, planMigration } from './migrate-plan.js';
import { type ReplayOptions, type ReplayReport, replayMigration } from './migrate-replay.js';
import { startMigration } from './migrate-start.js';
import { type StepOptions, stepMigration } from './migrate-step.js';
import type { Reembed } from './reembed.js';
import { type Coverage, measureCoverage } from './status.js';

export interface MigrationServiceOptions {
  /** Defaults to the backend's clock when it has one, else the system clock. */
  readonly clock?: Clock;
  /** How often query traffic and hit counts are written (default 5 s). */
  readonly flushMs?: number;
  /** Background write failures of the query observer (default: ignored after counting). */
  readonly onObserverError?: (error: unknown) => void;
}

export interface MigrationStatus {
  readonly kind: 'migration-status';
  readonly migration: Migration;
  readonly alias: Alias;
  readonly coverage: Coverage;
  readonly deadLetters: number;
  readonly queued: number;
  readonly job: Job | null;
  readonly checkpoint: Checkpoint | null;
  readonly agreement: AgreementSummary | null;
  /** The rules a cutover must pass and why each applies. */
  readonly gates: readonly GatePlanEntry[];
  /** The latest gate evaluation (by `step`, `cutover` or a rollout), if any. */
  readonly lastGates: Readonly<Record<string, unknown>> | null;
}

/**
 * Migrations of a `Reembed` app: plan, start, step, status, cutover, rollback and retirement, for the
 * four strategies. The app itself records what migrations need on every query (shadow agreement, lazy
 * re-embedding queue, hit counts, namespace traffic: `app.observer`); the service applies its clock and
 * flush interval to that observer.
 *
 * @example
 * const migrations = new MigrationService(app);
 * const { migration } = await migrations.start({ alias: 'docs', to: 'hashing-v2', strategy: 'shadow' });
 * await migrations.step(migration.id);        // backfill → validating
 * await migrations.step(migration.id);        // → shadowing (agreement recorded on live queries)
 * await migrations.cutover(migration.id);     // gates, then one alias write
 */
export class MigrationService {
  readonly observer: MigrationObserver;
  readonly #ctx: MigrationContext;
  readonly #detach: () => void;
  readonly #ownsObserver: boolean;

  constructor(app: Reembed, options: MigrationServiceOptions = {}) {
    const { migrations, jobs } = requireRepositories(app.backend);
    const clock = options.clock ?? (app.backend as { clock?: Clock }).clock ?? systemClock;
    const settings = {
      clock,
      ...(options.flushMs !== undefined ? { flushMs: options.flushMs } : {}),
      ...(options.onObserverError ? { onError: options.onObserverError } : {}),
    };
    // The app already records what migrations need on every query; the service tunes that observer
    // rather than adding a second one (which would record every shadow sample twice).
    const shared = app.observer;
    if (shared) shared.configure(settings);
    this.observer = shared ?? new MigrationObserver(app.backend, migrations, settings);
    this.#ownsObserver = shared === null;
    this.#ctx = {
      app,
      backend: app.backend,
      migrations: observedMigrations(migrations, (alias) => this.observer.invalidate(alias)),
      jobs,
      queries: app.queries,
      embedders: app.embedders,
      observer: this.observer,
      clock,
      actor: app.actor,
    };
    this.#detach = this.#ownsObserver ? app.queries.observe(this.observer) : () => undefined;
  }

  /** Counts, cost and time of a migration, and what each step will do. Changes nothing. */
  plan(input: MigrationInput, options?: PlanOptions): Promise<MigrationPlan> {
    return planMigration(this.#ctx, input, options);
  }

  /** Creates the target namespace (dual-writes start now), stores the migration and routes the alias. */
  start(input: MigrationInput): Promise<MigrationReport> {
    return startMigration(this.#ctx, input);
  }

  /** Does the current state's work (e.g. runs the backfill) and advances when it is finished. */
  step(id: string, options?: StepOptions): Promise<MigrationReport> {
    return stepMigration(this.#ctx, id, options);
  }

  /** Gates, then one atomic alias write; `GATE_FAILED` naming the failing rules unless forced with a reason. */
  cutover(id: string, options?: CutoverOptions): Promise<MigrationReport> {
    return cutoverMigration(this.#ctx, id, options);
  }

  /**
   * Runs queries (the probe's, a file's, or recently served ones) through both namespaces of a shadow
   * migration and records their agreement as shadowing-phase samples.
   */
  async replay(id: string, options?: ReplayOptions): Promise<ReplayReport> {
    return replayMigration(this.#ctx, await this.#ctx.migrations.get(id), options);
  }

  rollback(id: string, options?: { reason?: string }): Promise<MigrationReport> {
    return rollbackMigration(this.#ctx, id, options);
  }

  get(id: string): Promise<Migration> {
    return this.#ctx.migrations.get(id);
  }

  list(filter?: { collection?: string; alias?: string; active?: boolean }): Promise<Migration[]> {
    return this.#ctx.migrations.list(filter);
  }

  /** The unfinished migration of an alias, or the newest one when none is unfinished. */
  async current(alias: string): Promise<Migration | null> {
    const [active] = await this.#ctx.migrations.list({ alias, active: true });
    if (active) return active;
    const [latest] = await this.#ctx.migrations.list({ alias });
    return latest ?? null;
  }

  async status(id: string): Promise<MigrationStatus> {
    const { backend, jobs, migrations } = this.#ctx;
    const migration = await migrations.get(id);
    const target = await backend.catalog.getNamespace(migration.to);
    const job = await jobs.getJob(`backfill:${migration.to}`);
    return Object.freeze({
      kind: 'migration-status' as const,
      migration,
      alias: await backend.catalog.getAlias(migration.alias),
      coverage:
        target.state === 'retired'
          ? { live: 0, current: 0, stale: 0, resurrected: 0, ratio: 0 }
          : await measureCoverage(backend, target),
      deadLetters: await jobs.countDeadLetters(migration.to),
      queued: await jobs.queueSize(migration.to),
      job,
      checkpoint: job ? await jobs.checkpoint(checkpointKey(job)) : null,
      agreement: migration.strategy === 'shadow' ? await migrations.agreementSummary(migration.id) : null,
      gates: Object.freeze(gatePlanOf(migration)),
      lastGates: (migration.info as { lastGates?: Record<string, unknown> }).lastGates ?? null,
    });
  }

  /** A backfill runner for a migration's target or any namespace (`reembed backfill run`). */
  backfill(target: BackfillTarget): Promise<BackfillRunner> {
    return createBackfillRunner(this.#ctx, target);
  }

  /** Drops retiring namespaces whose rollback window elapsed with no traffic (`reembed retire run`). */
  async retire(
    options: { now?: Date; ignoreWindow?: boolean; dryRun?: boolean; namespaces?: readonly string[] } = {},
  ): Promise<RetirementReport> {
    await this.observer.flush();
    return runRetirement(
      {
        catalog: this.#ctx.backend.catalog,
        store: this.#ctx.backend.store,
        migrations: this.#ctx.migrations,
      },
      { actor: this.#ctx.actor, ...options, now: options.now ?? this.#ctx.clock.now() },
    );
  }

  /** Flushes the observer's pending writes and unregisters it. Call before closing the app. */
  async close(): Promise<void> {
    this.#detach();
    await this.observer.flush();
  }
}
