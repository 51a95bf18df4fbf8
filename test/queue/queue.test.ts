import { describe, expect, it } from 'vitest';
import { embedSources } from '../../src/app/embed-sources.js';
import { ReembedError } from '../../src/core/errors.js';
import type { Space } from '../../src/core/space.js';
import { createHashingEmbedder } from '../../src/embedders/hashing.js';
import { systemClock } from '../../src/ports/clock.js';
import type { Embedder, EmbedderFactory } from '../../src/ports/embedder.js';
import { configureBuckets, PgRateLimiter } from '../../src/queue/global-rate.js';
import { ensureQueueSchema, openWorkerUtils } from '../../src/queue/graphile.js';
import { WorkerLease } from '../../src/queue/lease.js';
import { planDistributedBackfill, planIdOf } from '../../src/queue/plan.js';
import { distributedStatus } from '../../src/queue/progress.js';
import { processRange, type RangeDeps } from '../../src/queue/range.js';
import { rangeKey, workerSchemaOf } from '../../src/queue/sql.js';
import { BackfillWorker } from '../../src/queue/worker.js';
import {
  assertNamespaceMatchesSource,
  PG_URL,
  type PgApp,
  SKIP_LINE,
  seedBackfill,
  until,
  usePgApp,
} from './helpers.js';

/** The distributed backfill's parts, in one process against a real PostgreSQL (a schema per test). */
const openApp = usePgApp();

const gwJobs = async (c: PgApp): Promise<{ key: string; locked_by: string | null; attempts: number }[]> =>
  (
    await c.backend.pool.query<{ key: string; locked_by: string | null; attempts: number }>(
      `SELECT key, locked_by, attempts FROM "${workerSchemaOf(c.schema)}".jobs ORDER BY key`,
    )
  ).rows;

function rangeDeps(c: PgApp, embedder?: (base: Embedder) => Embedder): RangeDeps {
  return {
    backend: c.backend,
    workerId: 'in-process',
    namespaceFor: (row) => c.backend.catalog.getNamespace(row.namespace),
    embedderFor: async (row) => {
      const ns = await c.backend.catalog.getNamespace(row.namespace);
      const base = await c.app.embedders.get(ns.space);
      return embedder ? embedder(base) : base;
    },
    encode: embedSources,
    clock: systemClock,
    random: () => 0.5,
  };
}

if (!PG_URL) {
  console.warn(SKIP_LINE);
  it.skip(SKIP_LINE, () => undefined);
} else {
  describe('distributed backfill plan', () => {
    it('splits sources into keyed ranges and is idempotent to re-plan; new sources extend it', async () => {
      const ctx = await openApp();
      await seedBackfill(ctx.app, 230);
      const first = await planDistributedBackfill(ctx.backend, { namespace: 'docs@v2', rangeSize: 50 });
      expect(first).toMatchObject({
        planId: planIdOf('docs@v2'),
        generation: 1,
        ranges: 5,
        created: 5,
        enqueued: 5,
        done: 0,
        sources: 230,
      });
      expect((await gwJobs(ctx)).map((j) => j.key)).toEqual(
        [0, 1, 2, 3, 4].map((i) => rangeKey(first.planId, 1, i)),
      );
      // Planning again refreshes the queued jobs in place: no new range, no second copy of a job.
      const again = await planDistributedBackfill(ctx.backend, { namespace: 'docs@v2', rangeSize: 50 });
      expect(again).toMatchObject({ created: 0, ranges: 5 });
      expect(await gwJobs(ctx)).toHaveLength(5);
      const ranges = await ctx.backend.pool.query<{ after_id: string; last_id: string; sources: number }>(
        `SELECT after_id, last_id, sources FROM "${ctx.schema}".queue_ranges ORDER BY range_no`,
      );
      expect(ranges.rows.map((r) => r.sources)).toEqual([50, 50, 50, 50, 30]);
      expect(ranges.rows[0]?.after_id).toBe('');
      for (let i = 1; i < ranges.rows.length; i++)
        expect(ranges.rows[i]?.after_id).toBe(ranges.rows[i - 1]?.last_id);

      await ctx.app.ingest('docs', [{ id: 'zzz-appended', text: 'a source after the last planned id' }]);
      const extended = await planDistributedBackfill(ctx.backend, { namespace: 'docs@v2', rangeSize: 50 });
      expect(extended).toMatchObject({ created: 1, ranges: 6, sources: 231 });
      expect(await gwJobs(ctx)).toHaveLength(6);
      const status = await distributedStatus(ctx.backend, 'docs@v2');
      expect(status.plans[0]).toMatchObject({
        ranges: 6,
        rangesDone: 0,
        sources: 231,
        ratio: 0,
        job: { state: 'running' },
      });
    });
  });

  describe('processRange', () => {
    it('writes a range with its checkpoint, resumes after a failure mid-range, and finds it done the second time', async () => {
      const ctx = await openApp();
      const { v2 } = await seedBackfill(ctx.app, 120);
      await ctx.app.delete('docs', ['doc-00003']);
      const plan = await planDistributedBackfill(ctx.backend, {
        namespace: 'docs@v2',
        rangeSize: 60,
        settings: { batchSize: 20, maxRetries: 0 },
      });
      const key = rangeKey(plan.planId, 1, 0);
      let calls = 0;
      const failing = (base: Embedder): Embedder => ({
        ...base,
        embed: async (texts, options) => {
          if (++calls === 2) throw new ReembedError('EMBEDDER_TRANSIENT', 'provider 503');
          return base.embed(texts, options);
        },
      });
      const signal = new AbortController().signal;
      await expect(processRange(rangeDeps(ctx, failing), key, signal)).rejects.toMatchObject({
        code: 'EMBEDDER_TRANSIENT',
      });
      expect(await ctx.backend.store.readCheckpoint(key)).toMatchObject({
        cursor: 'scan:doc-00019',
        processed: 20,
      });
      const resumed = await processRange(rangeDeps(ctx), key, signal);
      expect(resumed).toMatchObject({ status: 'done', counters: { processed: 40, written: 40 } });
      expect(await ctx.backend.store.readCheckpoint(key)).toMatchObject({ cursor: 'done', processed: 60 });
      expect((await processRange(rangeDeps(ctx), key, signal)).status).toBe('already-done');
      // Two deliveries claimed the range (attempts, worker); the one that found it done did not.
      const claims = await ctx.backend.pool.query<{ attempts: number; worker: string }>(
        `SELECT attempts, worker FROM "${ctx.schema}".queue_ranges WHERE key = $1`,
        [key],
      );
      expect(claims.rows[0]).toEqual({ attempts: 2, worker: 'in-process' });
      const heads = await ctx.backend.store.heads('docs@v2', ['doc-00003', 'doc-00059', 'doc-00060']);
      expect(heads.get('doc-00003')?.deleted).toBe(true);
      expect(heads.get('doc-00059')?.deleted).toBe(false);
      expect(heads.has('doc-00060')).toBe(false);
      expect((await ctx.backend.store.stats('docs@v2')).fingerprints).toEqual({ [v2.fingerprint]: 59 });

      const last = await processRange(rangeDeps(ctx), rangeKey(plan.planId, 1, 1), signal);
      expect(last).toMatchObject({ status: 'done', planFinished: true });
      expect(await assertNamespaceMatchesSource(ctx.app, 'docs@v2')).toEqual([]);
      expect(await ctx.backend.jobs.getJob(plan.planId)).toMatchObject({ state: 'done', pass: 1 });
      const replan = await planDistributedBackfill(ctx.backend, { namespace: 'docs@v2', rangeSize: 60 });
      expect(replan).toMatchObject({ created: 0, enqueued: 0, done: 2, ranges: 2 });
    });
  });

  describe('shared rate limits and leases', () => {
    it('two workers together stay within one global requests-per-minute budget', async () => {
      const ctx = await openApp();
      await ensureQueueSchema(ctx.backend.pool, ctx.url, ctx.schema);
      await configureBuckets(ctx.backend.pool, ctx.schema, 'p', {
        requestsPerMinute: 6000,
        tokensPerMinute: null,
      });
      const a = new PgRateLimiter(ctx.backend.pool, ctx.schema, 'p', {
        requestsPerMinute: 6000,
        tokensPerMinute: null,
      });
      const b = new PgRateLimiter(ctx.backend.pool, ctx.schema, 'p', {
        requestsPerMinute: 6000,
        tokensPerMinute: null,
      });
      const started = performance.now();
      // 100/s with a one-second bucket: 250 takes need at least 1.5 s however they are split.
      await Promise.all([
        (async () => {
          for (let i = 0; i < 125; i++) await a.acquire(1, 0);
        })(),
        (async () => {
          for (let i = 0; i < 125; i++) await b.acquire(1, 0);
        })(),
      ]);
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThan(1_400);
      expect(elapsed).toBeLessThan(4_000);
      expect(a.countsTokens).toBe(false);
    });

    it('releases the jobs of a worker whose lease lapsed, never those of a live one', async () => {
      const ctx = await openApp();
      await ensureQueueSchema(ctx.backend.pool, ctx.url, ctx.schema);
      const utils = await openWorkerUtils(ctx.url, ctx.schema);
      try {
        await utils.addJobs([
          { identifier: 'x', payload: {}, jobKey: 'dead' },
          { identifier: 'x', payload: {}, jobKey: 'alive' },
        ]);
        const gw = `"${workerSchemaOf(ctx.schema)}"`;
        await ctx.backend.pool.query(
          `UPDATE ${gw}._private_jobs SET locked_by = CASE key WHEN 'dead' THEN 'ghost' ELSE 'live' END,
             locked_at = now() - interval '10 seconds'`,
        );
        const live = new WorkerLease({
          db: ctx.backend.pool,
          schema: ctx.schema,
          leaseMs: 60_000,
          unlock: async () => undefined,
        });
        live.setOwner('live');
        await live.tick();
        let t = 0;
        const survivor = new WorkerLease({
          db: ctx.backend.pool,
          schema: ctx.schema,
          leaseMs: 2_000,
          unlock: (owners) => utils.forceUnlockWorkers(owners),
          now: () => t,
        });
        survivor.setOwner('survivor');
        // Just (re)connected: it waits a full lease before releasing anything.
        expect((await survivor.tick()).released).toEqual([]);
        t = 2_000;
        expect((await survivor.tick()).released).toEqual(['ghost']);
        expect((await gwJobs(ctx)).map((j) => [j.key, j.locked_by])).toEqual([
          ['alive', 'live'],
          ['dead', null],
        ]);
      } finally {
        await utils.release();
      }
    });
  });

  describe('BackfillWorker in process', () => {
    it('two workers drain a plan together; the namespace equals the source', async () => {
      const ctx = await openApp();
      await seedBackfill(ctx.app, 300);
      await planDistributedBackfill(ctx.backend, {
        namespace: 'docs@v2',
        rangeSize: 40,
        settings: { batchSize: 20, requestsPerMinute: 60_000 },
      });
      const options = { untilDone: true, concurrency: 2, leaseMs: 2_000, heartbeatMs: 200, pollMs: 200 };
      const workers = await Promise.all([
        BackfillWorker.start(ctx.app, options),
        BackfillWorker.start(ctx.app, options),
      ]);
      const reports = await Promise.all(workers.map((w) => w.done));
      expect(reports.map((r) => r.reason)).toEqual(['drained', 'drained']);
      expect(reports.reduce((n, r) => n + r.ranges, 0)).toBe(8);
      expect(reports.reduce((n, r) => n + r.counters.written, 0)).toBe(300);
      expect(await assertNamespaceMatchesSource(ctx.app, 'docs@v2')).toEqual([]);
      const status = await distributedStatus(ctx.backend);
      expect(status.plans[0]).toMatchObject({
        rangesDone: 8,
        ratio: 1,
        job: { state: 'done', counters: { written: 300 } },
      });
      expect(status.workers).toEqual([]);
    });

    it('a worker reads one range ahead while at most `concurrency` ranges embed and write', async () => {
      // v2's embedder takes 30 ms per call and records how many calls are in flight.
      const calls = { now: 0, max: 0, total: 0 };
      const slowV2: EmbedderFactory = {
        async create(space: Space): Promise<Embedder> {
          if (space.name !== 'v2') throw new ReembedError('UNSUPPORTED', 'only v2');
          const base = createHashingEmbedder(space);
          return {
            space: base.space,
            maxBatchSize: base.maxBatchSize,
            countTokens: (text) => base.countTokens(text),
            async embed(texts, options) {
              calls.now++;
              calls.total++;
              calls.max = Math.max(calls.max, calls.now);
              try {
                await new Promise((resolve) => setTimeout(resolve, 30));
                return await base.embed(texts, options);
              } finally {
                calls.now--;
              }
            },
          };
        },
      };
      const ctx = await openApp({ embedders: [slowV2] });
      await seedBackfill(ctx.app, 60);
      await planDistributedBackfill(ctx.backend, {
        namespace: 'docs@v2',
        rangeSize: 10,
        settings: { batchSize: 5 },
      });
      // Ranges claimed and not finished yet, sampled while the worker runs.
      const ranges = `"${ctx.schema}".queue_ranges`;
      let maxOpen = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const { rows } = await (ctx as PgApp).backend.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${ranges} WHERE worker IS NOT NULL AND done_at IS NULL`,
          );
          maxOpen = Math.max(maxOpen, rows[0]?.n ?? 0);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const worker = await BackfillWorker.start(ctx.app, {
        untilDone: true,
        concurrency: 1,
        leaseMs: 2_000,
        heartbeatMs: 100,
        pollMs: 100,
      });
      const report = await worker.done;
      watching = false;
      await watch;
      expect(report.reason).toBe('drained');
      expect(report.counters.written).toBe(60);
      // One range is claimed and read ahead while the other embeds: two open, one embedding call at a time.
      expect(maxOpen).toBe(2);
      expect(calls.max).toBe(1);
      expect(calls.total).toBeGreaterThanOrEqual(12);
      expect(await assertNamespaceMatchesSource(ctx.app, 'docs@v2')).toEqual([]);
    });

    it("applies the plan's global requests-per-minute to all workers together", async () => {
      const ctx = await openApp();
      await seedBackfill(ctx.app, 60);
      // 30 embedding calls (2 documents each) at 600/min with a 10-request bucket: at least 2 s in total,
      // however the calls are spread over two workers.
      await planDistributedBackfill(ctx.backend, {
        namespace: 'docs@v2',
        rangeSize: 10,
        settings: { batchSize: 2, requestsPerMinute: 600 },
      });
      const started = performance.now();
      const options = { untilDone: true, concurrency: 2, leaseMs: 3_000, heartbeatMs: 100, pollMs: 100 };
      const workers = await Promise.all([
        BackfillWorker.start(ctx.app, options),
        BackfillWorker.start(ctx.app, options),
      ]);
      const reports = await Promise.all(workers.map((w) => w.done));
      expect(performance.now() - started).toBeGreaterThan(1_900);
      expect(reports.reduce((n, r) => n + r.counters.written, 0)).toBe(60);
      expect(await assertNamespaceMatchesSource(ctx.app, 'docs@v2')).toEqual([]);
    });

    it("rides out another schema's queue install (graphile-worker's database-wide migration notice): the pool restarts, exit code untouched", async () => {
      const ctx = await openApp();
      await seedBackfill(ctx.app, 40);
      const worker = await BackfillWorker.start(ctx.app, {
        concurrency: 1,
        leaseMs: 2_000,
        heartbeatMs: 100,
        pollMs: 100,
      });
      const restarted = new Promise<void>((resolve) => worker.once('restart', () => resolve()));
      const exitCodeBefore = process.exitCode;
      try {
        // A second reembed install in the same database installs its job queue: graphile-worker notifies a
        // breaking migration on a channel every pool in the database listens to.
        const other = await openApp();
        await ensureQueueSchema(other.backend.pool, other.url, other.schema);
        await restarted;
        expect(process.exitCode).toBe(exitCodeBefore);
        // Still taking work: a plan made after the restart is drained by this worker.
        await planDistributedBackfill(ctx.backend, {
          namespace: 'docs@v2',
          rangeSize: 20,
          settings: { batchSize: 10 },
        });
        await until(
          'the plan to be done after the restart',
          async () => (await distributedStatus(ctx.backend, 'docs@v2')).plans[0]?.rangesDone === 2,
          30_000,
          100,
        );
        expect(await assertNamespaceMatchesSource(ctx.app, 'docs@v2')).toEqual([]);
      } finally {
        process.exitCode = exitCodeBefore;
        await worker.stop();
      }
    });
  });
}
