import { afterEach, describe, expect, it } from 'vitest';
import { planDistributedBackfill } from '../../src/queue/plan.js';
import { distributedStatus } from '../../src/queue/progress.js';
import {
  assertNamespaceMatchesSource,
  exitWithin,
  openPgApp,
  PG_URL,
  type PgApp,
  SKIP_LINE,
  type SpawnedWorker,
  seedBackfill,
  spawnWorker,
  until,
} from './helpers.js';
import { type PrivateCluster, privateClusterUnavailable, startPrivateCluster } from './private-cluster.js';

/**
 * The database goes away in the middle of a distributed backfill: a PostgreSQL 15 cluster private to
 * this test (so other tests on the shared server are not disturbed) is stopped with fast shutdown —
 * every connection cut — and started again 1.5 s later. Workers ride it out (ranges retry from their
 * checkpoints, graphile-worker reconnects and re-records completions) and finish; nothing is lost.
 */
let cluster: PrivateCluster | undefined;
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
  await ctx?.cleanup().catch(() => undefined);
  ctx = undefined;
  await cluster?.destroy();
  cluster = undefined;
});

const unavailable = PG_URL ? privateClusterUnavailable() : SKIP_LINE;
if (unavailable) {
  const line = PG_URL ? `Database-restart test skipped: ${unavailable}` : SKIP_LINE;
  console.warn(line);
  it.skip(line, () => undefined);
} else {
  describe('distributed backfill across a database restart', () => {
    it('workers retry, resume and finish; every live document lands once at its newest version', async () => {
      cluster = await startPrivateCluster();
      ctx = await openPgApp({ url: cluster.url });
      const c = ctx;
      const { v2 } = await seedBackfill(c.app, 1000);
      await c.app.delete('docs', ['doc-00100']);
      const plan = await planDistributedBackfill(c.backend, {
        namespace: 'docs@v2',
        rangeSize: 50,
        settings: { batchSize: 25 },
      });
      expect(plan.ranges).toBe(20);
      workers = [0, 1].map(() =>
        spawnWorker(
          c.url,
          c.schema,
          ['--until-done', '--lease-seconds', '3', '--heartbeat-seconds', '0.5', '--poll-ms', '200'],
          {
            delayMs: 60,
          },
        ),
      );
      // Both workers must be up before the outage (a worker started while the database is down exits
      // with STORE_FAILED, by design); on a loaded machine the second process can take seconds to boot.
      await until(
        'both workers to take ranges',
        async () => {
          const pids = workers.map((w) => w.child.pid);
          const { rows } = await c.backend.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM "${c.schema}".queue_workers WHERE pid = ANY($1::int[])`,
            [pids],
          );
          return rows[0]?.n === 2;
        },
        60_000,
        50,
      );
      await until(
        'a few ranges to finish',
        async () => ((await distributedStatus(c.backend, 'docs@v2')).plans[0]?.rangesDone ?? 0) >= 3,
        60_000,
        50,
      );
      const before = (await distributedStatus(c.backend, 'docs@v2')).plans[0]?.rangesDone ?? 0;
      await cluster.restart(1_500);
      // The application's own pool reconnects too: a write right after the restart reaches both namespaces.
      await until(
        'a write after the restart',
        async () => c.app.ingest('docs', [{ id: 'doc-00990', text: 'written after the restart' }]),
        15_000,
        200,
      );

      const codes = await Promise.all(workers.map((w) => exitWithin(w, 75_000)));
      expect(
        codes,
        workers.map((w) => `${w.stdout().slice(-1500)}\n${w.stderr().slice(-1500)}`).join('\n'),
      ).toEqual([0, 0]);
      const reports = workers.map(
        (w) => JSON.parse(w.stdout()) as { reason: string; ranges: number; dbRetries: number },
      );
      expect(reports.map((r) => r.reason)).toEqual(['drained', 'drained']);
      expect(before).toBeLessThan(20);
      // The outage was felt: ranges waited it out and resumed (rather than failing back to the queue).
      expect(reports.reduce((n, r) => n + r.dbRetries, 0)).toBeGreaterThan(0);

      expect(await assertNamespaceMatchesSource(c.app, 'docs@v2')).toEqual([]);
      expect((await c.backend.store.stats('docs@v2')).fingerprints).toEqual({ [v2.fingerprint]: 999 });
      const status = await distributedStatus(c.backend, 'docs@v2');
      expect(status.plans[0]).toMatchObject({ ranges: 20, rangesDone: 20, job: { state: 'done' } });
      const replan = await planDistributedBackfill(c.backend, { namespace: 'docs@v2', rangeSize: 50 });
      expect(replan).toMatchObject({ created: 0, enqueued: 0 });
    }, 180_000);
  });
}
