import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isReembedError } from '../../core/errors.js';
import { seededRandom } from '../../core/significance.js';
import { redactUrl } from '../../stores/pg/config.js';
import type { CliContext } from '../context.js';
import { endInterrupted } from '../interrupt.js';
import { beirDataset, syntheticDataset } from './dataset.js';
import {
  DEPRECATION_STEPS,
  deprecationDocument,
  deprecationOf,
  printDeprecationSummary,
} from './deprecation.js';
import { type DemoDb, demoDocument, printHeader, printStep, printSummary } from './report.js';
import { demoSteps, runDemoSteps } from './run.js';
import type { DemoOptions, DemoState, StepReport } from './types.js';

export interface DemoArgs extends DemoOptions {
  /** Keep the temporary database or Postgres schema (ignored with --db: a given database is always kept). */
  readonly keep: boolean;
}

/** Where the demo runs: `--db FILE`, else Postgres with `--pg`/`REEMBED_PG_URL` in a fresh schema, else a temp file. */
function demoDatabase(ctx: CliContext, keep: boolean): DemoDb & { dataDir: string } {
  if (ctx.globals.pg && !ctx.globals.dbGiven) {
    return {
      backend: 'pg',
      path: redactUrl(ctx.globals.pg),
      schema: `demo_${randomBytes(5).toString('hex')}`,
      temporary: true,
      kept: keep,
      // Model files of the fitted LSA space: absolute paths outside the working directory.
      dataDir: mkdtempSync(join(tmpdir(), 'reembed-demo-')),
    };
  }
  const temporary = !ctx.globals.dbGiven;
  const path = temporary ? join(mkdtempSync(join(tmpdir(), 'reembed-demo-')), 'reembed.db') : ctx.globals.db;
  return { backend: 'sqlite', path, temporary, kept: !temporary || keep, dataDir: dirname(path) };
}

/**
 * `reembed demo`: on a fresh machine, shows in under a minute why mixing embedding spaces in one index
 * loses recall silently and what reembed does instead (part 1), then migrates the alias from v1 to v2 with
 * a strategy while live queries keep being answered, and prints the timeline (part 2, `--strategy`).
 * Uses a temporary SQLite file unless `--db` is given, or a fresh Postgres schema with `--pg`.
 */
export async function demo(ctx: CliContext, args: DemoArgs): Promise<number> {
  const started = performance.now();
  const { dataDir, ...db } = demoDatabase(ctx, args.keep);
  const signal = ctx.interrupt();
  let state: DemoState | null = null;
  let released = false;
  // Detaches the demo's traffic recorder and flushes the migration service's pending writes, once.
  const closeMigration = async (): Promise<void> => {
    if (state && args.scenario === 'deprecation') {
      const d = deprecationOf(state);
      const service = d.service;
      d.service = undefined;
      await service?.close();
      return;
    }
    const m = state?.migration;
    if (!m || released) return;
    released = true;
    m.detach();
    await m.service.close();
  };
  let reports: StepReport[];
  // Where the interrupt stopped the demo: between two steps, or during one (which then stopped early).
  let stoppedAt = 'between two steps';
  try {
    const dataset = args.dataset
      ? await beirDataset(resolve(ctx.io.cwd, args.dataset))
      : syntheticDataset(args.seed, args.docs, args.queries);
    const app =
      db.backend === 'pg'
        ? await ctx.app({
            create: true,
            pgSchema: db.schema as string,
            pgDropSchemaOnClose: !db.kept,
            random: seededRandom(args.seed),
          })
        : await ctx.app({ create: true, db: db.path, embedded: true, random: seededRandom(args.seed) });
    const { keep: _keep, ...options } = args;
    state = {
      ctx,
      app,
      options,
      dataset,
      collection: 'docs',
      alias: 'docs',
      dataDir,
      absoluteModelPaths: db.backend === 'pg',
      started,
      timeline: [],
      evaluations: [],
    };
    printHeader(ctx, state, db);
    const steps = options.scenario === 'deprecation' ? DEPRECATION_STEPS : demoSteps(options);
    try {
      reports = await runDemoSteps(state, steps, (report, index) => printStep(ctx, report, index), signal);
    } catch (error) {
      if (!isReembedError(error, 'ABORTED') || !signal.aborted) throw error;
      const during = error.details as { step?: string; index?: number };
      if (during.step) stoppedAt = `during step ${during.index} (${during.step})`;
      reports = [];
    }
    const done = state;
    await closeMigration();
    if (!signal.aborted) {
      if (options.scenario === 'deprecation')
        ctx.out.result({ ...demoDocument(done, reports, db), ...deprecationDocument(done) }, () =>
          printDeprecationSummary(done),
        );
      else ctx.out.result(demoDocument(done, reports, db), () => printSummary(ctx, done, db));
      return 0;
    }
  } finally {
    // After a failure: release the service quietly, so its error cannot hide the one that stopped the demo.
    await closeMigration().catch(() => undefined);
    if (!db.kept) {
      // Closing the app drops a temporary Postgres schema (dropSchemaOnClose).
      await ctx.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const kept = db.backend === 'pg' ? `its schema ${db.schema} is kept` : `its database is kept at ${db.path}`;
  return endInterrupted(
    ctx,
    `The demo was interrupted ${stoppedAt}; ${db.kept ? kept : 'its temporary database was removed'}.`,
  );
}
