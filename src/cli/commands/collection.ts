import { defined } from '../../core/defined.js';
import { ReembedError } from '../../core/errors.js';
import type { Collection } from '../../ports/catalog.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { reasonOption, stringOf } from '../options.js';

export interface CollectionCreateArgs {
  readonly name: string;
  readonly space: string;
  readonly alias?: string;
}

/**
 * `reembed collection create <name> --space <space> [--alias NAME]`: a collection served by one namespace
 * (`<name>@<space>`) through an alias (default: the collection's name).
 */
export async function collectionCreate(ctx: CliContext, args: CollectionCreateArgs): Promise<number> {
  const app = await ctx.app();
  const created = await app.createCollection(args.name, args.space, args.alias ? { alias: args.alias } : {});
  const view = {
    collection: created.collection.name,
    namespace: created.namespace.name,
    space: created.namespace.space.name,
    fingerprint: created.namespace.space.fingerprint,
    alias: created.alias.name,
  };
  ctx.out.result(view, () => {
    ctx.out.line(`Created collection ${ctx.out.style.bold(view.collection)}`);
    ctx.out.line(`  namespace ${view.namespace} (${view.fingerprint}), serving`);
    ctx.out.line(`  alias ${view.alias} → ${view.namespace}`);
    ctx.out.line(ctx.out.style.dim(`Next: reembed ingest ${view.collection} corpus.jsonl`));
  });
  return 0;
}

export async function collectionList(ctx: CliContext, _args: Record<string, never>): Promise<number> {
  const catalog = (await ctx.app()).backend.catalog;
  const collections = await catalog.listCollections();
  const rows: { collection: Collection; namespaces: string[]; aliases: string[] }[] = [];
  for (const c of collections) {
    const namespaces = await catalog.listNamespaces(c.name);
    const aliases = await catalog.listAliases(c.name);
    rows.push({
      collection: c,
      namespaces: namespaces.map((n) => `${n.name} (${n.state})`),
      aliases: aliases.map((a) => a.name),
    });
  }
  ctx.out.result(
    rows.map((r) => ({
      name: r.collection.name,
      createdAt: r.collection.createdAt,
      namespaces: r.namespaces,
      aliases: r.aliases,
    })),
    () => {
      ctx.out.table(
        [
          { header: 'COLLECTION', value: (r: (typeof rows)[number]) => r.collection.name },
          { header: 'NAMESPACES', value: (r: (typeof rows)[number]) => r.namespaces.join(', ') },
          { header: 'ALIASES', value: (r: (typeof rows)[number]) => r.aliases.join(', ') },
          { header: 'CREATED', value: (r: { collection: Collection }) => r.collection.createdAt },
        ],
        rows,
        'No collections yet. Create one: reembed collection create docs --space <space>',
      );
    },
  );
  return 0;
}

export interface CollectionDeleteArgs {
  readonly name: string;
  readonly yes: boolean;
  readonly reason?: string;
}

/**
 * `reembed collection delete <name> --yes [--reason TEXT]`: deletes a collection with its namespaces
 * (vectors dropped), aliases, sources, jobs, finished migrations and probe sets; refused while a migration of it is
 * unfinished. Without `--yes` it lists what would be deleted and exits 2, changing nothing. Audited.
 */
export async function collectionDelete(ctx: CliContext, args: CollectionDeleteArgs): Promise<number> {
  const app = await ctx.app();
  const report = await app.deleteCollection(args.name, {
    dryRun: !args.yes,
    ...(args.reason ? { reason: args.reason } : {}),
  });
  const records = report.namespaces.reduce((n, ns) => n + ns.records, 0);
  const summary =
    `${report.namespaces.length} namespace(s) (${records} records), ${report.aliases.length} alias(es) ` +
    `(${report.aliases.join(', ') || '-'}), ${report.sources.live} live and ${report.sources.deleted} deleted source document(s), ` +
    `${report.migrations.length} finished migration(s)` +
    (report.probes.length ? `, probe set(s) ${report.probes.map((p) => `probe:${p}`).join(', ')}` : '');
  if (!args.yes) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Deleting collection "${args.name}" drops ${summary}; this cannot be undone. Run again with --yes to confirm.`,
      { details: { ...report } },
    );
  }
  ctx.out.result(report, () => {
    ctx.out.line(`Deleted collection ${ctx.out.style.bold(args.name)}: ${summary}.`);
    for (const ns of report.namespaces)
      ctx.out.line(`  ${ns.name} (${ns.state}, ${ns.fingerprint}): ${ns.records} records dropped`);
  });
  return 0;
}

export const collectionCommand: CliCommand = (collection, bind) => {
  collection
    .command('create <name>')
    .description('create a collection served by one namespace, with an alias')
    .requiredOption('--space <space>', 'space of the first (serving) namespace')
    .option('--alias <name>', 'alias applications query (default: the collection name)')
    .action(
      bind(collectionCreate, (p, o) => ({
        name: p[0] as string,
        space: o.space as string,
        ...(typeof o.alias === 'string' ? { alias: o.alias } : {}),
      })),
    );
  collection
    .command('list')
    .description('list collections, their namespaces and aliases')
    .action(bind(collectionList, () => ({})));
  collection
    .command('delete <name>')
    .description(
      'delete a collection: its namespaces (vectors), aliases, sources, jobs and migrations (audited; refused during a migration)',
    )
    .option('--yes', 'confirm (without it, only lists what would be deleted)')
    .addOption(reasonOption())
    .action(
      bind(collectionDelete, (p, o) => ({
        name: p[0] as string,
        yes: o.yes === true,
        ...defined({ reason: stringOf(o.reason) }),
      })),
    );
};
