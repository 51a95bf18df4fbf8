import type { MonitorCheck } from '../../monitor/checks.js';
import { runMonitor } from '../../monitor/run.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { durationOption, numberOption } from '../options.js';

/**
 * Exit code of `reembed monitor` when at least one check raised an alert (distinct from every error exit
 * code, so cron can tell "the data is wrong" from "the monitor could not run").
 */
export const MONITOR_ALERT_EXIT = 11;

export interface MonitorArgs {
  readonly collection?: string;
  /** Traffic window in ms (default 24 h). */
  readonly windowMs?: number;
  readonly p99WarnMs?: number;
  /** Exit non-zero on warnings too. */
  readonly strict?: boolean;
}

/**
 * `reembed monitor [--collection NAME] [--since 24h] [--json]`: runs every check once — fingerprint and
 * dimension of stored records, coverage, stale and resurrected documents, traffic share, latency p50/p99,
 * mixed-version rate — prints them and exits 11 when an alert fired (0 otherwise; with `--strict`, a
 * warning also exits 11). Meant for cron.
 */
export async function monitor(ctx: CliContext, args: MonitorArgs): Promise<number> {
  const app = await ctx.app();
  const now = new Date();
  const report = await runMonitor(app, {
    now,
    ...(args.collection !== undefined ? { collection: args.collection } : {}),
    ...(args.windowMs !== undefined ? { since: new Date(now.getTime() - args.windowMs) } : {}),
    ...(args.p99WarnMs !== undefined ? { thresholds: { latencyP99WarnMs: args.p99WarnMs } } : {}),
  });
  const failed = report.alerts > 0 || (args.strict === true && report.warnings > 0);
  ctx.out.result(report, () => {
    if (report.checks.length === 0) {
      ctx.out.line(
        'No namespaces to monitor. Create a collection: reembed collection create docs --space <space>',
      );
      return;
    }
    const { red, yellow, green } = ctx.out.style;
    const paint = (c: MonitorCheck): string =>
      c.status === 'alert' ? red('ALERT') : c.status === 'warn' ? yellow('warn') : green('ok');
    ctx.out.table(
      [
        { header: 'NAMESPACE', value: (c: MonitorCheck) => c.namespace },
        { header: 'CHECK', value: (c: MonitorCheck) => c.check },
        { header: 'STATUS', value: paint },
        { header: 'VALUE', value: (c: MonitorCheck) => c.value, align: 'right' },
        { header: 'DETAIL', value: (c: MonitorCheck) => c.detail },
      ],
      report.checks,
    );
    ctx.out.line();
    const summary = `${report.alerts} alert(s), ${report.warnings} warning(s) over ${report.namespaces.length} namespace(s)`;
    ctx.out.line(report.alerts > 0 ? red(summary) : report.warnings > 0 ? yellow(summary) : green(summary));
    if (report.since === null)
      ctx.out.line(ctx.out.style.dim('Traffic checks skipped: this backend records no traffic statistics.'));
  });
  return failed ? MONITOR_ALERT_EXIT : 0;
}

export const monitorCommand: CliCommand = (command, bind) =>
  command
    .option('--collection <name>', 'only this collection')
    .option('--since <duration>', 'traffic window, e.g. 1h, 24h, 7d', durationOption)
    .option('--p99-warn-ms <ms>', 'warn when read latency p99 exceeds this (default 1000)', numberOption(0))
    .option('--strict', `exit ${MONITOR_ALERT_EXIT} on warnings too`)
    .addHelpText(
      'after',
      `\nExit codes: 0 no alert, ${MONITOR_ALERT_EXIT} at least one alert (or warning with --strict), others: the monitor could not run.`,
    )
    .action(
      bind(monitor, (_p, o) => ({
        ...(typeof o.collection === 'string' ? { collection: o.collection } : {}),
        ...(typeof o.since === 'number' ? { windowMs: o.since } : {}),
        ...(typeof o.p99WarnMs === 'number' ? { p99WarnMs: o.p99WarnMs } : {}),
        ...(o.strict === true ? { strict: true } : {}),
      })),
    );
