import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type MigrationReview, MigrationService } from '../../app/migrate.js';
import type { GatePlanEntry, MigrationInput, MigrationOptionsInput } from '../../app/migrate-options.js';
import type { MigrationPlan } from '../../app/migrate-plan.js';
import { ReembedError } from '../../core/errors.js';
import {
  isTerminal,
  MIGRATION_STRATEGIES,
  type Migration,
  type MigrationReport,
  type MigrationStrategy,
} from '../../core/migration.js';
import type { BackfillProgress } from '../../jobs/backfill.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { endInterrupted } from '../interrupt.js';
import {
  addSettingOptions,
  integerOption,
  numberOf,
  numberOption,
  reasonOption,
  setting,
  settingsOf,
  stringOf,
} from '../options.js';
import { formatDuration, formatRate, runningCount } from '../progress.js';
import { registerReplay } from './migrate-replay.js';

type Opts = Readonly<Record<string, unknown>>;

export interface MigrateArgs {
  readonly action: 'plan' | 'start' | 'status' | 'step' | 'cutover' | 'rollback' | 'finish';
  /** Alias name, or a migration id (`mig_...`). */
  readonly target?: string;
  readonly to?: string;
  readonly strategy?: MigrationStrategy;
  readonly options: MigrationOptionsInput;
  readonly latencyMs?: number;
  readonly sample?: number;
  readonly maxSampleCost?: number;
  readonly costOnly?: boolean;
  readonly maxBatches?: number;
  readonly maxSeconds?: number;
  readonly force: boolean;
  readonly reason?: string;
  /** `finish`: drop the old namespace's vectors now. */
  readonly retireNow?: boolean;
  readonly golden?: string;
}

/** Opens the app and a migration service for one command, closing the service (and its observer) after. */
export async function withMigrations<T>(
  ctx: CliContext,
  fn: (service: MigrationService) => Promise<T>,
): Promise<T> {
  const service = new MigrationService(await ctx.app());
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}

/** `mig_...` is a migration id; anything else is an alias whose unfinished (or latest) migration is meant. */
export async function resolveMigration(
  service: MigrationService,
  target: string | undefined,
): Promise<Migration> {
  if (!target)
    throw new ReembedError(
      'INVALID_INPUT',
      'Name the alias (or migration id) to act on, e.g. `reembed migrate step docs`.',
    );
  if (target.startsWith('mig_')) return service.get(target);
  const migration = await service.current(target);
  if (!migration) {
    throw new ReembedError(
      'NOT_FOUND',
      `Alias "${target}" has no migration. Start one: reembed migrate start ${target} --to <space> --strategy shadow`,
      {
        details: { alias: target },
      },
    );
  }
  return migration;
}

/**
 * `reembed migrate plan|start|status|step|cutover|rollback|finish`: the migration state machine from the
 * command line. Every action prints its per-step report (`--json`: the report document); a failed step
 * exits 1, a refused gate exits 7.
 */
export async function migrate(ctx: CliContext, args: MigrateArgs): Promise<number> {
  return withMigrations(ctx, async (service) => {
    switch (args.action) {
      case 'plan': {
        const plan = await service.plan(input(args, ctx.io.cwd), {
          ...(args.latencyMs !== undefined ? { latencyMs: args.latencyMs } : {}),
          ...(args.sample !== undefined ? { sampleSize: args.sample } : {}),
          ...(args.maxSampleCost !== undefined ? { maxSampleCostUsd: args.maxSampleCost } : {}),
          costOnly: args.costOnly === true,
          onSampleCost: (c) =>
            ctx.out.note(
              `forecast: embedding a sample of ${c.documents} documents and ${c.queries} probe queries in both spaces: ` +
                `${c.old.tokens} + ${c.new.tokens} tokens, $${c.costUsd.toFixed(4)}`,
            ),
        });
        ctx.out.result(plan, () => printPlan(ctx, plan));
        return 0;
      }
      case 'start':
        return printReport(ctx, await service.start(input(args, ctx.io.cwd)));
      case 'status': {
        const migrations = args.target
          ? [await resolveMigration(service, args.target)]
          : await service.list({ active: true });
        const statuses = await Promise.all(migrations.map((m) => service.status(m.id)));
        ctx.out.result(args.target ? statuses[0] : statuses, () => {
          if (statuses.length === 0) ctx.out.line('No migration in progress.');
          for (const s of statuses) {
            const m = s.migration;
            ctx.out.line(
              `${ctx.out.style.bold(m.id)}  ${m.state}  (${m.strategy}: ${m.from} → ${m.to}, alias ${m.alias})`,
            );
            ctx.out.line(`  serving    ${s.serving}`);
            ctx.out.line(`  routing    ${JSON.stringify(s.alias.routing)}`);
            const d = s.backfill.documents;
            ctx.out.line(
              `  documents  ${d.current} of ${d.live} live current in ${m.to} (${(d.ratio * 100).toFixed(1)}%); ` +
                `${d.stale} stale, ${d.missing} missing, ${d.deadLettered} dead-lettered` +
                (s.queued > 0 ? `, ${s.queued} queued` : ''),
            );
            const { state, detail, next } = s.backfill;
            const label =
              state === 'interrupted'
                ? ctx.out.style.yellow('interrupted')
                : state === 'not-run'
                  ? 'not run yet'
                  : state;
            ctx.out.line(
              `  backfill   ${label}${detail ? ` (${detail})` : ''}${s.job && state !== 'not-run' ? `, pass ${s.job.pass}` : ''}` +
                (next ? ` — ${state === 'interrupted' ? 'resume' : 'next'}: ${next}` : ''),
            );
            if (s.agreement) {
              const overlap = Object.entries(s.agreement.overlap)
                .map(([k, v]) => `overlap@${k} ${v.toFixed(3)}`)
                .join(', ');
              ctx.out.line(
                `  agreement  ${s.agreement.samples} samples; ${overlap || '-'}; RBO ${s.agreement.rbo?.toFixed(3) ?? '-'}`,
              );
            }
            printGates(ctx, s.gates, s.lastGates);
            if (s.review && !isTerminal(s.migration.state)) printReview(ctx, s.migration.alias, s.review);
          }
        });
        return 0;
      }
      case 'step': {
        const m = await resolveMigration(service, args.target);
        const signal = ctx.interrupt();
        const report = await withProgress(ctx, `backfill ${m.to}`, (onProgress) =>
          service.step(m.id, {
            onProgress,
            signal,
            ...(args.maxBatches !== undefined ? { maxBatches: args.maxBatches } : {}),
            ...(args.maxSeconds !== undefined ? { maxMs: args.maxSeconds * 1000 } : {}),
          }),
        );
        const code = printReport(ctx, report);
        const backfilled = report.steps.find((s) => s.name === 'backfill')?.data as
          | { report?: { status?: string } }
          | undefined;
        if (backfilled?.report?.status !== 'aborted') return code;
        return endInterrupted(
          ctx,
          `The step was interrupted; the backfill's progress is checkpointed. Resume with: reembed migrate step ${args.target}`,
        );
      }
      case 'cutover': {
        const m = await resolveMigration(service, args.target);
        return printReport(
          ctx,
          await service.cutover(m.id, {
            force: args.force,
            ...(args.reason ? { reason: args.reason } : {}),
            ...(args.golden ? { golden: args.golden } : {}),
          }),
        );
      }
      case 'rollback': {
        const m = await resolveMigration(service, args.target);
        return printReport(ctx, await service.rollback(m.id, args.reason ? { reason: args.reason } : {}));
      }
      case 'finish': {
        const m = await resolveMigration(service, args.target);
        return printReport(
          ctx,
          await service.finish(m.id, { reason: args.reason ?? '', retireNow: args.retireNow === true }),
        );
      }
    }
  });
}

function input(args: MigrateArgs, cwd: string): MigrationInput {
  if (!args.target || !args.to || !args.strategy) {
    throw new ReembedError(
      'INVALID_INPUT',
      'Give the alias, --to <space> and --strategy, e.g. `reembed migrate start docs --to v2 --strategy shadow`.',
    );
  }
  // A golden set given as a path relative to where the command ran is stored absolute: the gates read it
  // again at every step and at the cutover, which may run from elsewhere.
  const golden = args.options.golden;
  const options =
    typeof golden === 'string' && !isAbsolute(golden) && existsSync(resolve(cwd, golden))
      ? { ...args.options, golden: resolve(cwd, golden) }
      : args.options;
  return { alias: args.target, to: args.to, strategy: args.strategy, options };
}

/** Renders backfill progress as a bar on terminals while `fn` runs. */
export async function withProgress<T>(
  ctx: CliContext,
  label: string,
  fn: (onProgress: (p: BackfillProgress) => void) => Promise<T>,
): Promise<T> {
  let task: ReturnType<CliContext['progress']['start']> | null = null;
  let count: ReturnType<typeof runningCount> | null = null;
  try {
    return await fn((p) => {
      // The pass scans deleted documents too (to apply their tombstones): say so, so the total is no mystery.
      const rows = p.live !== null && p.total !== p.live ? ` (${p.live} live of ${p.total} rows)` : '';
      task ??= ctx.progress.start(`${label}${rows}`, { total: p.total, unit: 'rows' });
      count ??= runningCount(task);
      count(p.done, p.total);
    });
  } finally {
    (task as { end(): void } | null)?.end();
  }
}

function printPlan(ctx: CliContext, plan: MigrationPlan): void {
  const e = plan.estimate;
  const { bold, green, red, yellow, dim } = ctx.out.style;
  ctx.out.line(`Plan: ${plan.alias} ${plan.from} → ${plan.to} (${plan.strategy})`);
  ctx.out.line(
    `  documents  ${e.documents} (${e.toEmbed} to embed, ${e.documents - e.toEmbed} already current)`,
  );
  ctx.out.line(
    `  tokens     ${e.tokens} in ${e.chunks} chunks (${plan.tokenizer.exact ? `exact, ${plan.tokenizer.name}` : `estimated: ${plan.tokenizer.name}`})`,
  );
  ctx.out.line(`  cost       $${e.costUsd.toFixed(4)} at $${plan.space.pricePerMillionTokens}/1M tokens`);
  ctx.out.line(
    e.latencySource === 'unknown' && e.bottleneck === 'latency'
      ? `  time       not measured (no embedding call was made): pass --latency-ms, or plan without --cost-only`
      : `  time       ~${formatDuration(e.seconds)} (${e.batches} batches, bound by ${e.bottleneck}; ${e.latencySource} latency ${Math.round(e.batchLatencyMs)} ms/batch)`,
  );
  const f = plan.forecast;
  if (f) {
    const color = f.verdict === 'go' ? green : f.verdict === 'no-go' ? red : yellow;
    ctx.out.line(
      `  forecast   ${bold(color(f.verdict))} ${dim(`(probe, not judged: ${f.sample.queries} known-item queries over a sample of ${f.sample.documents} documents embedded in both spaces, $${f.sample.costUsd.toFixed(4)}, ${f.seconds.toFixed(1)} s)`)}`,
    );
    for (const [metric, m] of Object.entries(f.metrics ?? {})) {
      const d = `${m.diff >= 0 ? '+' : ''}${m.diff.toFixed(3)}`;
      ctx.out.line(
        `             ${metric.padEnd(10)} old ${m.old.toFixed(3)}  new ${m.new.toFixed(3)}  diff ${d} [${m.ci95[0].toFixed(3)}, ${m.ci95[1].toFixed(3)}]`,
      );
    }
    if (f.overlap !== null)
      ctx.out.line(`             agreement  overlap@10 ${f.overlap.toFixed(3)} over the sample`);
    for (const r of f.reasons) ctx.out.line(`             ${dim(r)}`);
  } else if ('unavailable' in plan.probe) {
    ctx.out.line(`  forecast   not available: ${plan.probe.unavailable}`);
  } else ctx.out.line(`  forecast   not run (--cost-only: no embedding call)`);
  printGates(ctx, plan.gates);
  for (const s of e.steps) ctx.out.line(`  ${s.state.padEnd(11)} ${s.action}`);
}

/** The shadow-diff review's labels, and how the gates come to read them. */
function printReview(ctx: CliContext, alias: string, review: MigrationReview): void {
  const { dim } = ctx.out.style;
  if (review.judgments === 0) {
    ctx.out.line(
      `  review     no labels yet ${dim(`(reembed serve: the dashboard's review queue shows the documents the new namespace loses and gains; labels are stored as ${review.golden})`)}`,
    );
    return;
  }
  ctx.out.line(
    `  review     ${review.golden}: ${review.queries} queries, ${review.judgments} judgments labelled` +
      (review.usedByGates
        ? ' (the gates read it)'
        : ` — gates read it with: reembed migrate cutover ${alias} --golden ${review.golden}`),
  );
}

/** The gates that apply and why, with the verdict of the latest evaluation when there is one. */
export function printGates(
  ctx: CliContext,
  gates: readonly GatePlanEntry[],
  last: Readonly<Record<string, unknown>> | null = null,
): void {
  const { green, red, dim } = ctx.out.style;
  const results = (last?.results ?? []) as { rule: string; passed: boolean; detail: string }[];
  const probe = last?.probe as
    | { name: string; queries: number; old: Record<string, number>; new: Record<string, number> }
    | undefined;
  ctx.out.line(`  gates${last ? dim(` (last evaluated ${String(last.at)})`) : ''}`);
  for (const g of gates) {
    const r = results.find((x) => x.rule === g.rule);
    const mark = r ? (r.passed ? green('✓') : red('✗')) : dim('·');
    ctx.out.line(`    ${mark} ${g.rule.padEnd(30)} ${dim(g.why)}`);
    if (r && !r.passed) ctx.out.line(`      ${r.detail}`);
  }
  if (probe) {
    const f = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(4));
    ctx.out.line(
      `  probe      probe:${probe.name} (${probe.queries} queries, not judged): old MRR@10 ${f(probe.old['mrr@10'])} recall@10 ${f(probe.old['recall@10'])}; new MRR@10 ${f(probe.new['mrr@10'])} recall@10 ${f(probe.new['recall@10'])}`,
    );
  }
}

export function printReport(ctx: CliContext, report: MigrationReport): number {
  ctx.out.result(report, () => {
    const { green, red, dim } = ctx.out.style;
    const m = report.migration;
    ctx.out.line(`${m.id}: ${m.state} (${m.strategy}, ${m.from} → ${m.to})`);
    for (const s of report.steps) {
      const mark = s.status === 'done' ? green('✓') : s.status === 'failed' ? red('✗') : dim('-');
      ctx.out.line(`  ${mark} ${s.name.padEnd(10)} ${s.detail}`);
      const data = s.data as { report?: { rate?: number; elapsedMs?: number } } | undefined;
      if (data?.report?.rate !== undefined) {
        ctx.out.line(
          dim(
            `               ${formatRate(data.report.rate)} docs/s over ${formatDuration((data.report.elapsedMs ?? 0) / 1000)}`,
          ),
        );
      }
    }
  });
  return report.ok ? 0 : 1;
}

/** Migration and backfill options shared by `plan` and `start` (validated again by the library). */
export function addMigrationOptions(command: Command): Command {
  return command
    .requiredOption('--to <space>', 'target space (registered with reembed space add)')
    .addOption(
      new Option('--strategy <strategy>', 'migration strategy')
        .choices(MIGRATION_STRATEGIES)
        .makeOptionMandatory(),
    )
    .option(
      '--gate <rule>',
      'cutover gate rule, e.g. "ndcg@10 >= old - 0.01"; repeatable (replaces the defaults)',
      collect,
    )
    .option('--golden <path>', 'golden set (BEIR dir or JSONL) evaluated on both namespaces for the gates')
    .option(
      '--probe <name>',
      'stored probe set for the quality gates when there is no golden set (default: probe:<collection>, built at start)',
    )
    .option('--no-probe', 'no probe: without --golden the default gates then refuse a cutover unless forced')
    .option(
      '--keep-queries <n>',
      'shadow: keep the last N query texts served through the alias for `migrate replay --recent` (opt-in)',
      integerOption(1, 1_000_000),
    )
    .option('--keep-queries-for <duration>', 'how long kept query texts live (default 24h)')
    .option(
      '--sample-rate <r>',
      'shadow: share of queries also run on the new namespace (0-1)',
      numberOption(0),
    )
    .option('--min-shadow-samples <n>', 'shadow: agreement samples needed before cutover', integerOption(0))
    .option(
      '--steps <list>',
      'progressive: traffic percentages, one per `migrate step`, e.g. 10,25,50,100',
      parseSteps,
    )
    .option(
      '--step-hold <duration>',
      'progressive: observe each traffic step this long before the next (e.g. 30m; default 0s)',
    )
    .option('--no-tenants', 'progressive: do not move complete tenants ahead of the percentage')
    .addOption(
      new Option('--fusion <method>', 'lazy: fusion').choices([
        'rrf',
        'minmax',
        'zscore',
        'coverage-aware-rrf',
        'coverage-aware-score',
      ]),
    )
    .option('--rrf-k <k>', 'lazy: reciprocal rank fusion constant', numberOption(1))
    .option('--no-embed-on-read', 'lazy: do not embed unmigrated top hits in the new space at query time')
    .option(
      '--rerank-depth <n>',
      "lazy: embed on read and re-rank the old (or bridged) list's top n by the new model, then cut to k (default k; 30 with --bridge)",
      integerOption(1, 1_000),
    )
    .option('--rollback-window <duration>', 'keep the old namespace this long after cutover (e.g. 7d)')
    .addOption(
      new Option(
        '--bridge <direction>',
        'lazy or progressive: serve the new model at once through a gated adapter (query: map queries into the old namespace; corpus: its derived namespace); the old model is never called',
      ).choices(['query', 'corpus']),
    )
    .option('--adapter <name>', 'with --bridge: the adapter (default: the newest that passed its gate)');
}

/** The backfill's tuning options (`migrate plan|start`, `backfill run`, `worker plan`). */
const BACKFILL_SETTINGS = [
  setting('--concurrency <n>', 'batches in flight', integerOption(1, 256)),
  setting('--batch-size <n>', 'documents per batch', integerOption(1, 100_000)),
  setting('--max-batch-tokens <n>', 'tokens per batch', integerOption(1)),
  setting('--rate-limit <rpm>', 'embedding requests per minute', numberOption(0.001), 'requestsPerMinute'),
  setting('--tokens-per-minute <n>', 'embedding tokens per minute', numberOption(1)),
  setting('--max-retries <n>', 'retries of a batch on transient errors', integerOption(0, 100)),
  setting('--timeout-ms <ms>', 'per-call embedding timeout', integerOption(1)),
];

export function addBackfillOptions(command: Command): Command {
  return addSettingOptions(command, BACKFILL_SETTINGS);
}

export function backfillSettingsOf(o: Opts): Record<string, number> {
  return settingsOf(o, BACKFILL_SETTINGS);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseSteps(value: string): number[] {
  const steps = value.split(',').map((s) => Number(s.trim()));
  if (steps.some((s) => !Number.isFinite(s) || s <= 0 || s > 100))
    throw new InvalidArgumentError(`expected percentages like 10,25,50,100, got "${value}".`);
  return steps;
}

function migrateArgs(action: MigrateArgs['action']) {
  return (p: readonly unknown[], o: Opts): MigrateArgs => {
    const options: Record<string, unknown> = {};
    if (Array.isArray(o.gate)) options.gates = o.gate;
    if (typeof o.golden === 'string' && (action === 'plan' || action === 'start')) options.golden = o.golden;
    if (typeof o.sampleRate === 'number') options.sampleRate = o.sampleRate;
    if (typeof o.minShadowSamples === 'number') options.minShadowSamples = o.minShadowSamples;
    if (Array.isArray(o.steps)) options.steps = o.steps;
    if (typeof o.stepHold === 'string') options.stepHold = o.stepHold;
    if (o.tenants === false) options.tenants = false;
    if (typeof o.fusion === 'string' || o.embedOnRead === false || typeof o.rerankDepth === 'number')
      options.fusion = {
        method: typeof o.fusion === 'string' ? o.fusion : 'coverage-aware-score',
        ...(typeof o.rrfK === 'number' ? { rrfK: o.rrfK } : {}),
        ...(o.embedOnRead === false ? { embedOnRead: false } : {}),
        ...(typeof o.rerankDepth === 'number' ? { rerankDepth: o.rerankDepth } : {}),
      };
    if (typeof o.rollbackWindow === 'string') options.rollbackWindow = o.rollbackWindow;
    if (typeof o.bridge === 'string')
      options.bridge = { direction: o.bridge, ...(stringOf(o.adapter) ? { adapter: o.adapter } : {}) };
    else if (stringOf(o.adapter))
      throw new ReembedError('INVALID_INPUT', '--adapter goes with --bridge query|corpus: add --bridge.', {
        details: { field: 'adapter' },
      });
    if (action === 'plan' || action === 'start') {
      if (typeof o.probe === 'string') options.probe = o.probe;
      if (o.probe === false) options.probe = false;
      if (typeof o.keepQueries === 'number')
        options.keepQueries = {
          max: o.keepQueries,
          ...(typeof o.keepQueriesFor === 'string' ? { for: o.keepQueriesFor } : {}),
        };
    }
    const backfill = backfillSettingsOf(o);
    if (Object.keys(backfill).length > 0) options.backfill = backfill;
    return {
      action,
      ...(typeof p[0] === 'string' ? { target: p[0] } : {}),
      ...(stringOf(o.to) ? { to: o.to as string } : {}),
      ...(stringOf(o.strategy) ? { strategy: o.strategy as MigrationStrategy } : {}),
      options: options as MigrationOptionsInput,
      ...(numberOf(o.latencyMs) !== undefined ? { latencyMs: o.latencyMs as number } : {}),
      ...(numberOf(o.sample) !== undefined ? { sample: o.sample as number } : {}),
      ...(numberOf(o.maxSampleCost) !== undefined ? { maxSampleCost: o.maxSampleCost as number } : {}),
      ...(o.costOnly === true ? { costOnly: true } : {}),
      ...(numberOf(o.maxBatches) !== undefined ? { maxBatches: o.maxBatches as number } : {}),
      ...(numberOf(o.maxSeconds) !== undefined ? { maxSeconds: o.maxSeconds as number } : {}),
      force: o.force === true,
      ...(o.retireNow === true ? { retireNow: true } : {}),
      ...(stringOf(o.reason) ? { reason: o.reason as string } : {}),
      ...(stringOf(o.golden) ? { golden: o.golden as string } : {}),
    };
  };
}

export const migrateCommand: CliCommand = (migrateCmd, bind) => {
  addBackfillOptions(
    addMigrationOptions(
      migrateCmd
        .command('plan <alias>')
        .description(
          'documents, tokens, cost, time, gates and a forecast (go / no-go) from a small sample; changes nothing',
        ),
    ),
  )
    .option(
      '--latency-ms <ms>',
      'assume this per-batch latency instead of measuring it on the sample',
      numberOption(0),
    )
    .option('--cost-only', 'no embedding call at all (offline): counts, tokens, cost and gates; no forecast')
    .option('--sample <n>', 'documents in the forecast sample (default 200)', integerOption(30, 100_000))
    .option(
      '--max-sample-cost <usd>',
      'refuse to spend more than this on the forecast sample (default 0.10)',
      numberOption(0),
    )
    .action(bind(migrate, migrateArgs('plan')));
  addBackfillOptions(
    addMigrationOptions(
      migrateCmd
        .command('start <alias>')
        .description('create the target namespace (dual-writes start now) and route the alias'),
    ),
  ).action(bind(migrate, migrateArgs('start')));
  migrateCmd
    .command('status [alias]')
    .description(
      'state, routing, coverage, backfill and agreement of a migration (all unfinished ones without an alias)',
    )
    .action(bind(migrate, migrateArgs('status')));
  migrateCmd
    .command('step <alias>')
    .description("do the current state's work (backfill, validation, next rollout step) and advance")
    .option('--max-batches <n>', 'stop the backfill after this many batches (resumable)', integerOption(1))
    .option('--max-seconds <s>', 'stop the backfill after this long (resumable)', numberOption(0.001))
    .action(bind(migrate, migrateArgs('step')));
  migrateCmd
    .command('cutover <alias>')
    .description('evaluate the gates, then point the alias at the new namespace in one atomic write')
    .option('--force', 'cut over although gates fail (needs --reason; audited)')
    .addOption(reasonOption())
    .option('--golden <path>', 'golden set for new.* / old.* gate facts')
    .action(bind(migrate, migrateArgs('cutover')));
  registerReplay(migrateCmd, bind);
  migrateCmd
    .command('rollback <alias>')
    .description('serve the old namespace again; both namespaces are kept')
    .addOption(reasonOption())
    .action(bind(migrate, migrateArgs('rollback')));
  migrateCmd
    .command('finish <alias>')
    .description(
      'close a migration that has cut over before its rollback window ends (no rollback afterwards); the alias can migrate again',
    )
    .addOption(
      reasonOption(
        'why the rollback window is closed early (written to the audit log)',
      ).makeOptionMandatory(),
    )
    .option(
      '--retire-now',
      'drop the old namespace now (default: it keeps its schedule and `reembed retire run` drops it once its window elapsed and nothing reads it)',
    )
    .action(bind(migrate, migrateArgs('finish')));
};
