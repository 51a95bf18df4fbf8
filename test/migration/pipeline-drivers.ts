import { embedSources } from '../../src/app/embed-sources.js';
import type { Reembed } from '../../src/app/reembed.js';
import { BackfillRunner } from '../../src/jobs/backfill.js';
import { type Clock, systemClock } from '../../src/ports/clock.js';
import type { Embedder } from '../../src/ports/embedder.js';
import type { JobRepository } from '../../src/ports/jobs.js';
import type { CheckpointWrite, VectorStore } from '../../src/ports/vector-store.js';
import { planDistributedBackfill } from '../../src/queue/plan.js';
import { processRange } from '../../src/queue/range.js';
import { rangeKey } from '../../src/queue/sql.js';
import type { PgBackend } from '../../src/stores/pg/backend.js';
import { openPgApp, PG_URL, seedBackfill } from '../queue/helpers.js';
import { tempApp } from './helpers.js';

/**
 * The two feeds of the backfill pipeline, driven the same way so that one set of tests covers both: the
 * single-process runner (a local cursor over the sources, on SQLite and PostgreSQL) and one range of a
 * distributed plan (PostgreSQL). Each backfills collection `docs` (v1) into `docs@v2`.
 */
export interface PassResult {
  readonly status: 'done' | 'failed' | 'aborted' | 'paused';
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly written: number;
  readonly skipped: number;
  readonly deadLettered: number;
  readonly retries: number;
}

export interface PassOptions {
  /** v2's embedder as the pass uses it (wrapped with faults or delays by a test). */
  readonly embedder?: Embedder;
  /** The job repository the pass writes dead letters, acks and counters to (a test may make it fail). */
  readonly jobs?: JobRepository;
  readonly store?: VectorStore;
  readonly clock?: Clock;
}

export interface PipelineHarness {
  readonly app: Reembed;
  readonly jobs: JobRepository;
  /** One pass, or the resumption of an interrupted one. */
  pass(options?: PassOptions): Promise<PassResult>;
  /** The checkpoint of the pass as last committed. */
  checkpoint(): Promise<CheckpointWrite | null>;
  cleanup(): Promise<void>;
}

export interface PipelineDriver {
  readonly name: string;
  readonly available: boolean;
  /** `n` documents in `docs`, `docs@v2` created; batches of `batchSize`, `concurrency` at once where the feed has it. */
  open(
    n: number,
    settings: { batchSize: number; maxRetries?: number; maxBatchTokens?: number },
  ): Promise<PipelineHarness>;
}

async function v2Embedder(app: Reembed): Promise<Embedder> {
  const ns = await app.backend.catalog.getNamespace('docs@v2');
  return app.embedders.get(ns.space);
}

function runnerHarness(
  app: Reembed,
  settings: { batchSize: number; maxRetries?: number; maxBatchTokens?: number },
  cleanup: () => Promise<void>,
): PipelineHarness {
  const jobs = app.backend.jobs as JobRepository;
  return {
    app,
    jobs,
    async pass(options = {}) {
      const runner = new BackfillRunner(
        {
          store: options.store ?? app.backend.store,
          sources: app.backend.sources,
          jobs: options.jobs ?? jobs,
          embedder: options.embedder ?? (await v2Embedder(app)),
          encode: embedSources,
          clock: options.clock ?? systemClock,
          random: () => 0.5,
        },
        {
          collection: 'docs',
          namespace: 'docs@v2',
          settings: { concurrency: 2, ...settings },
          retry: { baseMs: 1, capMs: 5 },
          readerThread: 'off',
        },
      );
      const r = await runner.run();
      return {
        status: r.status,
        error: r.error,
        written: r.written,
        skipped: r.skipped,
        deadLettered: r.deadLettered,
        retries: r.retries,
      };
    },
    async checkpoint() {
      // A pass that finished moved the job on to the next pass: its checkpoint is the previous pass's.
      const job = await jobs.getJob('backfill:docs@v2');
      if (!job) return null;
      return jobs.checkpoint(`${job.id}#${job.state === 'done' ? job.pass - 1 : job.pass}`);
    },
    cleanup,
  };
}

const sqliteRunner: PipelineDriver = {
  name: 'local cursor on SQLite',
  available: true,
  async open(n, settings) {
    const ctx = await tempApp();
    await seedBackfill(ctx.app, n);
    return runnerHarness(ctx.app, settings, () => ctx.cleanup());
  },
};

const pgRunner: PipelineDriver = {
  name: 'local cursor on PostgreSQL',
  available: PG_URL !== undefined,
  async open(n, settings) {
    const ctx = await openPgApp();
    await seedBackfill(ctx.app, n);
    return runnerHarness(ctx.app, settings, () => ctx.cleanup());
  },
};

/** One range covering the whole collection: the range's checkpoint is the pass's. */
const pgRange: PipelineDriver = {
  name: 'queue range on PostgreSQL',
  available: PG_URL !== undefined,
  async open(n, settings) {
    const ctx = await openPgApp();
    await seedBackfill(ctx.app, n);
    const plan = await planDistributedBackfill(ctx.backend, {
      namespace: 'docs@v2',
      rangeSize: n,
      settings,
    });
    const key = rangeKey(plan.planId, plan.generation, 0);
    const signal = new AbortController().signal;
    return {
      app: ctx.app,
      jobs: ctx.backend.jobs,
      async pass(options = {}) {
        const backend = new Proxy(ctx.backend, {
          get(target, prop) {
            if (prop === 'jobs' && options.jobs) return options.jobs;
            if (prop === 'store' && options.store) return options.store;
            return Reflect.get(target, prop, target);
          },
        }) as PgBackend;
        const embedder = options.embedder ?? (await v2Embedder(ctx.app));
        try {
          const outcome = await processRange(
            {
              backend,
              workerId: 'test',
              namespaceFor: (row) => ctx.backend.catalog.getNamespace(row.namespace),
              embedderFor: async () => embedder,
              encode: embedSources,
              clock: options.clock ?? systemClock,
              random: () => 0,
            },
            key,
            signal,
          );
          const c = outcome.counters;
          return {
            status: 'done',
            error: null,
            written: c.written,
            skipped: c.skipped,
            deadLettered: c.deadLettered,
            retries: c.retries,
          };
        } catch (error) {
          const e = error as { code?: string; message?: string };
          return {
            status: 'failed',
            error: { code: e.code ?? 'INTERNAL', message: e.message ?? String(error) },
            written: 0,
            skipped: 0,
            deadLettered: 0,
            retries: 0,
          };
        }
      },
      checkpoint: () => ctx.backend.store.readCheckpoint(key),
      cleanup: () => ctx.cleanup(),
    };
  },
};

export const PIPELINE_DRIVERS: readonly PipelineDriver[] = [sqliteRunner, pgRunner, pgRange];
