import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { beirDataset, syntheticDataset } from '../demo/dataset.js';
import { demoDocument, printHeader, printStep, printSummary } from '../demo/report.js';
import { DEMO_STEPS, runDemoSteps } from '../demo/run.js';
import type { DemoOptions, DemoState } from '../demo/types.js';
import { integerOption, numberOption } from '../options.js';

export interface DemoArgs extends DemoOptions {
  /** Keep the temporary database (ignored with --db: a given database is always kept). */
  readonly keep: boolean;
}

/**
 * `reembed demo`: on a fresh machine, shows in under a minute why mixing embedding spaces in one index
 * loses recall silently, and what reembed does instead. Uses a temporary database unless `--db` is given.
 */
export async function demo(ctx: CliContext, args: DemoArgs): Promise<number> {
  const temporary = !ctx.globals.dbGiven;
  const path = temporary ? join(mkdtempSync(join(tmpdir(), 'reembed-demo-')), 'reembed.db') : ctx.globals.db;
  const db = { path, temporary, kept: !temporary || args.keep };
  try {
    const dataset = args.dataset
      ? await beirDataset(resolve(ctx.io.cwd, args.dataset))
      : syntheticDataset(args.seed, args.docs, args.queries);
    const app = await ctx.app({ create: true, db: path, embedded: true });
    const { keep: _keep, ...options } = args;
    const state: DemoState = {
      ctx,
      app,
      options,
      dataset,
      collection: 'docs',
      alias: 'docs',
      dataDir: dirname(path),
      evaluations: [],
    };
    printHeader(ctx, state, db);
    const reports = await runDemoSteps(state, DEMO_STEPS, (report, index) => printStep(ctx, report, index));
    ctx.out.result(demoDocument(state, reports, db), () => printSummary(ctx, state, db));
    return 0;
  } finally {
    if (!db.kept) {
      await ctx.close();
      rmSync(dirname(path), { recursive: true, force: true });
    }
  }
}

export const demoCommand: CliCommand = {
  register: (program, bind) =>
    program
      .command('demo')
      .description(
        'show, on a real or synthetic corpus, the recall a mixed-model index loses and how reembed prevents it',
      )
      .option(
        '--dataset <dir>',
        'BEIR directory (corpus.jsonl, queries.jsonl, qrels.tsv); default: a synthetic corpus',
      )
      .option(
        '--seed <n>',
        'seed of the synthetic corpus, the LSA fit and the migrated share',
        integerOption(0, 0xffffffff),
        42,
      )
      .option('--dimension <n>', 'dimension of both spaces (v1 hashing, v2 LSA)', integerOption(2, 4096), 256)
      .option('--docs <n>', 'synthetic corpus: documents', integerOption(20, 1_000_000), 2000)
      .option('--queries <n>', 'synthetic corpus: judged queries', integerOption(1, 100_000), 150)
      .option(
        '--migrated <percent>',
        'share of documents re-embedded to v2 in the mixed index',
        numberOption(0),
        50,
      )
      .option('--batch-size <n>', 'documents per ingest batch', integerOption(1, 100_000), 500)
      .option('--keep', 'keep the temporary database and print how to explore it')
      .action(
        bind(demo, (_p, o) => ({
          ...(typeof o.dataset === 'string' ? { dataset: o.dataset } : {}),
          seed: o.seed as number,
          dimension: o.dimension as number,
          docs: o.docs as number,
          queries: o.queries as number,
          migratedShare: Math.min(100, o.migrated as number) / 100,
          batchSize: o.batchSize as number,
          keep: o.keep === true,
        })),
      ),
};
