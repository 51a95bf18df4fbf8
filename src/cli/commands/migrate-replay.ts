import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ReplaySource } from '../../app/migrate-replay.js';
import { ReembedError } from '../../core/errors.js';
import type { Bind } from '../command.js';
import type { CliContext } from '../context.js';
import { integerOption, stringOf } from '../options.js';
import { runningCount } from '../progress.js';
import { resolveMigration, withMigrations } from './migrate.js';

export interface ReplayArgs {
  readonly target?: string;
  readonly probe?: string;
  readonly file?: string;
  readonly recent: boolean;
  readonly limit?: number;
  readonly k?: number;
}

/**
 * `reembed migrate replay <alias>`: runs queries through both namespaces of a shadow migration and records
 * their agreement — the migration's probe queries by default, `--file` a query file, `--recent` queries
 * served through the alias (kept only with `--keep-queries`). A shadow gate is then met in minutes.
 */
export async function replay(ctx: CliContext, args: ReplayArgs): Promise<number> {
  const chosen = [args.probe !== undefined, args.file !== undefined, args.recent].filter(Boolean).length;
  if (chosen > 1)
    throw new ReembedError('INVALID_INPUT', 'Replay one source: --probe NAME, --file FILE or --recent.');
  const source: ReplaySource = args.file
    ? { kind: 'file', path: resolve(ctx.io.cwd, args.file) }
    : args.recent
      ? { kind: 'recent' }
      : { kind: 'probe', ...(args.probe ? { probe: args.probe } : {}) };
  return withMigrations(ctx, async (service) => {
    const m = await resolveMigration(service, args.target);
    const task = ctx.progress.start(`replay ${m.alias}`, { unit: 'queries' });
    const count = runningCount(task);
    let report: Awaited<ReturnType<typeof service.replay>>;
    try {
      report = await service.replay(m.id, {
        source,
        ...(args.limit !== undefined ? { limit: args.limit } : {}),
        ...(args.k !== undefined ? { k: args.k } : {}),
        onProgress: ({ done, total }) => count(done, total),
      });
    } finally {
      task.end();
    }
    ctx.out.result(report, () => {
      const a = report.agreement;
      const f = (n: number | null | undefined): string =>
        n === null || n === undefined ? '-' : n.toFixed(3);
      ctx.out.line(
        `Replayed ${report.queries} queries from ${report.source} on ${m.from} and ${m.to}: ${report.recorded} samples recorded` +
          (report.failed ? `, ${report.failed} failed` : ''),
      );
      ctx.out.line(`  this replay   overlap@${args.k ?? 10} ${f(report.overlap)}, RBO ${f(report.rbo)}`);
      ctx.out.line(
        `  shadowing     ${a.samples} samples in all; overlap@10 ${f(a.overlap[10])}, RBO ${f(a.rbo)}`,
      );
      ctx.out.line(`Next: reembed migrate cutover ${m.alias}   (gates: reembed migrate status ${m.alias})`);
    });
    return 0;
  });
}

export function registerReplay(migrateCmd: Command, bind: Bind): void {
  migrateCmd
    .command('replay <alias>')
    .description(
      "record shadow agreement now: run queries through both namespaces (default: the migration's probe queries)",
    )
    .option('--probe <name>', 'replay this stored probe set (default: the migration’s)')
    .option(
      '--file <file>',
      'replay queries from a file: JSONL {"query": ..., "tenant": ...} or one per line',
    )
    .option('--recent', 'replay queries recently served through the alias (needs --keep-queries at start)')
    .option('--limit <n>', 'at most this many queries', integerOption(1))
    .option('-k, --k <n>', 'results compared per query (default 10)', integerOption(1, 1000))
    .action(
      bind(replay, (p, o) => ({
        ...(stringOf(p[0]) ? { target: p[0] as string } : {}),
        ...(stringOf(o.probe) ? { probe: o.probe as string } : {}),
        ...(stringOf(o.file) ? { file: o.file as string } : {}),
        recent: o.recent === true,
        ...(typeof o.limit === 'number' ? { limit: o.limit } : {}),
        ...(typeof o.k === 'number' ? { k: o.k } : {}),
      })),
    );
}
