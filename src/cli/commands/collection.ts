import type { Collection } from '../../ports/catalog.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';

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
      if (rows.length === 0) {
        ctx.out.line('No collections yet. Create one: reembed collection create docs --space <space>');
        return;
      }
      ctx.out.table(
        [
          { header: 'COLLECTION', value: (r: (typeof rows)[number]) => r.collection.name },
          { header: 'NAMESPACES', value: (r: (typeof rows)[number]) => r.namespaces.join(', ') },
          { header: 'ALIASES', value: (r: (typeof rows)[number]) => r.aliases.join(', ') },
          { header: 'CREATED', value: (r: { collection: Collection }) => r.collection.createdAt },
        ],
        rows,
      );
    },
  );
  return 0;
}

export const collectionCommand: CliCommand = {
  register(program, bind) {
    const collection = program
      .command('collection')
      .description('collections: logical corpora with retained sources');
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
  },
};
