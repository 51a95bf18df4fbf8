import type { GoldenSet } from '../core/golden.js';
import { isTerminal, type Migration, type MigrationReport } from '../core/migration.js';
import { type Alias, describeRouting } from '../core/routing.js';
import type { BackfillRunner } from '../jobs/backfill.js';
import { type EffectiveJobState, jobLiveness } from '../jobs/liveness.js';
import type { RetirementReport } from '../jobs/retire.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { type Checkpoint, checkpointKey, type Job } from '../ports/jobs.js';
import type { AgreementSummary } from '../ports/migrations.js';
import type { BackfillTarget } from './migrate-backfill.js';
import { type MigrationContext, observedMigrations, requireRepositories } from './migrate-context.js';
import type { CutoverOptions } from './migrate-cutover.js';
import type { FinishOptions } from './migrate-finish.js';
import type { GateEvaluation } from './migrate-gates.js';
import { MigrationObserver } from './migrate-observer.js';
import type { GatePlanEntry, MigrationInput } from './migrate-options.js';
import type { MigrationPlan, PlanOptions } from './migrate-plan.js';
import type { ReplayOptions, ReplayReport } from './migrate-replay.js';
import type { StepOptions } from './migrate-step.js';
import type { Reembed } from './reembed.js';
import type { Coverage } from './status.js';

export interface MigrationServiceOptions {
  /** Defaults to the backend's clock when it has one, else the system clock. */
  readonly clock?: Clock;
  /** How often query traffic and hit counts are written (default 5 s). */
  readonly flushMs?: number;
  /** Background write failures of the query observer (default: ignored after counting). */
  readonly onObserverError?: (error: unknown) => void;
}

/**
 * The backfill of a migration's target as it really is: the state of its job with a dead runner seen as
 * `interrupted`, what to run next, and document counts measured in the store (live sources vs what the
 * target holds at their current version), so they are right after any crash.
 */
export interface BackfillView {
  /** `not-run` before the first run; `interrupted` when the job says running but its runner died. */
  readonly state: EffectiveJobState | 'not-run';
  /** Why, for `running` and `interrupted` (the runner and its heartbeat). */
  readonly detail: string | null;
  /** The command that continues the work, when something is left to do and nothing runs it. */
  readonly next: string | null;
  readonly documents: {
    /** Live source documents (deleted ones are not counted anywhere here). */
    readonly live: number;
    /** Held by the target at their current version. */
    readonly current: number;
    /** Held at an older version (changed since). */
    readonly stale: number;
    /** Not held at all. */
    readonly missing: number;
    /** Dead-lettered: the backfill gave up on them (see `reembed backfill retry-dead`). */
    readonly deadLettered: number;
    readonly ratio: number;
  };
}

export interface MigrationStatus {
  readonly kind: 'migration-status';
  readonly migration: Migration;
  readonly alias: Alias;
  /** What the alias serves under its routing, in one sentence (which share reads what; bridged reads named). */
  readonly serving: string;
  readonly coverage: Coverage;
  readonly backfill: BackfillView;
  readonly deadLetters: number;
  readonly queued: number;
  /**
   * The job row. Its `counters` are the runner's own tallies, flushed every 2 s and lost with a killed
   * process: use `backfill.documents`, measured in the store, for progress.
   */
  readonly job: Job | null;
  readonly checkpoint: Checkpoint | null;
  readonly agreement: AgreementSummary | null;
  /** The rules a cutover must pass and why each applies. */
  readonly gates: readonly GatePlanEntry[];
  /** The latest gate evaluation (by `step`, `cutover` or a rollout), if any. */
  readonly lastGates: Readonly<Record<string, unknown>> | null;
  /**
   * The shadow-diff review's labels (dashboard, `POST /v1/migrations/{m}/review`): the golden set they are
   * stored in (`review-<alias>`), how many queries and judgments it holds (0 before any label), and whether
   * the migration's gates already read it. Null when the backend stores no golden sets.
   */
  readonly review: MigrationReview | null;
}

export interface MigrationReview {
  readonly golden: string;
  readonly queries: number;
  readonly judgments: number;
  readonly usedByGates: boolean;
}

async function reviewOf(backend: Reembed['backend'], migration: Migration): Promise<MigrationReview | null> {
  if (!backend.goldenSets) return null;
  const { reviewGoldenName } = await import('./review.js');
  const recorded = (migration.info as { reviewGolden?: unknown }).reviewGolden;
  const golden = typeof recorded === 'string' ? recorded : reviewGoldenName(migration);
  const stored = (await backend.goldenSets.list()).find((s) => s.name === golden);
  return Object.freeze({
    golden,
    queries: stored?.queries ?? 0,
    judgments: stored?.judgments ?? 0,
    usedByGates: migration.options.golden === golden,
  });
}

/** What `status` says about a migration's backfill (see `BackfillView`). */
export function backfillView(
  migration: Migration,
  job: Job | null,
  coverage: Coverage,
  deadLetters: number,
  now: Date,
): BackfillView {
  const live = jobLiveness(job ?? notRun, { now });
  const state = job ? live.state : 'not-run';
  const missing = Math.max(0, coverage.live - coverage.current - coverage.stale);
  const left = coverage.current + deadLetters < coverage.live || coverage.resurrected > 0;
  const building = migration.state === 'planned' || migration.state === 'backfilling';
  let next: string | null = null;
  if (state !== 'running' && building && left) {
    next =
      `reembed migrate step ${migration.alias}` +
      (state === 'interrupted' ? ' (resumes from the checkpoint)' : '');
  } else if (state !== 'running' && deadLetters > 0 && !isTerminal(migration.state)) {
    next = `reembed backfill retry-dead ${migration.alias}`;
  }
  return Object.freeze({
    state,
    detail: job ? live.detail : null,
    next,
    documents: Object.freeze({
      live: coverage.live,
      current: coverage.current,
      stale: coverage.stale,
      missing,
      deadLettered: deadLetters,
      ratio: coverage.ratio,
    }),
  });
}

const notRun = { state: 'pending' } as Job;

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

  constructor(app: Reembed, options: MigrationServiceOptions = {}, actingFor?: MigrationService) {
    if (actingFor) {
      // A view acting as another actor (`asActor`): same observer and repositories, nothing attached twice.
      this.observer = actingFor.observer;
      this.#ctx = { ...actingFor.#ctx, app, actor: app.actor };
      this.#detach = () => undefined;
      this.#ownsObserver = false;
      return;
    }
    const { migrations, jobs } = requireRepositories(app.backend);
    const clock = options.clock ?? app.backend.clock ?? systemClock;
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
    if (this.#ownsObserver) this.observer.settleBeforeFlush(() => app.queries.settled());
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

  /**
   * The same service recording `actor` in the audit log (the HTTP server passes the API key's name). Shares
   * this service's observer; closing the view does nothing.
   *
   * @example
   * await migrations.asActor('key:ops-bot').cutover(id);
   */
  asActor(actor: string): MigrationService {
    // The facade with only `actor` overridden (methods and repositories come through the prototype).
    const app = Object.create(this.#ctx.app, { actor: { value: actor } }) as Reembed;
    return new MigrationService(app, {}, this);
  }

  /** Counts, cost and time of a migration, and what each step will do. Changes nothing. */
  async plan(input: MigrationInput, options?: PlanOptions): Promise<MigrationPlan> {
    const { planMigration } = await import('./migrate-plan.js');
    return planMigration(this.#ctx, input, options);
  }

  /** Creates the target namespace (dual-writes start now), stores the migration and routes the alias. */
  async start(input: MigrationInput): Promise<MigrationReport> {
    const { startMigration } = await import('./migrate-start.js');
    return startMigration(this.#ctx, input);
  }

  /** Does the current state's work (e.g. runs the backfill) and advances when it is finished. */
  async step(id: string, options?: StepOptions): Promise<MigrationReport> {
    const { stepMigration } = await import('./migrate-step.js');
    return stepMigration(this.#ctx, id, options);
  }

  /** Gates, then one atomic alias write; `GATE_FAILED` naming the failing rules unless forced with a reason. */
  async cutover(id: string, options?: CutoverOptions): Promise<MigrationReport> {
    const { cutoverMigration } = await import('./migrate-cutover.js');
    return cutoverMigration(this.#ctx, id, options);
  }

  /**
   * Runs queries (the probe's, a file's, or recently served ones) through both namespaces of a shadow
   * migration and records their agreement as shadowing-phase samples.
   */
  async replay(id: string, options?: ReplayOptions): Promise<ReplayReport> {
    const { replayMigration } = await import('./migrate-replay.js');
    return replayMigration(this.#ctx, await this.#ctx.migrations.get(id), options);
  }

  /**
   * Evaluates a migration's gates now, exactly as `cutover` and `step` do, without acting: what a cutover
   * would decide (the dashboard shows it before an admin confirms). Recorded as the migration's
   * `lastGates` and one point of its quality history.
   *
   * @example
   * const { passed, results } = await migrations.gates(id, { golden: 'reviewed-docs' });
   */
  async gates(id: string, options: { golden?: GoldenSet | string | null } = {}): Promise<GateEvaluation> {
    const { evaluateMigrationGates, recordGates } = await import('./migrate-gates.js');
    const migration = await this.#ctx.migrations.get(id);
    const gates = await evaluateMigrationGates(this.#ctx, migration, options);
    await recordGates(this.#ctx, migration, gates);
    return gates;
  }

  async rollback(id: string, options?: { reason?: string }): Promise<MigrationReport> {
    const { rollbackMigration } = await import('./migrate-cutover.js');
    return rollbackMigration(this.#ctx, id, options);
  }

  /**
   * Closes a migration that has cut over before its rollback window ends (no rollback afterwards; the
   * alias can start a new migration). The old namespace keeps its retirement schedule, or is dropped now
   * with `retireNow`. Audited with the reason.
   *
   * @example
   * await migrations.finish(migration.id, { reason: 'v2 verified in production' });
   */
  async finish(id: string, options: FinishOptions): Promise<MigrationReport> {
    const { finishMigration } = await import('./migrate-finish.js');
    return finishMigration(this.#ctx, id, options);
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
    const [{ measureCoverage }, { gatePlanOf }] = await Promise.all([
      import('./status.js'),
      import('./migrate-gates.js'),
    ]);
    const { backend, jobs, migrations } = this.#ctx;
    const migration = await migrations.get(id);
    const target = await backend.catalog.getNamespace(migration.to);
    const job = await jobs.getJob(`backfill:${migration.to}`);
    const coverage =
      target.state === 'retired'
        ? { live: 0, current: 0, stale: 0, resurrected: 0, ratio: 0 }
        : await measureCoverage(backend, target);
    const deadLetters = await jobs.countDeadLetters(migration.to);
    const alias = await backend.catalog.getAlias(migration.alias);
    return Object.freeze({
      kind: 'migration-status' as const,
      migration,
      alias,
      serving: describeRouting(alias.routing, migration.options.bridge?.name),
      coverage,
      backfill: backfillView(migration, job, coverage, deadLetters, this.#ctx.clock.now()),
      deadLetters,
      queued: await jobs.queueSize(migration.to),
      job,
      checkpoint: job ? await jobs.checkpoint(checkpointKey(job)) : null,
      agreement: migration.strategy === 'shadow' ? await migrations.agreementSummary(migration.id) : null,
      gates: Object.freeze(gatePlanOf(migration)),
      lastGates: (migration.info as { lastGates?: Record<string, unknown> }).lastGates ?? null,
      review: await reviewOf(backend, migration),
    });
  }

  /** A backfill runner for a migration's target or any namespace (`reembed backfill run`). */
  async backfill(target: BackfillTarget): Promise<BackfillRunner> {
    const { createBackfillRunner } = await import('./migrate-backfill.js');
    return createBackfillRunner(this.#ctx, target);
  }

  /** Drops retiring namespaces whose rollback window elapsed with no traffic (`reembed retire run`). */
  async retire(
    options: { now?: Date; ignoreWindow?: boolean; dryRun?: boolean; namespaces?: readonly string[] } = {},
  ): Promise<RetirementReport> {
    const { runRetirement } = await import('../jobs/retire.js');
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
