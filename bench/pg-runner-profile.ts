/**
 * Where the single-process BackfillRunner's time goes on PostgreSQL (issue 5 (a), diagnostic): the
 * runner of bench/pg-backfill.ts (zero-cost embedder, `--n` documents, batches of `--batchSize`,
 * `--concurrency`, HNSW deferred) with its repository calls timed (summed call durations: concurrent
 * calls overlap, so a sum can exceed the wall time), the Node process's CPU time, and the CPU time of
 * every PostgreSQL process on this machine (from /proc; the server must run here).
 * With `--cpuprof=PREFIX`, the Node CPU profile of each run alone (not the set-up) is written to
 * PREFIX.<run>.cpuprofile (open it in Chrome DevTools or speedscope). Each run also reports how long 0,
 * 1, 2, ... store writes were in flight at once (`writes_in_flight_ms`); the summary gives the median share
 * of the wall time with `concurrency` or more (`median_share_writes_saturated`).
 * Run: REEMBED_PG_URL=... npx tsx bench/pg-runner-profile.ts [--n=20000 --runs=3 --batchSize=500 --concurrency=2]
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { benchArgs, fmt, median, report } from './lib.js';
import { dropBenchSchema, openBackfillCorpus, postgresCpuMs } from './pg-common.js';

const args = benchArgs({
  n: 20_000,
  runs: 3,
  batchSize: 500,
  concurrency: 2,
  dimension: 384,
  cpuprof: '',
  pageSize: 0,
});
const n = Number(args.n);
const dim = Number(args.dimension);

type Timers = Record<string, { ms: number; calls: number }>;

/** Replaces `object[method]` with a wrapper that adds each call's duration to `timers[label]`. */
function time(timers: Timers, object: object, method: string, label: string): void {
  const target = object as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const original = (target[method] as (...a: unknown[]) => Promise<unknown>).bind(object);
  target[method] = async (...a: unknown[]) => {
    const t = performance.now();
    inFlight.change(label, +1);
    try {
      return await original(...a);
    } finally {
      inFlight.change(label, -1);
      const entry = timers[label] ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - t;
      entry.calls++;
      timers[label] = entry;
    }
  };
}

/** How long (ms) each number of calls of a label was in flight at once, over the current run. */
const inFlight = {
  levels: {} as Record<string, number[]>,
  current: {} as Record<string, number>,
  since: {} as Record<string, number>,
  reset(): void {
    this.levels = {};
    this.current = {};
    this.since = {};
  },
  /** Closes the interval at the current level, then moves to the next. */
  change(label: string, by: number): void {
    const now = performance.now();
    const level = this.current[label] ?? 0;
    const levels = this.levels[label] ?? [];
    this.levels[label] = levels;
    levels[level] = (levels[level] ?? 0) + (now - (this.since[label] ?? now));
    this.current[label] = level + by;
    this.since[label] = now;
  },
  /** The run's histogram for `label`, from `start` (ms, performance.now()) to now. */
  histogram(label: string, start: number): number[] {
    this.change(label, 0);
    const levels = Array.from(this.levels[label] ?? [], (ms) => ms ?? 0);
    // Before its first call the label was idle: that time counts at level 0.
    const covered = levels.reduce((a, b) => a + b, 0);
    levels[0] = (levels[0] ?? 0) + Math.max(0, performance.now() - start - covered);
    return levels.map((ms) => Math.round(ms));
  },
};

const corpus = await openBackfillCorpus('profile', n, dim);
const { backend } = corpus;
const runs: Record<string, number | number[] | Timers>[] = [];
try {
  const timers: Timers = {};
  time(timers, backend.sources, 'scan', 'sources.scan');
  time(timers, backend.store, 'heads', 'store.heads');
  time(timers, backend.store, 'write', 'store.write');
  const profiler = args.cpuprof ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
  }
  for (let run = 0; run < Number(args.runs); run++) {
    await corpus.fresh();
    for (const key of Object.keys(timers)) delete timers[key];
    const runner = await corpus.runner(`profile-${run}`, {
      batchSize: Number(args.batchSize),
      concurrency: Number(args.concurrency),
      ...(Number(args.pageSize) > 0 ? { pageSize: Number(args.pageSize) } : {}),
    });
    await profiler?.post('Profiler.start');
    inFlight.reset();
    const cpu = process.cpuUsage();
    const pg = postgresCpuMs();
    const t = performance.now();
    const r = await runner.run();
    const wall = performance.now() - t;
    const writesInFlight = inFlight.histogram('store.write', t);
    const used = process.cpuUsage(cpu);
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(`${String(args.cpuprof)}.${run}.cpuprofile`, JSON.stringify(profile));
    }
    if (r.status !== 'done' || r.written !== n) throw new Error(`runner: ${r.status}, ${r.written} written`);
    const row = {
      wall_ms: Math.round(wall),
      node_cpu_ms: Math.round((used.user + used.system) / 1000),
      postgres_cpu_ms: postgresCpuMs() - pg,
      calls: structuredClone(timers),
      /** ms with 0, 1, 2, ... store writes in flight. */
      writes_in_flight_ms: writesInFlight,
    };
    runs.push(row);
    console.error(
      `run ${run + 1}: wall ${row.wall_ms} ms, node CPU ${row.node_cpu_ms} ms, postgres CPU ${row.postgres_cpu_ms} ms; ` +
        Object.entries(timers)
          .map(([k, v]) => `${k} ${fmt(v.ms, 0)} ms / ${v.calls} calls`)
          .join(', ') +
        `; ms with 0/1/2/... writes in flight: ${writesInFlight.join(' / ')}`,
    );
  }
} finally {
  await dropBenchSchema(backend);
  await corpus.app.close();
}
const med = (key: string): number => median(runs.map((r) => r[key] as number));
report('pg-runner-profile', {
  docs: n,
  batch: Number(args.batchSize),
  concurrency: Number(args.concurrency),
  median_wall_ms: med('wall_ms'),
  median_node_cpu_ms: med('node_cpu_ms'),
  median_postgres_cpu_ms: med('postgres_cpu_ms'),
  /** Share of the wall time with at least `concurrency` store writes in flight. */
  median_share_writes_saturated: median(
    runs.map((r) => {
      const levels = r.writes_in_flight_ms as unknown as number[];
      const total = levels.reduce((a, b) => a + b, 0);
      const saturated = levels.slice(Number(args.concurrency)).reduce((a, b) => a + b, 0);
      return total > 0 ? saturated / total : 0;
    }),
  ),
  runs,
});
