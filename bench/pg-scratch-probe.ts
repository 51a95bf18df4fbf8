import { planDistributedBackfill } from '../src/queue/plan.js';
import pg from 'pg';
import type { PgPoolLike } from '../src/stores/pg/pool.js';
const real = new pg.Pool({ connectionString: process.env.REEMBED_PG_URL, max: 8 });
const times = new Map<string, [number, number]>();
const wrap = (q: (t: string, v?: readonly unknown[]) => Promise<unknown>) => async (t: string, v?: readonly unknown[]) => {
  const s = performance.now(); try { return await q(t, v); } finally { const k = t.replace(/\s+/g, ' ').replace(/"bench_probe_[0-9a-f]+"\./g, '').slice(0, 60); const e = times.get(k) ?? [0, 0]; times.set(k, [e[0] + performance.now() - s, e[1] + 1]); }
};
const pool: PgPoolLike = { query: wrap((t, v) => real.query(t, v as unknown[])) as never, connect: async () => { const c = await real.connect(); return { query: wrap((t, v) => c.query(t, v as unknown[])) as never, release: (e?: Error | boolean) => c.release(e as never) }; }, end: () => real.end() };
import { BackfillWorker } from '../src/queue/worker.js';
import { benchSchema, dropBenchSchema, openBenchApp, precomputedFactory, precomputedSpace, precomputeVectors } from './pg-common.js';
import { buildWorkload } from './workload.js';
const n = 10000, dim = 384;
const docs = buildWorkload(n).docs;
const src = precomputedSpace('pre-src', dim), dst = precomputedSpace('pre-dst', dim);
const vectors = await precomputeVectors(dst, docs);
const { app, backend } = await openBenchApp({ schema: benchSchema('probe'), hnsw: { deferred: true }, pool } as never, [precomputedFactory(vectors)]);
try {
  await app.addSpace(src); await app.addSpace(dst); await app.createCollection('docs', src.name);
  for (let i = 0; i < n; i += 2000) await app.ingest('docs', docs.slice(i, i + 2000));
  await app.createNamespace('docs', dst, 'building');
  const worker = await BackfillWorker.start(app, { concurrency: Number(process.argv[2] ?? 2), pollMs: 100 });
  const ms: number[] = [];
  const done = new Promise<void>((r) => worker.on('range', (o: { planFinished: boolean; ms: number }) => { ms.push(o.ms); if (o.planFinished) r(); }));
  times.clear();
  const t = performance.now();
  await planDistributedBackfill(backend, { namespace: 'docs@pre-dst', rangeSize: 500, settings: { batchSize: 250 } });
  const tp = performance.now() - t;
  await done;
  console.log('total', performance.now() - t, 'plan', tp, 'ranges', ms.length, 'sum range ms', ms.reduce((a, b) => a + b, 0), 'per range', ms.map((x) => x.toFixed(0)).join(' '));
  await worker.stop();
  console.log([...times.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 25).map(([k, v]) => `${v[0].toFixed(0).padStart(6)} ${String(v[1]).padStart(4)} ${k}`).join('\n'));
} finally { await dropBenchSchema(backend); await backend.close(); await real.end(); }
