import { defined } from '../../core/defined.js';
import type { AuditEntry } from '../../ports/catalog.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { integerOption, stringOf } from '../options.js';

export interface AuditArgs {
  readonly actor?: string;
  readonly target?: string;
  readonly action?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit: number;
}

const DETAIL_KEYS = ['reason', 'from', 'to', 'routing', 'failed', 'forcedGates', 'fingerprint', 'state'];

/** The details of an entry in one short line: its reason and a few telling fields first, then the rest. */
export function auditDetail(entry: AuditEntry, width = 100): string {
  const d = entry.details as Record<string, unknown>;
  const parts: string[] = [];
  const show = (key: string, value: unknown): void => {
    if (value === null || value === undefined) return;
    const text =
      typeof value === 'string'
        ? value
        : key === 'routing' && typeof value === 'object'
          ? routingText(value as Record<string, unknown>)
          : JSON.stringify(value);
    parts.push(`${key}=${text}`);
  };
  for (const key of DETAIL_KEYS) show(key, d[key]);
  for (const [key, value] of Object.entries(d)) if (!DETAIL_KEYS.includes(key)) show(key, value);
  const line = parts.join(' ');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

function routingText(r: Record<string, unknown>): string {
  return r.kind === 'single'
    ? String(r.namespace)
    : `${String(r.kind)}(${String(r.primary)},${String(r.next ?? r.shadow)})`;
}

/**
 * `reembed audit [--actor A] [--target T] [--action A] [--since WHEN] [--until WHEN] [--limit N] [--json]`:
 * the append-only audit log, oldest first (the newest `--limit` matching entries). `--target`, `--action`
 * and `--actor` take `*` as a wildcard (`--action 'migration.*'`, `--target 'docs@*'`); `--since` and
 * `--until` take an instant (`2025-05-01`, `2025-05-01T12:00:00Z`) or a duration before now (`24h`, `7d`).
 */
export async function audit(ctx: CliContext, args: AuditArgs): Promise<number> {
  // The global --actor names who acts; reading the log changes nothing, so here it filters by actor.
  const actor = args.actor ?? ctx.globals.actor ?? undefined;
  const entries = await (await ctx.app()).auditLog({
    ...(actor !== undefined ? { actor } : {}),
    ...(args.target !== undefined ? { target: args.target } : {}),
    ...(args.action !== undefined ? { action: args.action } : {}),
    ...(args.since !== undefined ? { since: args.since } : {}),
    ...(args.until !== undefined ? { until: args.until } : {}),
    limit: args.limit,
  });
  ctx.out.result(entries, () => {
    ctx.out.table(
      [
        { header: 'ID', value: (e: AuditEntry) => e.id, align: 'right' },
        { header: 'AT', value: (e: AuditEntry) => e.at },
        { header: 'ACTOR', value: (e: AuditEntry) => e.actor },
        { header: 'ACTION', value: (e: AuditEntry) => e.action },
        { header: 'TARGET', value: (e: AuditEntry) => e.subject },
        { header: 'DETAILS', value: (e: AuditEntry) => auditDetail(e) },
      ],
      entries,
      'No audit entries match.',
    );
    if (entries.length === args.limit && args.limit === DEFAULT_LIMIT)
      ctx.out.note(`showing the newest ${args.limit} matching entries; --limit N shows more`);
  });
  return 0;
}

const DEFAULT_LIMIT = 100;

export const auditCommand: CliCommand = (command, bind) =>
  command
    .option(
      '--target <name>',
      'only entries about this space, collection, namespace, alias or migration (* is a wildcard)',
    )
    .option(
      '--action <name>',
      "only this action, e.g. alias.set, 'migration.*', gate.forced (* is a wildcard)",
    )
    .option(
      '--since <when>',
      'from this instant (2025-05-01, 2025-05-01T12:00:00Z) or duration ago (24h, 7d)',
    )
    .option('--until <when>', 'before this instant or duration ago')
    .option('--limit <n>', 'the newest N matching entries', integerOption(1, 1_000_000), DEFAULT_LIMIT)
    .action(
      bind(
        audit,
        (_p, o): AuditArgs =>
          defined({
            target: stringOf(o.target),
            action: stringOf(o.action),
            since: stringOf(o.since),
            until: stringOf(o.until),
            limit: o.limit as number,
          }),
      ),
    );
