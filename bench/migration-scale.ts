/**
 * A full blue-green migration at scale on the embedded store (issue 16, item 4), with queries served all the
 * way through it, in one process (the application process that embeds reembed serves its own searches).
 *
 * - ingest: `n` documents of the peer workload (bench/workload.ts, generated chunk by chunk so the texts are
 *   never all in memory) into `docs@v1` (hashing 384-d, seed 1), in batches of `batch`;
 * - index: the v1 namespace readied for serving as a user would before taking traffic (`buildIndex`: the
 *   HNSW index above the store's threshold, else nothing to build);
 * - then, with a query loop running (`qps` text searches per second through the alias `docs`, k 10):
 *   start (`MigrationService.start`, blue-green to v2 = hashing 384-d seed 2, default options: the probe set
 *   is built and the default gates apply, as `reembed migrate start docs --to v2 --strategy blue-green`),
 *   backfill (`step` until the migration is validating, as `reembed migrate step docs`; the store builds
 *   v2's index after the backfill), cutover (`cutover`: the default gates, then one alias write, as
 *   `reembed migrate cutover docs`) and `after` seconds of serving after it.
 *
 * Every query's latency and outcome is recorded with the phase it started in; a failed query, an answer
 * built from two namespaces, an answer from v1 after the first one from v2 (invariant 7) are counted.
 * Memory: RSS sampled every `sampleMs`, `process.resourceUsage().maxRSS`, the loaded indexes' sizes.
 * Phase timings are written to `<results>/migration-scale.partial.json` as they complete, so a run stopped
 * early still leaves what it measured.
 *
 * PostgreSQL (`--pg`, needs REEMBED_PG_URL; a throwaway schema, dropped at the end): the same phases on
 * pgvector with deferred HNSW indexes (`hnsw.deferred`: `buildIndex` builds each in bulk, for v1 before
 * serving and for v2 after its backfill, as the store documents), and with `--workers=N` the backfill is
 * the distributed one: `planDistributedBackfill` (as `reembed worker plan`) and N `reembed worker
 * --until-done` processes; the migration's step then finds nothing left to write and moves on. The
 * workers' peak RSS (VmHWM) is sampled from /proc; on-disk size is the schema's relations.
 *
 * Run: npx tsx bench/migration-scale.ts [--n=1000000 --batch=5000 --qps=20 --before=5 --after=30]
 *      REEMBED_PG_URL=… npx tsx bench/migration-scale.ts --pg --workers=2 [--rangeSize=5000 --workerConcurrency=2]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigrationService } from '../src/app/migrate.js';
import { openReembed } from '../src/app/open.js';
import type { QueryResponse } from '../src/app/query.js';
import type { MigrationReport } from '../src/core/migration.js';
import { hashingSpace } from '../src/embedders/hashing.js';
import { planDistributedBackfill } from '../src/queue/plan.js';
import { distributedStatus } from '../src/queue/progress.js';
import type { PgBackend } from '../src/stores/pg/backend.js';
import { benchArgs, fmt, median, percentile, report, resultsDir } from './lib.js';
import { benchSchema, dropBenchSchema, openBenchApp, pgVersion, spawnPgWorker } from './pg-common.js';
import { workloadChunks } from './workload.js';

const args = benchArgs({
  n: 1_000_000,
  batch: 5_000,
  qps: 20,
  before: 5,
  after: 30,
  k: 10,
  sampleMs: 500,
  queries: 2_000,
  pg: false,
  workers: 0,
  rangeSize: 5_000,
  workerConcurrency: 2,
});
const onPg = args.pg === true || args.pg === 'true';
const workers = Number(args.workers);
if (workers > 0 && !onPg)
  throw new Error('--workers needs --pg (the distributed backfill runs on PostgreSQL)');
const n = Number(args.n);
const batch = Number(args.batch);
const k = Number(args.k);
const MiB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'reembed-migration-scale-'));
const db = join(dir, 'migration.db');
const started = performance.now();
const clock = () => (performance.now() - started) / 1000;

// ---- memory: sampled RSS, with the phase it was taken in --------------------------------------------------
let phase = 'setup';
/** When each phase began (performance.now()): a query is counted in the phase it was due in. */
const phaseStarts: { name: string; t: number }[] = [{ name: 'setup', t: 0 }];
const phaseAt = (t: number): string => phaseStarts.findLast((p) => p.t <= t)?.name ?? 'setup';
const rssSamples: { t: number; phase: string; rssMiB: number }[] = [];
const sample = () => rssSamples.push({ t: clock(), phase, rssMiB: process.memoryUsage.rss() / MiB });
const sampler = setInterval(sample, Number(args.sampleMs));
const maxRssMiB = () => process.resourceUsage().maxRSS / 1024;

// ---- phases -----------------------------------------------------------------------------------------------
interface PhaseRecord {
  name: string;
  seconds: number;
  maxRssMiB: number;
  rssEndMiB: number;
  load: number[];
  eventLoopMaxHeldMs: number;
  detail?: Record<string, unknown>;
}
const phases: PhaseRecord[] = [];
// How long the event loop was held (a synchronous scan or index build holds every query behind it): the
// longest gap between ticks of a 10 ms timer, per phase (a gap is counted in the phase it ended in).
const loopHeld = new Map<string, number>();
let lastTick = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  loopHeld.set(phase, Math.max(loopHeld.get(phase) ?? 0, now - lastTick - 10));
  lastTick = now;
}, 10);
const resultName = onPg ? 'migration-scale-pg' : 'migration-scale';
const partialPath = join(resultsDir(), `${resultName}.partial.json`);
/** What has been measured so far: completed phases, the one running, queries per phase, memory. */
function writePartial(extra: Record<string, unknown> = {}): void {
  const current = phaseStarts.at(-1) as { name: string; t: number };
  const perPhase: Record<string, unknown> = {};
  for (const p of new Set(queryLog.map((q) => q.phase)))
    perPhase[p] = queryStats(queryLog.filter((q) => q.phase === p));
  const partial = {
    n,
    phases,
    inProgress: phases.some((p) => p.name === current.name)
      ? null
      : { name: current.name, seconds: Number(fmt((performance.now() - current.t) / 1000, 1)) },
    queries: { total: queryLog.length, failed: queryLog.filter((q) => q.error).length, perPhase },
    peakRssMiB: Number(fmt(maxRssMiB(), 0)),
    ...(workers > 0 ? { workerPeakRssMiB: workerPeaks() } : {}),
    ...extra,
  };
  mkdirSync(resultsDir(), { recursive: true });
  writeFileSync(partialPath, `${JSON.stringify(partial, null, 2)}\n`);
}
// Interrupted (Ctrl-C, a timeout's SIGTERM): keep what was measured, then stop.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    writePartial({ interrupted: signal });
    console.error(`${signal}: measured so far written to ${partialPath}`);
    for (const w of workerProcs) w.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    // A statement in flight (a bulk index build) runs on in the server after its client goes: cancel this
    // schema's statements first, or the drop waits for them.
    const drop = pgBackend
      ? pgBackend.pool
          .query(
            `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid() AND position($1 in query) > 0`,
            [pgSchema],
          )
          .then(() => (pgBackend ? dropBenchSchema(pgBackend) : undefined))
          .catch(() => {})
      : Promise.resolve();
    void drop.finally(() => process.exit(130));
  });
async function timed<T>(name: string, fn: () => Promise<T>, detail?: (r: T) => Record<string, unknown>) {
  phase = name;
  phaseStarts.push({ name, t: performance.now() });
  const t = performance.now();
  console.error(`[${fmt(clock(), 0)} s] ${name} …`);
  const result = await fn();
  // Let the ticker fire once: a phase that held the loop to its end records it then.
  await new Promise((r) => setTimeout(r, 30));
  sample();
  const record: PhaseRecord = {
    name,
    seconds: (performance.now() - t) / 1000,
    maxRssMiB: Math.max(...rssSamples.filter((s) => s.phase === name).map((s) => s.rssMiB)),
    rssEndMiB: process.memoryUsage.rss() / MiB,
    load: loadavg().map((l) => Number(l.toFixed(2))),
    eventLoopMaxHeldMs: Number(fmt(loopHeld.get(name) ?? 0, 0)),
    ...(detail ? { detail: detail(result) } : {}),
  };
  phases.push(record);
  console.error(
    `[${fmt(clock(), 0)} s] ${name}: ${fmt(record.seconds, 1)} s, RSS max ${fmt(record.maxRssMiB, 0)} MiB (process peak ${fmt(maxRssMiB(), 0)} MiB), load ${record.load.join(' ')}`,
  );
  writePartial({ running: true });
  return result;
}

// ---- distributed workers (PostgreSQL, --workers) ----------------------------------------------------------
let pgBackend: PgBackend | null = null;
const workerProcs: { child: ChildProcess; exited: Promise<number | null>; peakKiB: number }[] = [];
/** Each worker's peak RSS so far (VmHWM from /proc), MiB. */
function workerPeaks(): number[] {
  for (const w of workerProcs) {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${w.child.pid}/status`, 'utf8'));
      if (hwm) w.peakKiB = Math.max(w.peakKiB, Number(hwm[1]));
    } catch {
      // exited: its last sample stands
    }
  }
  return workerProcs.map((w) => Number(fmt(w.peakKiB / 1024, 0)));
}
const workerSampler = setInterval(workerPeaks, Number(args.sampleMs));
function spawnWorker(schema: string): void {
  const { child, exited } = spawnPgWorker({
    schema,
    delayMs: 0,
    workerArgs: ['--concurrency', String(args.workerConcurrency), '--until-done'],
    stdio: ['ignore', 2, 2],
  });
  workerProcs.push({ child, exited, peakKiB: 0 });
}

// ---- the query loop ---------------------------------------------------------------------------------------
interface QueryRecord {
  phase: string;
  /** From the query's start to its answer. */
  ms: number;
  /** From when the query was due (one every 1/qps s) to its answer: includes the wait for a held event loop. */
  dueMs: number;
  namespace: string | null;
  error?: string;
}
const queryLog: QueryRecord[] = [];
let serving = false;
let loop: Promise<void> = Promise.resolve();
const queryTexts: string[] = [];

/** The namespace an answer came from, or an error when it mixes namespaces or fingerprints. */
function servedBy(response: QueryResponse): { namespace: string | null; mixed: string | null } {
  const namespaces = new Set(response.hits.map((h) => h.namespace));
  const served = response.trace.reads.filter((r) => r.role === 'served').map((r) => r.namespace);
  for (const s of served) namespaces.add(s);
  if (namespaces.size > 1 || response.trace.mixedVersion || response.trace.fingerprints.length > 1)
    return { namespace: null, mixed: `mixed answer: ${[...namespaces].join(', ')}` };
  return { namespace: [...namespaces][0] ?? null, mixed: null };
}

function startServing(app: Awaited<ReturnType<typeof openReembed>>): void {
  serving = true;
  const interval = 1000 / Number(args.qps);
  loop = (async () => {
    let i = 0;
    let due = performance.now();
    while (serving) {
      const t0 = performance.now();
      const at = phaseAt(due);
      const text = queryTexts[i++ % queryTexts.length] as string;
      try {
        const response = await app.search('docs', { text, k });
        const ms = performance.now() - t0;
        const dueMs = performance.now() - due;
        const { namespace, mixed } = servedBy(response);
        if (mixed) queryLog.push({ phase: at, ms, dueMs, namespace, error: mixed });
        else if (response.hits.length === 0)
          queryLog.push({ phase: at, ms, dueMs, namespace, error: 'no hits' });
        else queryLog.push({ phase: at, ms, dueMs, namespace });
      } catch (error) {
        const message =
          error instanceof Error
            ? `${(error as { code?: string }).code ?? ''} ${error.message}`
            : String(error);
        const now = performance.now();
        queryLog.push({ phase: at, ms: now - t0, dueMs: now - due, namespace: null, error: message });
      }
      // A query due while the loop was held counts the hold in `dueMs`; the slots missed meanwhile are skipped.
      due += interval;
      const late = performance.now() - due;
      if (late > 0) due += Math.ceil(late / interval) * interval;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
  })();
}

function queryStats(records: readonly QueryRecord[]) {
  const ok = records.filter((r) => !r.error).map((r) => r.ms);
  const due = records.filter((r) => !r.error).map((r) => r.dueMs);
  const byNamespace: Record<string, number> = {};
  for (const r of records) if (r.namespace) byNamespace[r.namespace] = (byNamespace[r.namespace] ?? 0) + 1;
  return {
    queries: records.length,
    failed: records.filter((r) => r.error).length,
    p50Ms: Number(fmt(percentile(ok, 50), 2)),
    p99Ms: Number(fmt(percentile(ok, 99), 2)),
    maxMs: Number(fmt(Math.max(0, ...ok), 1)),
    dueP50Ms: Number(fmt(percentile(due, 50), 2)),
    dueP99Ms: Number(fmt(percentile(due, 99), 2)),
    dueMaxMs: Number(fmt(Math.max(0, ...due), 1)),
    byNamespace,
  };
}

function dirBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

function stepsOf(r: MigrationReport) {
  return r.steps.map((s) => ({ name: s.name, status: s.status, detail: s.detail }));
}

const pgSchema = onPg ? benchSchema('migscale') : '';
const app = onPg
  ? await (async () => {
      const opened = await openBenchApp({ schema: pgSchema, hnsw: { deferred: true } });
      pgBackend = opened.backend;
      return opened.app;
    })()
  : await openReembed({ db, actor: 'bench' });
/** What the store holds on disk: the SQLite file, WAL and index files, or the schema's relations. */
async function diskMiB(): Promise<number> {
  if (!pgBackend) return dirBytes(dir) / MiB;
  const { rows } = await pgBackend.pool.query<{ bytes: string }>(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
    [pgSchema],
  );
  return Number(rows[0]?.bytes ?? 0) / MiB;
}
try {
  const v1 = hashingSpace('v1', { dimension: 384, seed: 1 });
  const v2 = hashingSpace('v2', { dimension: 384, seed: 2 });
  await app.addSpace(v1);
  await app.addSpace(v2);
  await app.createCollection('docs', 'v1');

  // Queries: the first 8 words of documents spread over the corpus, kept while their chunk goes by.
  const every = Math.max(1, Math.floor(n / Number(args.queries)));
  let seen = 0;
  await timed(
    'ingest',
    async () => {
      for (const chunk of workloadChunks(n, batch)) {
        for (let i = 0; i < chunk.length; i++)
          if ((seen + i) % every === 0)
            queryTexts.push((chunk[i]?.text ?? '').split(' ').slice(0, 8).join(' '));
        await app.ingest('docs', chunk);
        seen += chunk.length;
        if (seen % (batch * 20) === 0) console.error(`  ingested ${seen} (${fmt(clock(), 0)} s)`);
      }
    },
    () => ({ documents: seen, docsPerSecond: 0 }),
  );
  const ingest = phases.at(-1) as PhaseRecord;
  (ingest.detail as Record<string, unknown>).docsPerSecond = Math.round(n / ingest.seconds);

  await timed(
    'index-v1',
    async () => {
      await app.backend.store.buildIndex?.('docs@v1');
      return app.backend.store.describeIndex?.('docs@v1');
    },
    (d) => ({ index: d }),
  );

  // Serving starts here: everything from the migration's start to after its cutover is measured.
  phase = 'serve-before';
  phaseStarts.push({ name: phase, t: performance.now() });
  startServing(app);
  await timed('serve-before', () => new Promise((r) => setTimeout(r, Number(args.before) * 1000)));
  const service = new MigrationService(app);
  const start = await timed(
    'start',
    () => service.start({ alias: 'docs', to: 'v2', strategy: 'blue-green' }),
    (r) => ({ ok: r.ok, state: r.migration.state, steps: stepsOf(r), gates: r.migration.options.gates }),
  );
  if (!start.ok) throw new Error(`migrate start failed: ${JSON.stringify(stepsOf(start))}`);
  const id = start.migration.id;
  const stepReports: unknown[] = [];
  let lastProgress = 0;
  // The step writes every document, then the store builds v2's index (`afterBackfill`): split the two.
  let writesDoneAt = Number.NaN;
  const backfill = await timed(
    'backfill',
    async () => {
      let m = start.migration;
      if (workers > 0 && pgBackend) {
        // As `reembed worker plan docs` and `reembed worker --until-done` on N machines; then `migrate step`
        // finds every source written and moves the migration on.
        const backend = pgBackend;
        await planDistributedBackfill(backend, {
          namespace: m.to,
          migrationId: m.id,
          rangeSize: Number(args.rangeSize),
        });
        for (let w = 0; w < workers; w++) spawnWorker(pgSchema);
        for (;;) {
          const plan = (await distributedStatus(backend, m.to)).plans[0];
          if (plan) {
            if (plan.sourcesDone - lastProgress >= 100_000 || plan.rangesDone === plan.ranges) {
              lastProgress = plan.sourcesDone;
              console.error(`  workers: ${plan.sourcesDone} of ${plan.sources} (${fmt(clock(), 0)} s)`);
            }
            if (plan.rangesDone === plan.ranges) break;
          }
          if (workerProcs.every((w) => w.child.exitCode !== null))
            throw new Error('every worker exited before the plan was done');
          await new Promise((r) => setTimeout(r, 500));
        }
        writesDoneAt = performance.now();
        const codes = await Promise.all(workerProcs.map((w) => w.exited));
        if (codes.some((c) => c !== 0)) throw new Error(`worker exit codes ${codes.join(', ')}`);
        workerPeaks();
      }
      for (let i = 0; m.state === 'backfilling' || m.state === 'planned'; i++) {
        if (i > 5) throw new Error(`migration still ${m.state} after ${i} steps`);
        const r = await service.step(id, {
          onProgress: (p) => {
            if (p.done === p.total && workers === 0) writesDoneAt = performance.now();
            if (p.done - lastProgress >= 100_000 || p.done === p.total) {
              lastProgress = p.done;
              console.error(`  backfill ${p.done} of ${p.total} (${fmt(clock(), 0)} s)`);
            }
          },
        });
        stepReports.push(stepsOf(r));
        if (!r.ok) throw new Error(`migrate step failed: ${JSON.stringify(stepsOf(r))}`);
        m = r.migration;
      }
      return m;
    },
    (m) => ({ state: m.state, steps: stepReports }),
  );
  const backfillPhase = phases.at(-1) as PhaseRecord;
  const backfillStart = phaseStarts.find((p) => p.name === 'backfill')?.t ?? Number.NaN;
  const writeSeconds = (writesDoneAt - backfillStart) / 1000;
  Object.assign(backfillPhase.detail as Record<string, unknown>, {
    docsPerSecond: Math.round(n / backfillPhase.seconds),
    writeSeconds: Number(fmt(writeSeconds, 1)),
    writeDocsPerSecond: Math.round(n / writeSeconds),
    afterWritesSeconds: Number(fmt(backfillPhase.seconds - writeSeconds, 1)),
  });
  if (pgBackend) {
    // `hnsw.deferred`: the bulk build the store documents for after a backfill, before the cutover serves it.
    await timed('index-v2', async () => {
      await app.backend.store.buildIndex?.(backfill.to);
    });
  }
  const indexesAfterBackfill = {
    v1: await app.backend.store.describeIndex?.('docs@v1'),
    v2: await app.backend.store.describeIndex?.(backfill.to),
  };
  const cutover = await timed(
    'cutover',
    () => service.cutover(id),
    (r) => ({ ok: r.ok, state: r.migration.state, steps: stepsOf(r) }),
  );
  if (!cutover.ok) throw new Error(`migrate cutover failed: ${JSON.stringify(stepsOf(cutover))}`);
  await timed('serve-after', () => new Promise((r) => setTimeout(r, Number(args.after) * 1000)));
  serving = false;
  await loop;
  clearInterval(sampler);
  clearInterval(ticker);
  await service.close();

  // ---- what the queries saw -------------------------------------------------------------------------------
  const perPhase: Record<string, ReturnType<typeof queryStats>> = {};
  for (const p of new Set(queryLog.map((q) => q.phase)))
    perPhase[p] = queryStats(queryLog.filter((q) => q.phase === p));
  const firstNew = queryLog.findIndex((q) => q.namespace === backfill.to);
  const oldAfterNew =
    firstNew < 0 ? 0 : queryLog.slice(firstNew).filter((q) => q.namespace === backfill.from).length;
  const failures = queryLog.filter((q) => q.error);
  const onDisk = await diskMiB();
  const describe = {
    v1: await app.backend.store.describeIndex?.('docs@v1'),
    v2: await app.backend.store.describeIndex?.(backfill.to),
  };
  const migrationSeconds = phases
    .filter((p) => ['start', 'backfill', 'cutover'].includes(p.name))
    .reduce((a, p) => a + p.seconds, 0);
  report(resultName, {
    ...(pgBackend ? { database: await pgVersion(pgBackend) } : {}),
    config: {
      n,
      store: pgBackend ? 'PostgreSQL + pgvector (hnsw.deferred: bulk index builds)' : 'embedded SQLite',
      backfill:
        workers > 0
          ? `distributed: ${workers} reembed worker processes (--concurrency ${args.workerConcurrency}), ranges of ${args.rangeSize}`
          : 'in-process (migrate step)',
      batch,
      qps: Number(args.qps),
      k,
      afterSeconds: Number(args.after),
      spaces: 'v1 hashing-384 seed 1 → v2 hashing-384 seed 2 (blue-green, default options and gates)',
      serving: 'in-process: one query loop through the alias, text search, started after the v1 index',
    },
    phases,
    migration: {
      wallSeconds: Number(fmt(migrationSeconds, 1)),
      backfillDocsPerSecond: (backfillPhase.detail as Record<string, unknown>).docsPerSecond,
      backfillWriteDocsPerSecond: (backfillPhase.detail as Record<string, unknown>).writeDocsPerSecond,
      backfillIndexSeconds: (backfillPhase.detail as Record<string, unknown>).afterWritesSeconds,
      ingestDocsPerSecond: (ingest.detail as Record<string, unknown>).docsPerSecond,
      gates: start.migration.options.gates,
      finalState: cutover.migration.state,
    },
    queries: {
      total: queryLog.length,
      failed: failures.length,
      firstFailures: failures.slice(0, 5),
      oldAfterNew,
      servedNew: queryLog.filter((q) => q.namespace === backfill.to).length,
      servedOld: queryLog.filter((q) => q.namespace === backfill.from).length,
      overall: queryStats(queryLog),
      perPhase,
    },
    memory: {
      peakRssMiB: Number(fmt(maxRssMiB(), 0)),
      maxSampledRssMiB: Number(fmt(Math.max(...rssSamples.map((s) => s.rssMiB)), 0)),
      medianSampledRssMiB: Number(fmt(median(rssSamples.map((s) => s.rssMiB)), 0)),
      heapUsedMiB: Number(fmt(process.memoryUsage().heapUsed / MiB, 0)),
      externalMiB: Number(fmt(process.memoryUsage().external / MiB, 0)),
      indexesAfterBackfill,
      indexesAtEnd: describe,
      ...(workers > 0 ? { workerPeakRssMiB: workerPeaks() } : {}),
      rssTimeline: rssSamples
        .filter((_, i) => i % Math.max(1, Math.floor(rssSamples.length / 200)) === 0)
        .map((s) => [Number(fmt(s.t, 1)), s.phase, Number(fmt(s.rssMiB, 0))]),
    },
    disk: {
      totalMiB: Number(fmt(onDisk, 1)),
      ...(pgBackend ? { schema: pgSchema } : { files: readdirSync(dir) }),
    },
  });
  rmSync(partialPath, { force: true });
} catch (error) {
  serving = false;
  await loop;
  clearInterval(sampler);
  clearInterval(ticker);
  writePartial({
    error: error instanceof Error ? error.message : String(error),
  });
  throw error;
} finally {
  clearInterval(sampler);
  clearInterval(ticker);
  clearInterval(workerSampler);
  for (const w of workerProcs) w.child.kill('SIGTERM');
  await Promise.all(workerProcs.map((w) => w.exited));
  if (pgBackend) await dropBenchSchema(pgBackend);
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
