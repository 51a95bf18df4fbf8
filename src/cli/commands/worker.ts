import { ReembedError } from '../../core/errors.js';
import type { BackfillSettings } from '../../core/migration.js';
import { lazyAsync } from '../../platform/lazy.js';
import type { Backend } from '../../ports/backend.js';
import type { PlanProgress } from '../../queue/progress.js';
import { BackfillWorker, type WorkerReport } from '../../queue/worker.js';
import type { PgBackend } from '../../stores/pg/backend.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { addSettingOptions, integerOption, numberOf, numberOption, setting, settingsOf } from '../options.js';
import { runningCount } from '../progress.js';
import { addBackfillOptions, backfillSettingsOf, withMigrations } from './migrate.js';

// Handlers' dependencies load when a subcommand runs, not for `--help` or option errors.
const measureCoverage = lazyAsync(() => import('../../app/status.js'), 'measureCoverage');
const planDistributedBackfill = lazyAsync(() => import('../../queue/plan.js'), 'planDistributedBackfill');
const distributedStatus = lazyAsync(() => import('../../queue/progress.js'), 'distributedStatus');
const waitForPlan = lazyAsync(() => import('../../queue/progress.js'), 'waitForPlan');

type Opts = Readonly<Record<string, unknown>>;

export interface WorkerRunArgs {
  readonly concurrency?: number;
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
  readonly leaseSeconds?: number;
  readonly heartbeatSeconds?: number;
  readonly pollMs?: number;
  readonly dbRetrySeconds?: number;
  readonly untilDone: boolean;
}

/**
 * `reembed worker [run]`: a distributed-backfill worker on the PostgreSQL backend. Takes range jobs of
 * every planned backfill until SIGINT/SIGTERM (graceful: ranges in flight finish), or with `--until-done`
 * until nothing is left. Start any number, on any machine that reaches the database. Exit 0 when stopped
 * or drained, 1 when the queue failed or ranges are stuck (failed past their attempts: re-plan to revive).
 */
export async function workerRun(ctx: CliContext, args: WorkerRunArgs): Promise<number> {
  const app = await ctx.app();
  const limits = {
    requestsPerMinute: args.requestsPerMinute ?? null,
    tokensPerMinute: args.tokensPerMinute ?? null,
  };
  const worker = await BackfillWorker.start(app, {
    untilDone: args.untilDone,
    limits,
    ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
    ...(args.leaseSeconds !== undefined ? { leaseMs: args.leaseSeconds * 1000 } : {}),
    ...(args.heartbeatSeconds !== undefined ? { heartbeatMs: args.heartbeatSeconds * 1000 } : {}),
    ...(args.pollMs !== undefined ? { pollMs: args.pollMs } : {}),
    ...(args.dbRetrySeconds !== undefined ? { dbRetryMs: args.dbRetrySeconds * 1000 } : {}),
  });
  ctx.out.note(`worker ${worker.id} (pid ${process.pid}) taking backfill ranges`);
  worker.on('range', (r: { key: string; status: string; counters: { written: number }; ms: number }) =>
    ctx.out.note(`${r.key}: ${r.status}, ${r.counters.written} written in ${Math.round(r.ms)} ms`),
  );
  worker.on('failure', ({ key, error }: { key: string; error: unknown }) =>
    ctx.out.warn(
      `${key} failed and goes back to the queue: ${error instanceof Error ? error.message : String(error)}`,
    ),
  );
  worker.on('released', ({ owners }: { owners: string[] }) =>
    ctx.out.note(`released the ranges of lapsed worker(s) ${owners.join(', ')}`),
  );
  const debug = ctx.io.env.REEMBED_DEBUG !== undefined;
  worker.on('log', ({ level, message }: { level: string; message: string }) => {
    if (debug) ctx.io.stderr.write(`[${level}] ${message}\n`);
    else if (level === 'error') ctx.out.warn(message.split('\n')[0] ?? message);
  });
  const onSignal = (): void => void worker.stop('stopped');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let report: WorkerReport;
  try {
    report = await worker.done;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  ctx.out.result(report, () => {
    const c = report.counters;
    ctx.out.line(
      `${report.reason}: ${report.ranges} range(s), ${c.written} written, ${c.skipped} already current, ${c.deadLettered} dead-lettered, ${report.failures} failed attempt(s)`,
    );
    if (report.reason === 'stuck')
      ctx.out.line(
        '  some ranges failed past their attempts: fix the cause, then run reembed worker plan <target> to revive them',
      );
  });
  return report.reason === 'stopped' || report.reason === 'drained' ? 0 : 1;
}

export interface WorkerPlanArgs {
  readonly target: string;
  readonly rangeSize?: number;
  readonly fresh: boolean;
  readonly wait: boolean;
  readonly settings: Record<string, number>;
}

/**
 * `reembed worker plan <namespace|alias>`: the coordinator. Splits the backfill of a namespace (or of an
 * alias's migration target, with the migration's backfill settings) into ranges and enqueues them;
 * idempotent. `--wait` then follows global progress until every range is done — the distributed
 * counterpart of `reembed backfill run`.
 */
export async function workerPlan(ctx: CliContext, args: WorkerPlanArgs): Promise<number> {
  return withMigrations(ctx, async (service) => {
    const backend = requirePg((await ctx.app()).backend);
    const migration = args.target.includes('@') ? null : await service.current(args.target);
    if (!args.target.includes('@') && !migration) {
      throw new ReembedError(
        'NOT_FOUND',
        `Alias "${args.target}" has no migration; name a namespace (collection@space) instead.`,
        {
          details: { target: args.target },
        },
      );
    }
    const settings: Partial<BackfillSettings> = { ...(migration?.options.backfill ?? {}), ...args.settings };
    const plan = await planDistributedBackfill(backend, {
      namespace: migration?.to ?? args.target,
      migrationId: migration?.id ?? null,
      settings,
      fresh: args.fresh,
      ...(args.rangeSize !== undefined ? { rangeSize: args.rangeSize } : {}),
    });
    let finished: PlanProgress | null = null;
    if (args.wait && plan.done < plan.ranges) {
      let task: ReturnType<CliContext['progress']['start']> | null = null;
      let count: ReturnType<typeof runningCount> | null = null;
      try {
        finished = await waitForPlan(backend, plan.namespace, {
          onProgress: (p) => {
            task ??= ctx.progress.start(`distributed backfill ${p.namespace}`, {
              total: p.sources,
              unit: 'docs',
            });
            count ??= runningCount(task);
            count(p.sourcesDone);
          },
        });
      } finally {
        (task as { end(): void } | null)?.end();
      }
    }
    ctx.out.result(finished ? { plan, finished } : plan, () => {
      ctx.out.line(
        `${plan.planId} generation ${plan.generation}: ${plan.ranges} range(s) over ${plan.sources} source(s); ${plan.created} new, ${plan.enqueued} enqueued, ${plan.done} done`,
      );
      if (plan.enqueued > 0 && !finished) ctx.out.line('  start workers anywhere: reembed --pg <url> worker');
      if (finished)
        ctx.out.line(
          `  finished: ${finished.rangesDone}/${finished.ranges} ranges, ${finished.job?.counters.written ?? 0} written`,
        );
    });
    return 0;
  });
}

/**
 * `reembed worker status [alias|namespace|plan]`: global progress of distributed backfills and live
 * workers. An alias means its migration's target. Document counts are measured in the store (live
 * documents held at their current version), so they are right whatever happened to the workers; the
 * ranges' row counts include deleted documents, which a backfill also scans.
 */
export async function workerStatus(ctx: CliContext, args: { target?: string }): Promise<number> {
  const app = await ctx.app();
  const backend = requirePg(app.backend);
  let target = args.target;
  if (target !== undefined && !target.includes('@')) {
    const migration = await withMigrations(ctx, (service) => service.current(target as string));
    if (migration) target = migration.to;
  }
  const status = await distributedStatus(backend, target);
  type Documents = {
    live: number;
    current: number;
    stale: number;
    missing: number;
    deadLettered: number;
    ratio: number;
  };
  const plans: (PlanProgress & { documents: Documents })[] = [];
  for (const p of status.plans) {
    const ns = await backend.catalog.getNamespace(p.namespace);
    const coverage = await measureCoverage(backend, ns);
    const deadLettered = await backend.jobs.countDeadLetters(p.namespace);
    plans.push({
      ...p,
      documents: {
        live: coverage.live,
        current: coverage.current,
        stale: coverage.stale,
        missing: Math.max(0, coverage.live - coverage.current - coverage.stale),
        deadLettered,
        ratio: coverage.ratio,
      },
    });
  }
  ctx.out.result({ ...status, plans }, () => {
    if (plans.length === 0)
      ctx.out.line(
        args.target === undefined
          ? 'No distributed backfill planned.'
          : `No distributed backfill planned for ${args.target}${target !== args.target ? ` (${target})` : ''}. Plan one: reembed worker plan ${args.target}`,
      );
    for (const p of plans) {
      const d = p.documents;
      ctx.out.line(
        `${p.namespace} (generation ${p.generation}): ${d.current} of ${d.live} live documents current (${(d.ratio * 100).toFixed(1)}%), ` +
          `${d.stale} stale, ${d.missing} missing, ${d.deadLettered} dead-lettered; ` +
          `${p.rangesDone}/${p.ranges} ranges done (${p.sourcesDone}/${p.sources} rows scanned, deleted documents included)` +
          (p.finishedAt ? `; finished ${p.finishedAt}` : ''),
      );
    }
    for (const w of status.workers) {
      ctx.out.line(
        `  worker ${w.id} ${w.host}:${w.pid} ${w.alive ? 'alive' : 'lapsed'} (heartbeat ${(w.heartbeatAgeMs / 1000).toFixed(1)} s ago)`,
      );
    }
  });
  return 0;
}

function requirePg(backend: Backend): PgBackend {
  if (!backend.capabilities.distributedBackfill) {
    throw new ReembedError(
      'UNSUPPORTED',
      `The distributed backfill runs on the PostgreSQL backend (this is ${backend.kind}): pass --pg URL or set REEMBED_PG_URL. On SQLite, use reembed backfill run.`,
      { details: { backend: backend.kind } },
    );
  }
  return backend as PgBackend;
}

/** `worker run`'s own settings: a worker's share of the limits, and how it holds its leases. */
const RUN_SETTINGS = [
  setting(
    '--concurrency <n>',
    'ranges embedded and written at once by this process (one more is read ahead)',
    integerOption(1, 64),
  ),
  setting(
    '--rate-limit <rpm>',
    "this worker's own embedding requests per minute",
    numberOption(0.001),
    'requestsPerMinute',
  ),
  setting('--tokens-per-minute <n>', "this worker's own embedding tokens per minute", numberOption(1)),
  setting(
    '--lease-seconds <s>',
    'a worker silent this long is presumed dead (default 30)',
    numberOption(0.1),
  ),
  setting('--heartbeat-seconds <s>', 'heartbeat interval (default lease / 3)', numberOption(0.05)),
  setting('--poll-ms <ms>', 'fallback job polling (default 2000)', integerOption(10)),
  setting(
    '--db-retry-seconds <s>',
    'how long a range rides out a database outage (default 120)',
    numberOption(0),
  ),
];

const runArgs = (_p: readonly unknown[], o: Opts): WorkerRunArgs => ({
  untilDone: o.untilDone === true,
  ...settingsOf(o, RUN_SETTINGS),
});

export const workerCommand: CliCommand = (cmd, bind) => {
  const run = cmd
    .command('run', { isDefault: true })
    .description('take backfill ranges until stopped (SIGINT/SIGTERM finish the ranges in flight)');
  addSettingOptions(run, RUN_SETTINGS)
    .option('--until-done', 'exit once every planned range is done')
    .action(bind(workerRun, runArgs));
  addBackfillOptions(
    cmd
      .command('plan <target>')
      .description(
        'split the backfill of a namespace (or an alias’s migration) into queued ranges; --rate-limit and --tokens-per-minute here are GLOBAL, shared by all workers',
      ),
  )
    .option(
      '--range-size <n>',
      'sources per range (one queue job each; default 500)',
      integerOption(1, 100_000),
    )
    .option('--fresh', 'plan every source again (a new generation), e.g. to reconcile')
    .option('--wait', 'follow global progress until every range is done')
    .action(
      bind(workerPlan, (p, o) => ({
        target: p[0] as string,
        fresh: o.fresh === true,
        wait: o.wait === true,
        settings: backfillSettingsOf(o),
        ...(numberOf(o.rangeSize) !== undefined ? { rangeSize: o.rangeSize as number } : {}),
      })),
    );
  cmd
    .command('status [target]')
    .description(
      'global progress of distributed backfills (of an alias’s migration, a namespace or a plan) and the workers holding a lease',
    )
    .action(bind(workerStatus, (p) => ({ ...(typeof p[0] === 'string' ? { target: p[0] } : {}) })));
};
