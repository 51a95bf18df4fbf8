import { resolve } from 'node:path';
import { Option } from 'commander';
import { ON_DELETED, type OnDeleted } from '../../app/ingest.js';
import type { ReembedError } from '../../core/errors.js';
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
  /** Skip invalid lines (reported) instead of stopping at the first one. */
  readonly skipInvalid: boolean;
  /** What to do with documents deleted earlier (default: restore them, and say so). */
  readonly onDeleted: OnDeleted;
}

/**
 * `reembed ingest <collection> <file.jsonl|beir-dir> [--batch-size N]`: streams documents into the
 * collection's sources and every writable namespace, batch by batch. Stops at the first bad line, or
 * with `--skip-invalid` skips and lists every bad line (nothing of a skipped line is written).
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
  const skipped: { line: unknown; message: string }[] = [];
  const totals = await ingestBatches(
    app,
    args.collection,
    readCorpus(file, {
      batchSize: args.batchSize,
      ...(args.skipInvalid
        ? { onInvalid: (e: ReembedError) => skipped.push({ line: e.details.line, message: e.message }) }
        : {}),
    }),
    task,
    { onDeleted: args.onDeleted },
  );
  const rate = totals.seconds > 0 ? totals.documents / totals.seconds : 0;
  ctx.out.result({ collection: args.collection, file, ...totals, docsPerSecond: rate, skipped }, () => {
    ctx.out.line(
      `Ingested ${totals.documents} documents into ${args.collection} from ${file} in ${totals.seconds.toFixed(1)} s ` +
        `(${formatRate(rate)} docs/s): ${totals.changed} new or changed, ${totals.unchanged} unchanged.`,
    );
    if (totals.restored > 0) {
      const more = totals.restored > totals.restoredIds.length ? ', ...' : '';
      ctx.out.line(
        `  restored ${totals.restored} previously deleted document(s), live again: ${totals.restoredIds.join(', ')}${more} ` +
          '(--deleted skip leaves deleted documents deleted; --deleted refuse stops the ingest)',
      );
    }
    if (totals.skippedDeleted > 0)
      ctx.out.line(`  left ${totals.skippedDeleted} previously deleted document(s) deleted (--deleted skip)`);
    if (skipped.length > 0) ctx.out.line(`Skipped ${skipped.length} invalid line(s):`);
    for (const s of skipped) ctx.out.line(`  ${s.message}`);
    for (const [ns, n] of Object.entries(totals.namespaces)) {
      ctx.out.line(
        `  ${ns}: ${n.written} written, ${n.skipped} skipped (newer version held), ${n.records} records`,
      );
    }
  });
  return 0;
}

export const ingestCommand: CliCommand = (command, bind) =>
  command
    .arguments('<collection> <corpus>')
    .option(
      '--batch-size <n>',
      'documents per all-or-nothing batch',
      integerOption(1, 100_000),
      DEFAULT_BATCH_SIZE,
    )
    .option('--skip-invalid', 'skip invalid lines (listed in the output) instead of stopping at the first')
    .addOption(
      new Option(
        '--deleted <mode>',
        'documents deleted earlier: restore (make them live again, reported), skip (leave them deleted), refuse (stop, writing nothing of the batch)',
      )
        .choices(ON_DELETED)
        .default('restore'),
    )
    .action(
      bind(ingest, (p, o) => ({
        collection: p[0] as string,
        path: p[1] as string,
        batchSize: o.batchSize as number,
        skipInvalid: o.skipInvalid === true,
        onDeleted: o.deleted as OnDeleted,
      })),
    );
