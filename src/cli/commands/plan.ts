import { ReembedError } from '../../core/errors.js';
import { namespaceName } from '../../core/namespace.js';
import type { Space } from '../../core/space.js';
import { planPgNamespace } from '../../stores/pg/plan.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { integerOption } from '../options.js';

export interface PlanArgs {
  readonly collection: string;
  readonly space: string;
  readonly dryRun: boolean;
  readonly includeBase: boolean;
  readonly schema?: string;
  readonly m?: number;
  readonly efConstruction?: number;
}

/**
 * `reembed plan <collection> --space S --dry-run`: the PostgreSQL DDL that creating the namespace of a
 * collection in a space would run (table, heads, HNSW index for the space's metric), printed without
 * connecting to anything. The space comes from the catalog of `--db` (or `--pg`), so the DDL matches the
 * registered geometry exactly. `--include-base` adds the idempotent base tables.
 */
export async function plan(ctx: CliContext, args: PlanArgs): Promise<number> {
  if (!args.dryRun) {
    throw new ReembedError(
      'INVALID_INPUT',
      'reembed plan only prints what would run: pass --dry-run. Namespaces are created by `collection create` and `migrate start`.',
    );
  }
  const space: Space = await (await ctx.app()).backend.catalog.getSpace(args.space);
  const descriptor = {
    name: namespaceName(args.collection, space),
    fingerprint: space.fingerprint,
    spaceName: space.name,
    dimension: space.spec.dimension,
    metric: space.spec.metric,
  };
  const ddl = planPgNamespace(
    {
      url: ctx.globals.pg ?? 'postgres://planning-only@localhost/none',
      ...(args.schema ? { schema: args.schema } : {}),
      hnsw: {
        ...(args.m !== undefined ? { m: args.m } : {}),
        ...(args.efConstruction !== undefined ? { efConstruction: args.efConstruction } : {}),
      },
    },
    descriptor,
    { includeBase: args.includeBase },
  );
  ctx.out.result({ namespace: descriptor.name, backend: 'pg', ddl }, () => ctx.out.line(ddl.trimEnd()));
  return 0;
}

export const planCommand: CliCommand = (command, bind) =>
  command
    .argument('<collection>', 'collection name')
    .requiredOption('--space <space>', 'registered space')
    .option('--dry-run', 'print only (required: nothing is executed)')
    .option('--include-base', 'also print the base tables (catalog, sources, audit log)')
    .option('--schema <name>', 'Postgres schema (default reembed)')
    .option('--m <n>', 'HNSW m', integerOption(2))
    .option('--ef-construction <n>', 'HNSW ef_construction', integerOption(4))
    .action(
      bind(plan, (p, o) => ({
        collection: String(p[0]),
        space: String(o.space),
        dryRun: o.dryRun === true,
        includeBase: o.includeBase === true,
        ...(typeof o.schema === 'string' ? { schema: o.schema } : {}),
        ...(typeof o.m === 'number' ? { m: o.m } : {}),
        ...(typeof o.efConstruction === 'number' ? { efConstruction: o.efConstruction } : {}),
      })),
    );
