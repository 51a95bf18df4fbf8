import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ReembedError } from '../../core/errors.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';

export interface DeleteArgs {
  readonly collection: string;
  readonly ids: readonly string[];
  /** A file with one id per line (blank lines ignored). */
  readonly idsFile?: string;
}

/**
 * `reembed delete <collection> <id...> | --ids-file FILE`: tombstones documents at the source and in every
 * writable namespace, so no backfill can bring them back.
 */
export async function deleteCommandHandler(ctx: CliContext, args: DeleteArgs): Promise<number> {
  const ids = [...args.ids];
  if (args.idsFile) {
    const file = resolve(ctx.io.cwd, args.idsFile);
    const text = await readFile(file, 'utf8').catch((cause: unknown) => {
      throw new ReembedError('NOT_FOUND', `Cannot read ids file ${file}: ${(cause as Error).message}.`, {
        details: { file },
        cause,
      });
    });
    for (const line of text.split(/\r?\n/)) if (line.trim() !== '') ids.push(line.trim());
  }
  if (ids.length === 0) {
    throw new ReembedError(
      'INVALID_INPUT',
      'No ids to delete: pass ids as arguments or --ids-file FILE (one id per line).',
    );
  }
  const unique = [...new Set(ids)];
  const result = await (await ctx.app()).delete(args.collection, unique);
  ctx.out.result({ collection: args.collection, requested: unique.length, ...result }, () => {
    const ignored = unique.length - result.deleted;
    ctx.out.line(
      `Deleted ${result.deleted} document(s) from ${args.collection}` +
        (ignored > 0 ? ` (${ignored} unknown or already deleted)` : '') +
        '.',
    );
    for (const [ns, n] of Object.entries(result.namespaces))
      ctx.out.line(`  ${ns}: ${n.deleted} tombstoned, ${n.skipped} skipped`);
  });
  return 0;
}

export const deleteCommand: CliCommand = (command, bind) =>
  command
    .arguments('<collection> [ids...]')
    .option('--ids-file <file>', 'file with one id per line')
    .action(
      bind(deleteCommandHandler, (p, o) => ({
        collection: p[0] as string,
        ids: (p[1] as string[] | undefined) ?? [],
        ...(typeof o.idsFile === 'string' ? { idsFile: o.idsFile } : {}),
      })),
    );
