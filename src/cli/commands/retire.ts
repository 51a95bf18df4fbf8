import { InvalidArgumentError } from 'commander';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { withMigrations } from './migrate.js';

export interface RetireArgs {
  readonly now?: Date;
  readonly dryRun: boolean;
  readonly ignoreWindow: boolean;
}

/**
 * `reembed retire run`: drops the vectors of retiring namespaces whose rollback window elapsed with no
 * traffic, and marks them retired (their manifests stay). Schedule it (cron) or let the server run it.
 */
export async function retire(ctx: CliContext, args: RetireArgs): Promise<number> {
  return withMigrations(ctx, async (service) => {
    const report = await service.retire({
      ...(args.now ? { now: args.now } : {}),
      dryRun: args.dryRun,
      ignoreWindow: args.ignoreWindow,
    });
    ctx.out.result(report, () => {
      if (report.namespaces.length === 0) ctx.out.line('No namespace is retiring.');
      for (const n of report.namespaces) ctx.out.line(`${n.namespace}: ${n.status} — ${n.reason}`);
    });
    return report.namespaces.some((n) => n.status === 'failed') ? 1 : 0;
  });
}

function parseInstant(value: string): Date {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`expected an ISO date-time, got "${value}".`);
  return new Date(ms);
}

export const retireCommand: CliCommand = (command, bind) => {
  command
    .command('run')
    .description('drop retiring namespaces whose rollback window elapsed with no traffic')
    .option('--now <iso>', 'evaluate windows as of this instant (default: now)', parseInstant)
    .option('--dry-run', 'report what would be retired, change nothing')
    .option('--ignore-window', 'retire even inside the rollback window or with recent traffic (audited)')
    .action(
      bind(retire, (_p, o) => ({
        ...(o.now instanceof Date ? { now: o.now } : {}),
        dryRun: o.dryRun === true,
        ignoreWindow: o.ignoreWindow === true,
      })),
    );
};
