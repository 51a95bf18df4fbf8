import { afterEach, describe, expect, it } from 'vitest';
import { planDistributedBackfill } from '../../src/queue/plan.js';
import { distributedStatus } from '../../src/queue/progress.js';
import { workerSchemaOf } from '../../src/queue/sql.js';
import {
  assertNamespaceMatchesSource,
  exitWithin,
  openPgApp,
  PG_URL,
  type PgApp,
  SKIP_LINE,
  type SpawnedWorker,
  seedBackfill,
  spawnCli,
  spawnWorker,
  until,
} from './helpers.js';

/**
 * Several `reembed worker` processes share one backfill; one is SIGKILLed while it holds ranges. Its
 * lease lapses, a survivor releases its locks, and the ranges are redone from their checkpoints —
 * while the application keeps writing and deleting (dual-writes). Afterwards every live document is in
 * the new namespace exactly once at its newest version, no deleted one is, and one fingerprint holds.
 */
let ctx: PgApp | undefined;
let workers: SpawnedWorker[] = [];
afterEach(async (test) => {
  if (test.task.result?.state === 'fail') {
    for (const w of workers)
      console.log(`--- worker ${w.child.pid} stdout+stderr:\n${w.stdout()}${w.stderr().slice(-4000)}`);
  }
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  workers = [];
  await ctx?.cleanup();
  ctx = undefined;
});

const WORKER_ARGS = [
  '--until-done',
  '--concurrency',
  '2',
  '--lease-seconds',
  '1.5',
  '--heartbeat-seconds',
  '0.25',
  '--poll-ms',
  '200',
];

if (!PG_URL) {
  console.warn(SKIP_LINE);
  it.skip(SKIP_LINE, () => undefined);
} else {
  describe('distributed backfill across worker processes', () => {
    it('survives a worker killed mid-range: nothing lost, nothing doubled, nothing resurrected', async () => {
      ctx = await openPgApp();
      const c = ctx;
      const { v2 } = await seedBackfill(c.app, 1200);
      await c.app.delete('docs', ['doc-00010', 'doc-00500']);
      const plan = await planDistributedBackfill(c.backend, {
        namespace: 'docs@v2',
        rangeSize: 50,
        settings: { batchSize: 25, requestsPerMinute: 100_000 },
      });
      expect(plan).toMatchObject({ ranges: 24, enqueued: 24 });

      // 120 ms per embedding call: a range takes ~0.3 s, so the victim is caught holding ranges.
      workers = [0, 1, 2].map(() => spawnWorker(c.url, c.schema, WORKER_ARGS, { delayMs: 120 }));
      const victim = workers[0] as SpawnedWorker;
      const gw = `"${workerSchemaOf(c.schema)}"`;
      await until(
        'the victim to hold a range',
        async () =>
          (
            await c.backend.pool.query(
              `SELECT 1 FROM ${gw}.jobs j JOIN "${c.schema}".queue_workers w ON w.id = j.locked_by WHERE w.pid = $1`,
              [victim.child.pid],
            )
          ).rowCount,
        30_000,
        25,
      );
      victim.child.kill('SIGKILL');

      // The application keeps writing while the backfill runs: updates, deletes, new documents.
      await c.app.ingest('docs', [
        { id: 'doc-00020', text: 'rewritten while workers run' },
        { id: 'doc-01100', text: 'rewritten while workers run, late range' },
        { id: 'doc-00777-new', text: 'a brand new document inside a planned range' },
      ]);
      await c.app.delete('docs', ['doc-00030', 'doc-01150']);

      const survivors = workers.slice(1);
      const codes = await Promise.all(survivors.map((w) => exitWithin(w, 60_000)));
      expect(await victim.exited).toBeNull();
      expect(codes, survivors.map((w) => w.stderr()).join('\n')).toEqual([0, 0]);
      const reports = survivors.map(
        (w) => JSON.parse(w.stdout()) as { reason: string; released: number; ranges: number },
      );
      expect(reports.map((r) => r.reason)).toEqual(['drained', 'drained']);
      expect(reports.reduce((n, r) => n + r.released, 0)).toBeGreaterThanOrEqual(1);

      expect(await assertNamespaceMatchesSource(c.app, 'docs@v2')).toEqual([]);
      const stats = await c.backend.store.stats('docs@v2');
      expect(stats.fingerprints).toEqual({ [v2.fingerprint]: 1200 - 4 + 1 });
      expect(stats.records).toBe(stats.sources);
      const heads = await c.backend.store.heads('docs@v2', [
        'doc-00010',
        'doc-00030',
        'doc-01150',
        'doc-00020',
      ]);
      expect([
        heads.get('doc-00010')?.deleted,
        heads.get('doc-00030')?.deleted,
        heads.get('doc-01150')?.deleted,
      ]).toEqual([true, true, true]);
      expect(heads.get('doc-00020')?.sourceVersion).toBe(
        (await c.backend.sources.get('docs', 'doc-00020'))?.version,
      );

      const status = await distributedStatus(c.backend, 'docs@v2');
      expect(status.plans[0]).toMatchObject({ ranges: 24, rangesDone: 24, ratio: 1, job: { state: 'done' } });
      expect((await c.backend.pool.query(`SELECT 1 FROM ${gw}.jobs`)).rowCount).toBe(0);
      // Re-running the plan enqueues nothing for finished ranges.
      const replan = await planDistributedBackfill(c.backend, { namespace: 'docs@v2', rangeSize: 50 });
      expect(replan).toMatchObject({ created: 0, enqueued: 0, done: 24, ranges: 24 });
    }, 90_000);

    it('the real CLI entry plans, works and reports status', async () => {
      ctx = await openPgApp();
      const c = ctx;
      await seedBackfill(c.app, 200);
      const cli = (args: string[]) => spawnCli(c.url, c.schema, args, { entry: 'cli' });
      const planner = cli(['worker', 'plan', 'docs@v2', '--range-size', '64', '--batch-size', '32']);
      expect(await exitWithin(planner, 30_000), planner.stderr()).toBe(0);
      expect(JSON.parse(planner.stdout())).toMatchObject({
        kind: 'distributed-plan',
        ranges: 4,
        enqueued: 4,
        sources: 200,
      });
      const worker = cli(['worker', '--until-done', '--lease-seconds', '2', '--poll-ms', '200']);
      workers = [worker];
      expect(await exitWithin(worker, 60_000), worker.stderr()).toBe(0);
      expect(JSON.parse(worker.stdout())).toMatchObject({
        kind: 'worker-report',
        reason: 'drained',
        ranges: 4,
        counters: { written: 200 },
      });
      expect(await assertNamespaceMatchesSource(c.app, 'docs@v2')).toEqual([]);
      const status = cli(['worker', 'status', 'docs@v2']);
      expect(await exitWithin(status, 30_000), status.stderr()).toBe(0);
      expect(JSON.parse(status.stdout())).toMatchObject({
        plans: [{ namespace: 'docs@v2', rangesDone: 4, ratio: 1 }],
        workers: [],
      });
    }, 90_000);
  });
}
