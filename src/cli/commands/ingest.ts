import { resolve } from 'node:path';
import { DEFAULT_BATCH_SIZE, readCorpus, resolveCorpusFile } from '../../corpus/reader.js';
import { silentProgress } from '../../ports/progress.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { countLines, ingestBatches } from '../ingest-corpus.js';
import { integerOption } from '../options.js';
import { formatRate } from '../progress.js';

export interface IngestArgs {
  readonly collection: string;
  readonly path: string;
  readonly batchSize: number;
}

/**
 * `reembed ingest <collection> <file.jsonl|beir-dir> [--batch-size N]`: streams documents into the
 * collection's sources and every writable namespace, batch by batch. Stops at the first bad line.
 */
export async function ingest(ctx: CliContext, args: IngestArgs): Promise<number> {
  const app = await ctx.app();
  await app.backend.catalog.getCollection(args.collection);
  const file = await resolveCorpusFile(resolve(ctx.io.cwd, args.path));
  const total = ctx.progress === silentProgress ? undefined : await countLines(file);
  const task = ctx.progress.start(`ingest ${args.collection}`, {
    unit: 'docs',
    ...(total !== undefined ? { total } : {}),
  });
  const totals = await ingestBatches(
    app,
    args.collection,
    readCorpus(file, { batchSize: args.batchSize }),
    task,
  );
  const rate = totals.seconds > 0 ? totals.documents / totals.seconds : 0;
  ctx.out.result({ collection: args.collection, file, ...totals, docsPerSecond: rate }, () => {
    ctx.out.line(
      `Ingested ${totals.documents} documents into ${args.collection} from ${file} in ${totals.seconds.toFixed(1)} s ` +
        `(${formatRate(rate)} docs/s): ${totals.changed} new or changed, ${totals.unchanged} unchanged.`,
    );
    for (const [ns, n] of Object.entries(totals.namespaces)) {
      ctx.out.line(
        `  ${ns}: ${n.written} written, ${n.skipped} skipped (newer version held), ${n.records} records`,
      );
    }
  });
  return 0;
}

export const ingestCommand: CliCommand = {
  register: (program, bind) =>
    program
      .command('ingest <collection> <corpus>')
      .description(
        'ingest a JSONL file ({id|_id, text, title?, metadata?, tenant?} per line) or a BEIR directory',
      )
      .option(
        '--batch-size <n>',
        'documents per all-or-nothing batch',
        integerOption(1, 100_000),
        DEFAULT_BATCH_SIZE,
      )
      .action(
        bind(ingest, (p, o) => ({
          collection: p[0] as string,
          path: p[1] as string,
          batchSize: o.batchSize as number,
        })),
      ),
};
