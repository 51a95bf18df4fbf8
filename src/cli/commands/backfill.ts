import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { endInterrupted } from '../interrupt.js';
import { integerOption, numberOf, numberOption } from '../options.js';
import { formatDuration, formatRate } from '../progress.js';
import { addBackfillOptions, backfillSettingsOf, withMigrations, withProgress } from './migrate.js';

export interface BackfillArgs {
  readonly action: 'run' | 'retry-dead';
  /** A namespace (`docs@v2`) or an alias whose migration target is meant. */
  readonly target: string;
  readonly settings: Record<string, number>;
  readonly maxBatches?: number;
  readonly maxSeconds?: number;
}

/**
 * `reembed backfill run <namespace|alias>`: re-encodes the sources into a namespace — resumable from its
 * checkpoint, idempotent, rate-limited — with a progress bar (done/total, rate, ETA).
 * `reembed backfill retry-dead <namespace|alias>`: retries the dead-lettered sources.
 * Exits 0 when the pass finished, 1 when it failed (it resumes on the next run), 130 when interrupted.
 */
export async function backfill(ctx: CliContext, args: BackfillArgs): Promise<number> {
  return withMigrations(ctx, async (service) => {
    const migration = args.target.includes('@') ? null : await service.current(args.target);
    const target = migration ? { migration } : { namespace: args.target };
    const runner = await service.backfill({
      ...target,
      settings: args.settings,
      mode: args.action === 'retry-dead' ? 'dead-letters' : 'pass',
    });
    const signal = ctx.interrupt();
    const report = await withProgress(ctx, `backfill ${migration?.to ?? args.target}`, (onProgress) => {
      runner.on('progress', onProgress);
      return runner.run({
        signal,
        ...(args.maxBatches !== undefined ? { maxBatches: args.maxBatches } : {}),
        ...(args.maxSeconds !== undefined ? { maxMs: args.maxSeconds * 1000 } : {}),
      });
    });
    ctx.out.result(report, () => {
      ctx.out.line(
        `${report.status}: ${report.written} written, ${report.skipped} already current, ${report.deadLettered} dead-lettered, ` +
          `${report.retries} retries — ${formatRate(report.rate)} docs/s over ${formatDuration(report.elapsedMs / 1000)}`,
      );
      if (report.error && report.status !== 'aborted')
        ctx.out.line(`  ${report.error.code}: ${report.error.message}`);
      if (report.deadLettered > 0)
        ctx.out.line(
          `  inspect with reembed migrate status; retry with reembed backfill retry-dead ${args.target}`,
        );
    });
    if (report.status === 'aborted') {
      const resume = `reembed backfill ${args.action} ${args.target}`;
      return endInterrupted(
        ctx,
        `The backfill was interrupted; everything it wrote is checkpointed. Resume with: ${resume}`,
      );
    }
    return report.status === 'done' || report.status === 'paused' ? 0 : 1;
  });
}

const toArgs =
  (action: BackfillArgs['action']) =>
  (p: readonly unknown[], o: Readonly<Record<string, unknown>>): BackfillArgs => ({
    action,
    target: p[0] as string,
    settings: backfillSettingsOf(o),
    ...(numberOf(o.maxBatches) !== undefined ? { maxBatches: o.maxBatches as number } : {}),
    ...(numberOf(o.maxSeconds) !== undefined ? { maxSeconds: o.maxSeconds as number } : {}),
  });

export const backfillCommand: CliCommand = (cmd, bind) => {
  addBackfillOptions(
    cmd
      .command('run <target>')
      .description('run (or resume) the backfill of a namespace or of an alias’s migration'),
  )
    .option('--max-batches <n>', 'stop after this many batches (resumable)', integerOption(1))
    .option('--max-seconds <s>', 'stop after this long (resumable)', numberOption(0.001))
    .action(bind(backfill, toArgs('run')));
  addBackfillOptions(
    cmd.command('retry-dead <target>').description('retry the dead-lettered sources of a namespace'),
  ).action(bind(backfill, toArgs('retry-dead')));
};
