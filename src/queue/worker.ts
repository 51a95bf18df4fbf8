import { EventEmitter } from 'node:events';
import type { Reembed } from '../app/reembed.js';
import { ReembedError } from '../core/errors.js';
import { Semaphore } from '../core/semaphore.js';
import type { RateLimits } from '../jobs/rate-limit.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { JobCounters } from '../ports/jobs.js';
import type { PgBackend } from '../stores/pg/backend.js';
import { run } from '../stores/pg/pool.js';
import {
  ensureQueueSchema,
  type GraphileWorker,
  loadGraphileWorker,
  openWorkerUtils,
  quietLogger,
  RANGE_TASK,
  type WorkerUtils,
} from './graphile.js';
import { WorkerLease } from './lease.js';
import type { RangeOutcome } from './range.js';
import { makeRangeTask, type RangeTask } from './range-task.js';
import { forgetWorkersSql, outstandingSql, workerSchemaOf } from './sql.js';

export interface BackfillWorkerOptions {
  /**
   * Ranges this process embeds and writes at once. Default 2. The worker holds one range more than
   * that: it claims the range and reads its first page while the others embed and write, so a range
   * boundary leaves no embedding or write slot idle (embedding calls and store writes in flight stay
   * bounded by `concurrency`).
   */
  readonly concurrency?: number;
  /** This worker's own limits, on top of each plan's global limits. */
  readonly limits?: RateLimits;
  /** A worker silent for this long is presumed dead and its ranges are handed to others. Default 30 s. */
  readonly leaseMs?: number;
  /** Heartbeat (and lapsed-lease check) interval. Default a third of the lease. */
  readonly heartbeatMs?: number;
  /** Fallback polling for jobs (new jobs arrive by LISTEN/NOTIFY). Default 2 s. */
  readonly pollMs?: number;
  /** Stop once no planned range is left to do (`drained`), or none can run any more (`stuck`). */
  readonly untilDone?: boolean;
  /** How long a range keeps retrying a database outage before the queue reschedules it. Default 120 s. */
  readonly dbRetryMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
}

export type WorkerStopReason = 'stopped' | 'drained' | 'stuck' | 'failed';

export interface WorkerReport {
  readonly kind: 'worker-report';
  readonly id: string;
  readonly reason: WorkerStopReason;
  /** Ranges this worker finished (excluding ones it found already done). */
  readonly ranges: number;
  readonly counters: JobCounters;
  /** Range attempts that failed and went back to the queue. */
  readonly failures: number;
  /** Locks of lapsed workers this worker released. */
  readonly released: number;
  /** Times a range waited out a database failure and resumed from its checkpoint. */
  readonly dbRetries: number;
  /** Times the job-queue pool stopped on its own (e.g. it lost the database) and was started again. */
  readonly restarts: number;
  readonly error: string | null;
}

type Runner = Awaited<ReturnType<GraphileWorker['run']>>;

/**
 * One `reembed worker` process: takes range jobs of any distributed backfill in the database, embeds
 * with each namespace's embedder under this worker's and the plan's shared rate limits, and writes with
 * the versioned store write. Start as many as you like, anywhere that reaches the database.
 *
 * It supervises its graphile-worker pool: a pool that stops on its own (graphile-worker 0.17 shuts a
 * pool down when it cannot record a job's completion, e.g. while the database restarts) is started again
 * with backoff, and the locks the dead pool still held are released so the ranges run again.
 *
 * Events: `range` (RangeOutcome & { ms }), `failure` ({ key, error }), `released` ({ owners }),
 * `db-retry` ({ key, attempt, delayMs, error }), `restart` ({ error, delayMs }), `log` ({ level, message }),
 * `stopped` (WorkerReport).
 *
 * @example
 * const worker = await BackfillWorker.start(app, { concurrency: 2, untilDone: true });
 * const report = await worker.done;
 */
export class BackfillWorker extends EventEmitter {
  readonly done: Promise<WorkerReport>;
  #id = 'starting';
  readonly #backend: PgBackend;
  readonly #options: BackfillWorkerOptions;
  readonly #lease: WorkerLease;
  readonly #utils: WorkerUtils;
  #launch: () => Promise<Runner> = async () => {
    throw new Error('not started');
  };
  #runner: Runner | null = null;
  #deadPools: string[] = [];
  #nudge: (n: number) => void = () => undefined;
  #timer: NodeJS.Timeout | null = null;
  #restartTimer: NodeJS.Timeout | null = null;
  #ticking = false;
  #stopping: Promise<WorkerReport> | null = null;
  #resolve: (report: WorkerReport) => void = () => undefined;
  #ranges = 0;
  #failures = 0;
  #released = 0;
  #dbRetries = 0;
  #restarts = 0;
  #counters: JobCounters = { processed: 0, written: 0, skipped: 0, deadLettered: 0, retries: 0 };

  private constructor(backend: PgBackend, utils: WorkerUtils, options: BackfillWorkerOptions) {
    super();
    this.#backend = backend;
    this.#utils = utils;
    this.#options = options;
    this.#lease = new WorkerLease({
      db: backend.pool,
      schema: backend.config.schema,
      leaseMs: options.leaseMs ?? 30_000,
      unlock: (owners) => utils.forceUnlockWorkers(owners),
    });
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The graphile-worker pool id this worker locks jobs as (also its lease row). */
  get id(): string {
    return this.#id;
  }

  /** Prepares the queue schema, starts taking jobs and heartbeating. */
  static async start(app: Reembed, options: BackfillWorkerOptions = {}): Promise<BackfillWorker> {
    const backend = requirePg(app);
    const { schema, url } = backend.config;
    const clock = options.clock ?? systemClock;
    await ensureQueueSchema(backend.pool, url, schema);
    const worker = new BackfillWorker(backend, await openWorkerUtils(url, schema), options);
    const concurrency = options.concurrency ?? 2;
    const task: RangeTask = makeRangeTask(
      app,
      backend,
      {
        slots: {
          embed: new Semaphore(concurrency, 'Embedding'),
          write: new Semaphore(concurrency, 'The write'),
        },
        limits: options.limits,
        dbRetryMs: options.dbRetryMs ?? 120_000,
        clock,
        random: options.random ?? Math.random,
      },
      {
        workerId: () => worker.#id,
        onOutcome: (outcome, ms) => {
          worker.#record(outcome);
          worker.emit('range', { ...outcome, ms });
        },
        onFailure: (key, error) => {
          worker.#failures++;
          worker.emit('failure', { key, error });
        },
        onDbRetry: (event) => {
          worker.#dbRetries++;
          worker.emit('db-retry', event);
        },
      },
    );
    const gw = await loadGraphileWorker();
    const events = new EventEmitter();
    events.on('pool:create', ({ workerPool }: { workerPool: { id: string; nudge(n: number): void } }) => {
      worker.#id = workerPool.id;
      worker.#nudge = (n) => workerPool.nudge(n);
      worker.#lease.setOwner(workerPool.id);
      void worker.tick();
    });
    const logger = await quietLogger((level, message) => worker.emit('log', { level, message }));
    worker.#launch = () =>
      gw.run({
        connectionString: url,
        schema: workerSchemaOf(schema),
        concurrency: concurrency + 1,
        maxPoolSize: concurrency + 3,
        pollInterval: options.pollMs ?? 2_000,
        noHandleSignals: true,
        crontab: '',
        events: events as never,
        logger,
        // Batched completion: a completion that cannot be recorded stops the pool cleanly (and the
        // supervisor restarts it) instead of surfacing as an unhandled rejection.
        preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
        taskList: { [RANGE_TASK]: task as never },
      });
    worker.#supervise(await worker.#launch());
    const leaseMs = options.leaseMs ?? 30_000;
    worker.#timer = setInterval(
      () => void worker.tick(),
      options.heartbeatMs ?? Math.max(100, Math.floor(leaseMs / 3)),
    );
    return worker;
  }

  /**
   * One heartbeat: renews this worker's lease, releases the jobs of lapsed workers (and of this worker's
   * own dead pools), nudges the pool to take them, and with `untilDone` stops when nothing is left.
   * Runs on a timer; tests may call it.
   */
  async tick(): Promise<void> {
    if (this.#ticking || this.#stopping) return;
    this.#ticking = true;
    try {
      const beat = await this.#lease.tick();
      if (beat.error) this.emit('log', { level: 'warning', message: `lease: ${String(beat.error)}` });
      const released = [...beat.released];
      if (beat.heartbeat && this.#deadPools.length > 0) {
        const dead = this.#deadPools;
        try {
          await this.#utils.forceUnlockWorkers(dead);
          await run(this.#backend.pool, 'forget dead pools', forgetWorkersSql(this.#backend.config.schema), [
            dead,
          ]);
          this.#deadPools = this.#deadPools.filter((id) => !dead.includes(id));
          released.push(...dead);
        } catch {
          // Still unreachable: the next tick tries again (and other workers' leases cover it meanwhile).
        }
      }
      if (released.length > 0) {
        this.#released += released.length;
        this.emit('released', { owners: released });
        this.#nudge(released.length);
      }
      if (this.#options.untilDone && beat.heartbeat && this.#runner) {
        const rows = await run<{ pending: number; runnable: number }>(
          this.#backend.pool,
          'check outstanding ranges',
          outstandingSql(this.#backend.config.schema, RANGE_TASK),
        ).catch(() => []);
        const row = rows[0];
        if (row && row.pending === 0) void this.stop('drained');
        else if (row && row.runnable === 0 && this.#deadPools.length === 0) void this.stop('stuck');
      }
    } finally {
      this.#ticking = false;
    }
  }

  /** Stops taking jobs, lets the ranges in flight finish (aborting them after 5 s), ends the lease. */
  stop(reason: WorkerStopReason = 'stopped', error?: unknown): Promise<WorkerReport> {
    this.#stopping ??= (async () => {
      if (this.#timer) clearInterval(this.#timer);
      if (this.#restartTimer) clearTimeout(this.#restartTimer);
      await this.#runner?.stop().catch(() => undefined);
      await this.#lease.release();
      await Promise.resolve(this.#utils.release()).catch(() => undefined);
      const report: WorkerReport = Object.freeze({
        kind: 'worker-report' as const,
        id: this.#id,
        reason,
        ranges: this.#ranges,
        counters: Object.freeze({ ...this.#counters }),
        failures: this.#failures,
        released: this.#released,
        dbRetries: this.#dbRetries,
        restarts: this.#restarts,
        error: error === undefined ? null : error instanceof Error ? error.message : String(error),
      });
      this.emit('stopped', report);
      this.#resolve(report);
      return report;
    })();
    return this.#stopping;
  }

  /** Watches a pool: when it ends without being asked to, remember its id and start another. */
  #supervise(runner: Runner): void {
    this.#runner = runner;
    const exitCodeBefore = process.exitCode;
    const onExit = (error?: unknown): void => {
      // graphile-worker's migration notice travels on a database-wide channel: installing or upgrading a
      // queue in any other schema of the same database stops this pool too, and it sets the process's exit
      // code to 57. The pool is restarted below, so that code is not this process's outcome.
      if (process.exitCode === GRAPHILE_MIGRATION_EXIT && exitCodeBefore !== GRAPHILE_MIGRATION_EXIT)
        process.exitCode = exitCodeBefore;
      if (this.#stopping || this.#runner !== runner) return;
      this.#runner = null;
      if (this.#id !== 'starting') this.#deadPools.push(this.#id);
      this.#lease.setOwner(null);
      this.#relaunch(error, 0);
    };
    runner.promise.then(
      () => onExit(),
      (error: unknown) => onExit(error),
    );
  }

  #relaunch(error: unknown, attempt: number): void {
    const delayMs = Math.min(30_000, 500 * 2 ** attempt);
    this.emit('restart', { error, delayMs });
    this.emit('log', {
      level: 'warning',
      message: `job-queue pool stopped (${String(error ?? 'no error')}); restarting in ${delayMs} ms`,
    });
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      this.#launch().then(
        (runner) => {
          this.#restarts++;
          if (this.#stopping) void runner.stop();
          else this.#supervise(runner);
        },
        (failure: unknown) => this.#relaunch(failure, attempt + 1),
      );
    }, delayMs);
  }

  #record(outcome: RangeOutcome): void {
    if (outcome.status === 'done') this.#ranges++;
    const c = this.#counters;
    const a = outcome.counters;
    this.#counters = {
      processed: c.processed + a.processed,
      written: c.written + a.written,
      skipped: c.skipped + a.skipped,
      deadLettered: c.deadLettered + a.deadLettered,
      retries: c.retries + a.retries,
    };
  }
}

/** The exit code graphile-worker sets when it sees a breaking migration notice (of any schema). */
const GRAPHILE_MIGRATION_EXIT = 57;

function requirePg(app: Reembed): PgBackend {
  if (app.backend.kind !== 'pg') {
    throw new ReembedError(
      'UNSUPPORTED',
      `Distributed backfill workers need the PostgreSQL backend (this one is ${app.backend.kind}). Pass --pg URL or set REEMBED_PG_URL; on SQLite use reembed backfill run.`,
      { details: { backend: app.backend.kind } },
    );
  }
  return app.backend as PgBackend;
}
