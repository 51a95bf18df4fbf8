import type { NamespaceManifest } from '../../core/namespace.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { chunkerLabel } from './space.js';

export interface StatusArgs {
  readonly collection?: string;
}

/**
 * `reembed status [collection]`: the manifest of every namespace — model, dimension, records, the
 * fingerprint distribution (must be 100% the namespace's own), coverage of the live sources, state and
 * aliases. `--json` prints the manifest array.
 */
export async function status(ctx: CliContext, args: StatusArgs): Promise<number> {
  const app = await ctx.app();
  if (args.collection !== undefined) await app.backend.catalog.getCollection(args.collection);
  const manifests = await app.status(args.collection);
  ctx.out.result(manifests, () => {
    if (manifests.length === 0) {
      ctx.out.line('No namespaces yet. Create a collection: reembed collection create docs --space <space>');
      return;
    }
    manifests.forEach((m, i) => {
      if (i > 0) ctx.out.line();
      printManifest(ctx, m);
    });
  });
  return 0;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;
}

function printManifest(ctx: CliContext, m: NamespaceManifest): void {
  const { bold, red, green } = ctx.out.style;
  const s = m.space;
  const aliases = m.aliases.length > 0 ? `aliases ${m.aliases.join(', ')}` : 'no alias';
  ctx.out.line(`${bold(m.namespace)}  ${m.state}  (collection ${m.collection}, ${aliases})`);
  const rows: [string, string][] = [
    [
      'space',
      `${s.name}: ${s.provider}/${s.model} r${s.revision}, ${s.dimension}d ${s.metric}, norm ${s.normalization}`,
    ],
    [
      'pipeline',
      `chunker ${chunkerLabel(s.chunker as Parameters<typeof chunkerLabel>[0])}, preprocessing ${s.preprocessing}`,
    ],
    ['fingerprint', s.fingerprint],
    ['records', `${m.records} records for ${m.sources} sources`],
  ];
  const entries = Object.entries(m.fingerprints);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const foreign = entries.filter(([fp]) => fp !== s.fingerprint);
  const versions =
    entries.length === 0
      ? '(empty)'
      : entries.map(([fp, n]) => `${fp} ${percent(n, total)}`).join(', ') +
        (foreign.length > 0 ? ` ${red('MIXED: records of another space')}` : ` ${green('single space')}`);
  rows.push(['versions', versions]);
  const c = m.coverage;
  rows.push([
    'coverage',
    `${c.current}/${c.live} live sources current (${percent(c.current, c.live)}), ${c.stale} stale`,
  ]);
  rows.push([
    'created',
    `${m.createdAt}${m.createdFrom ? ` from ${m.createdFrom}` : ''}${m.retiredAt ? `, retired ${m.retiredAt}` : ''}`,
  ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, value] of rows) ctx.out.line(`  ${key.padEnd(width)}  ${value}`);
}

export const statusCommand: CliCommand = (command, bind) =>
  command
    .arguments('[collection]')
    .action(bind(status, (p) => (typeof p[0] === 'string' ? { collection: p[0] } : {})));
