import type { AliasView } from '../../app/aliases.js';
import { aliasHistory } from '../../app/aliases.js';
import { defined } from '../../core/defined.js';
import type { Routing } from '../../core/routing.js';
import type { AuditEntry } from '../../ports/catalog.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { integerOption, reasonOption, stringOf } from '../options.js';
import { auditDetail } from './audit.js';

/** A routing in a few words: `docs@v1`, `docs@v1 + shadow docs@v2 (10%)`, `docs@v1 → docs@v2 25%`. */
export function routingLabel(routing: Routing): string {
  switch (routing.kind) {
    case 'single':
      return routing.namespace;
    case 'shadow':
      return `${routing.primary} + shadow ${routing.shadow} (${Math.round(routing.sampleRate * 100)}% sampled)`;
    case 'split': {
      const tenants = routing.tenants.length ? ` + tenants ${routing.tenants.join(',')}` : '';
      return `${routing.primary} → ${routing.next} ${routing.percent}%${tenants}`;
    }
    case 'fused':
      return `fused ${routing.primary} + ${routing.next} (${routing.fusion.method})`;
  }
}

function viewJson(v: AliasView): Record<string, unknown> {
  return {
    name: v.alias.name,
    collection: v.alias.collection,
    routing: v.alias.routing,
    version: v.alias.version,
    updatedAt: v.alias.updatedAt,
    migration: v.migration,
  };
}

/** `reembed alias list [--collection NAME]`. */
export async function aliasList(ctx: CliContext, args: { collection?: string }): Promise<number> {
  const views = await (await ctx.app()).listAliases(args.collection);
  ctx.out.result(views.map(viewJson), () => {
    ctx.out.table(
      [
        { header: 'ALIAS', value: (v: AliasView) => v.alias.name },
        { header: 'COLLECTION', value: (v: AliasView) => v.alias.collection },
        { header: 'ROUTES', value: (v: AliasView) => routingLabel(v.alias.routing) },
        { header: 'VERSION', value: (v: AliasView) => v.alias.version, align: 'right' },
        {
          header: 'MIGRATION',
          value: (v: AliasView) => (v.migration ? `${v.migration.id} (${v.migration.state})` : '-'),
        },
        { header: 'UPDATED', value: (v: AliasView) => v.alias.updatedAt },
      ],
      views,
      'No aliases yet. Create a collection (reembed collection create) or point one: reembed alias set <alias> <namespace>',
    );
  });
  return 0;
}

/** `reembed alias show <alias>`: routing, owning migration and the alias's audit history. */
export async function aliasShow(ctx: CliContext, args: { name: string; history: number }): Promise<number> {
  const app = await ctx.app();
  const view = await app.getAlias(args.name);
  const history = await aliasHistory(app.backend, args.name, args.history);
  ctx.out.result({ ...viewJson(view), history }, () => {
    const a = view.alias;
    ctx.out.line(
      `${ctx.out.style.bold(a.name)} (collection ${a.collection}, version ${a.version}, updated ${a.updatedAt})`,
    );
    ctx.out.line(`  routes     ${routingLabel(a.routing)}`);
    ctx.out.line(
      `  migration  ${view.migration ? `${view.migration.id} (${view.migration.strategy}, ${view.migration.state}): reembed migrate status ${a.name}` : 'none'}`,
    );
    if (history.length > 0) {
      ctx.out.line('  history');
      for (const e of history) ctx.out.line(`    ${historyLine(e)}`);
    }
  });
  return 0;
}

function historyLine(e: AuditEntry): string {
  return `${e.at}  ${e.actor}  ${e.action}  ${auditDetail(e, 90)}`;
}

export interface AliasSetArgs {
  readonly name: string;
  readonly namespace: string;
  readonly reason?: string;
  readonly force: boolean;
}

/** `reembed alias set <alias> <namespace> [--reason TEXT] [--force]`: audited; refusals in `setAliasTarget`. */
export async function aliasSet(ctx: CliContext, args: AliasSetArgs): Promise<number> {
  const change = await (await ctx.app()).setAlias(args.name, args.namespace, {
    ...(args.reason ? { reason: args.reason } : {}),
    force: args.force,
  });
  ctx.out.result(change, () => {
    if (!change.changed) {
      ctx.out.line(`Alias ${change.alias.name} already serves ${args.namespace}: nothing changed.`);
      return;
    }
    ctx.out.line(
      `Alias ${ctx.out.style.bold(change.alias.name)} → ${args.namespace} (version ${change.alias.version}` +
        `${change.previous ? `, was ${change.previous}` : ', new'})`,
    );
    for (const s of change.states) ctx.out.line(`  ${s.namespace}: ${s.from} → ${s.to}`);
  });
  return 0;
}

export const aliasCommand: CliCommand = (alias, bind) => {
  alias
    .command('list')
    .description('list aliases, what each routes to, and the migration that owns its routing')
    .option('--collection <name>', 'only aliases of this collection')
    .action(
      bind(aliasList, (_p, o) => (typeof o.collection === 'string' ? { collection: o.collection } : {})),
    );
  alias
    .command('show <alias>')
    .description('one alias: routing, migration and its audit history')
    .option('--history <n>', 'audit entries shown (newest)', integerOption(0, 10_000), 20)
    .action(bind(aliasShow, (p, o) => ({ name: p[0] as string, history: o.history as number })));
  alias
    .command('set <alias> <namespace>')
    .description(
      'create an alias, or point one at a namespace of its collection (audited; refused during a migration of the alias, or for a namespace not fully built unless --force)',
    )
    .addOption(reasonOption('why (written to the audit log; required with --force)'))
    .option('--force', 'serve a namespace that does not hold every live document at its current version')
    .action(
      bind(aliasSet, (p, o) => ({
        name: p[0] as string,
        namespace: p[1] as string,
        ...defined({ reason: stringOf(o.reason) }),
        force: o.force === true,
      })),
    );
};
