/**
 * Issue 5 (b): two `reembed worker` processes vs one on the same distributed backfill, with an embedder
 * of 50 ms latency per call (one call per batch). Each worker works on one range at a time
 * (`--concurrency 1`), so one process is latency-bound and a second should nearly double throughput.
 * Workers are started and registered before the clock starts; the clock stops when the plan's last range
 * commits. Each run starts from an empty target namespace (a fresh plan generation). Median over `runs`.
 * Goal: 2 workers >= 1.6x the throughput of 1.
 * Run: REEMBED_PG_URL=... npx tsx bench/pg-workers.ts [--n=10000 --runs=3 --delay=50]
 */
import type { ChildProcess } from 'node:child_process';
import { defineSpace } from '../src/core/space.js';
import { planDistributedBackfill } from '../src/queue/plan.js';
import { distributedStatus } from '../src/queue/progress.js';
import { benchArgs, fmt, median, report } from './lib.js';
import {
  benchSchema,
  dropBenchSchema,
  latencyHashingFactory,
  openBenchApp,
  pgVersion,
  requireUrl,
  spawnPgWorker,
} from './pg-common.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({ n: 10_000, runs: 3, delay: 50, rangeSize: 250, batchSize: 50, dimension: 64 });
const n = Number(args.n);
requireUrl();
const schema = benchSchema('workers');
const { app, backend } = await openBenchApp({ schema, hnsw: { deferred: true } }, [latencyHashingFactory(0)]);
const hashing = (name: string, seed: number) =>
  defineSpace(name, {
    provider: 'hashing',
    model: 'fnv1a',
    dimension: Number(args.dimension),
    params: { seed },
  });
const v1 = hashing('v1', 1);
const v2 = hashing('v2', 2);
const ns = 'docs@v2';

function spawnWorker(): { child: ChildProcess; exited: Promise<number | null> } {
  return spawnPgWorker({
    schema,
    delayMs: Number(args.delay),
    workerArgs: ['--concurrency', '1', '--poll-ms', '200'],
    stdio: 'ignore',
  });
}

async function registered(count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rows = await backend.pool
      .query(`SELECT 1 FROM "${schema}".queue_workers WHERE heartbeat_at > now() - interval '5 seconds'`)
      .catch(() => ({ rowCount: 0 }));
    if ((rows.rowCount ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`${count} worker(s) did not register`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runOnce(workers: number, generation: number): Promise<number> {
  await backend.store.dropNamespace(ns);
  await backend.store.createNamespace({
    name: ns,
    fingerprint: v2.fingerprint,
    spaceName: v2.name,
    dimension: v2.spec.dimension,
    metric: v2.spec.metric,
  });
  const procs = Array.from({ length: workers }, spawnWorker);
  try {
    await registered(workers);
    const t = performance.now();
    await planDistributedBackfill(backend, {
      namespace: ns,
      rangeSize: Number(args.rangeSize),
      fresh: generation > 0,
      settings: { batchSize: Number(args.batchSize) },
    });
    for (;;) {
      const plan = (await distributedStatus(backend, ns)).plans[0];
      if (plan && plan.rangesDone === plan.ranges) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = performance.now() - t;
    const stats = await backend.store.stats(ns);
    if (stats.records !== n) throw new Error(`${stats.records} records, expected ${n}`);
    return ms;
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await backend.pool.query(`DELETE FROM "${schema}".queue_workers`);
  }
}

try {
  await app.addSpace(v1);
  await app.addSpace(v2);
  await app.createCollection('docs', 'v1');
  const docs = buildWorkload(n).docs;
  for (let i = 0; i < n; i += 2_000) await app.ingest('docs', docs.slice(i, i + 2_000));
  await app.createNamespace('docs', v2, 'building');
  const one: number[] = [];
  const two: number[] = [];
  let generation = 0;
  for (let run = 0; run < Number(args.runs); run++) {
    one.push(await runOnce(1, generation++));
    two.push(await runOnce(2, generation++));
    console.error(
      `run ${run + 1}: 1 worker ${fmt(one.at(-1) ?? 0, 0)} ms, 2 workers ${fmt(two.at(-1) ?? 0, 0)} ms`,
    );
  }
  const rate = (ms: number) => (n / ms) * 1000;
  const calls = Math.ceil(n / Number(args.batchSize));
  report('pg-workers', {
    database: await pgVersion(backend),
    config: {
      n,
      runs: Number(args.runs),
      delayMsPerCall: Number(args.delay),
      rangeSize: Number(args.rangeSize),
      batchSize: Number(args.batchSize),
      dimension: Number(args.dimension),
      workerConcurrency: 1,
      embeddingCalls: calls,
    },
    latencyFloorMs: { oneWorker: calls * Number(args.delay), twoWorkers: (calls * Number(args.delay)) / 2 },
    oneWorker: { medianMs: median(one), docsPerSecond: rate(median(one)), runsMs: one },
    twoWorkers: { medianMs: median(two), docsPerSecond: rate(median(two)), runsMs: two },
    speedup: median(one) / median(two),
    goal: '2 workers >= 1.6x the throughput of 1',
  });
} finally {
  await dropBenchSchema(backend);
  await backend.close();
}
