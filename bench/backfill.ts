/**
 * Issue 3 backfill benchmarks, on the embedded store, through the real BackfillRunner:
 *  A. zero-cost embedder: full re-embed of N documents vs the store's raw insert rate for the same
 *     vectors (the same SourceWrites written straight with store.write), measured in the same run.
 *     Goal >= 80%.
 *  B. an embedder of 50 ms latency per batch of 128, concurrency 8: throughput vs the ideal
 *     8 x 128 / 0.05 s = 20,480 docs/s. Goal >= 90%.
 *  C. resident memory (RSS, sampled every 50 ms by a worker thread) of a fresh process backfilling
 *     200,000 ingested documents. Goal < 300 MB.
 * Every timed phase starts with an empty WAL (see `settleWal`). `--reader=auto,off` compares reader-thread
 * settings of the runner (BackfillOptions.readerThread) back to back in every run of A (and runs B and C
 * with the first one).
 * The package runs compiled, as users run it (`dist/`, built first when stale; `--from=src` runs the
 * TypeScript sources through tsx instead, where the reader thread takes ~4x longer to load: bench/reader-thread.ts).
 * Run: npx tsx bench/backfill.ts [--part=A|B|C|all --n=20000 --runs=3 --memN=200000 --reader=auto --from=dist]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Reembed } from '../src/app/reembed.js';
import type { SourceWrite } from '../src/core/records.js';
import type { Space } from '../src/core/space.js';
import type { Embedder } from '../src/ports/embedder.js';
import { benchArgs, fmt, load, median, report } from './lib.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({
  part: 'all',
  n: 20_000,
  runs: 3,
  memN: 200_000,
  latencyN: 40_000,
  reader: 'auto',
  db: '',
  from: 'dist',
});
// The package as users run it (compiled), unless `--from=src`.
const from = String(args.from) === 'src' ? 'src' : 'dist';
const { embedSources } = await load<typeof import('../src/app/embed-sources.js')>('app/embed-sources', from);
const { openReembed } = await load<typeof import('../src/app/open.js')>('app/open', from);
const { defineSpace } = await load<typeof import('../src/core/space.js')>('core/space', from);
const { BackfillRunner } = await load<typeof import('../src/jobs/backfill.js')>('jobs/backfill', from);
/** `--reader=auto,off`: backfill once per reader-thread setting in every run (back to back, order rotated). */
const readers = String(args.reader).split(',') as ('auto' | 'on' | 'off')[];
const DIM = 384;
const v1 = defineSpace('v1', { provider: 'hashing', model: 'fnv1a', dimension: DIM, params: { seed: 1 } });
const v2 = defineSpace('v2', { provider: 'hashing', model: 'fnv1a', dimension: DIM, params: { seed: 2 } });
const raw = defineSpace('raw', {
  provider: 'hashing',
  model: 'fnv1a',
  dimension: DIM,
  params: { seed: 2 },
  revision: 'raw',
});
/** One target space per reader setting compared in a run (same vectors, distinct namespaces). */
const targetOf = (reader: string, i: number): Space =>
  i === 0
    ? v2
    : defineSpace(`v2-${reader}`, {
        provider: 'hashing',
        model: 'fnv1a',
        dimension: DIM,
        params: { seed: 2 },
        revision: reader,
      });

/**
 * A short lookup key for a text. Keying the map by the whole text would make the "zero-cost" embedder
 * hash every (~1 KB, freshly read) text, about 8% of a run's main-thread time; `setup` checks that the
 * keys of the corpus are unique, so the lookup still returns each text's own vector.
 */
const keyOf = (text: string): number => {
  let h = 0x811c9dc5 ^ text.length;
  for (let i = 0; i < text.length; i += 7) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/** Returns precomputed vectors: embedding costs nothing but a map lookup (and `latencyMs` of waiting). */
function precomputedEmbedder(space: Space, vectors: Map<number, Float32Array>, latencyMs = 0): Embedder {
  return {
    space,
    maxBatchSize: 128,
    countTokens: (text) => text.length >> 2,
    async embed(texts) {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      return texts.map((t) => vectors.get(keyOf(t)) as Float32Array);
    },
  };
}

async function setup(n: number): Promise<{ app: Reembed; dir: string; vectors: Map<number, Float32Array> }> {
  const dir = mkdtempSync(join(tmpdir(), 'reembed-bench-'));
  const app = await openReembed({ db: join(dir, 'bench.db'), actor: 'bench' });
  for (const s of [v1, v2, raw, ...readers.slice(1).map((r, i) => targetOf(r, i + 1))]) await app.addSpace(s);
  await app.createCollection('bench', 'v1');
  const workload = buildWorkload(n);
  for (let i = 0; i < n; i += 5_000) await app.ingest('bench', workload.docs.slice(i, i + 5_000));
  const real = await app.embedders.get(v2);
  const vectors = new Map<number, Float32Array>();
  const texts = workload.docs.map((d) => d.text);
  for (let i = 0; i < texts.length; i += 1_000) {
    const slice = texts.slice(i, i + 1_000);
    const embedded = await real.embed(slice, { inputType: 'document' });
    embedded.forEach((v, j) => {
      vectors.set(keyOf(slice[j] as string), v);
    });
  }
  if (vectors.size !== new Set(texts).size) throw new Error('lookup keys of the corpus are not unique');
  return { app, dir, vectors };
}

/**
 * Every timed phase starts from the same WAL state: empty, its file already allocated. Otherwise the
 * automatic checkpoint (every 64 MiB of WAL, ~0.1 s) lands in whichever phase crosses the threshold and
 * swings a phase of ~0.5 s by ±25%.
 */
function settleWal(app: Reembed): void {
  (app.backend as { db?: { pragma(sql: string): unknown } }).db?.pragma('wal_checkpoint(RESTART)');
}

async function backfill(
  app: Reembed,
  embedder: Embedder,
  namespace: string,
  settings: Record<string, number>,
  readerThread: 'auto' | 'on' | 'off' = 'auto',
) {
  const backend = app.backend;
  const runner = new BackfillRunner(
    { store: backend.store, sources: backend.sources, jobs: backend.jobs!, embedder, encode: embedSources },
    { collection: 'bench', namespace, settings, readerThread },
  );
  settleWal(app);
  const started = performance.now();
  const result = await runner.run();
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 'done') throw new Error(`backfill ${result.status}: ${JSON.stringify(result.error)}`);
  return { seconds, written: result.written };
}

async function partA(): Promise<Record<string, unknown>> {
  const n = Number(args.n);
  const rawRates: number[] = [];
  const rates = readers.map(() => [] as number[]);
  const ratios = readers.map(() => [] as number[]);
  for (let run = 0; run < Number(args.runs); run++) {
    const { app, dir, vectors } = await setup(n);
    await app.createNamespace('bench', raw, 'building');
    const targets = readers.map((r, i) => targetOf(r, i));
    for (const target of targets) await app.createNamespace('bench', target, 'building');
    // Raw: the same vectors as versioned SourceWrites, written straight into the store in batches of 128.
    const docs = await app.backend.sources.scan('bench', { limit: n });
    const writes: SourceWrite[] = await embedSources(precomputedEmbedder(raw, vectors), docs);
    settleWal(app);
    const t = performance.now();
    for (let i = 0; i < writes.length; i += 128) {
      await app.backend.store.write('bench@raw', raw.fingerprint, writes.slice(i, i + 128));
    }
    const rawRate = n / ((performance.now() - t) / 1000);
    rawRates.push(rawRate);
    const line: string[] = [];
    for (let k = 0; k < readers.length; k++) {
      const i = (k + run) % readers.length; // rotate the order of the variants from run to run
      const target = targets[i] as Space;
      const { seconds, written } = await backfill(
        app,
        precomputedEmbedder(target, vectors),
        `bench@${target.name}`,
        { batchSize: 128, concurrency: 4 },
        readers[i],
      );
      if (written !== n) throw new Error(`backfill wrote ${written} of ${n}`);
      const rate = n / seconds;
      rates[i]?.push(rate);
      ratios[i]?.push(rate / rawRate);
      line[i] = `backfill[reader=${readers[i]}] ${fmt(rate, 0)}/s, ratio ${fmt(rate / rawRate, 2)}`;
    }
    console.error(`A run ${run + 1}: raw ${fmt(rawRate, 0)}/s, ${line.join('; ')}`);
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const variant = (i: number) => ({
    backfill_docs_per_s: Math.round(median(rates[i] ?? [])),
    ratio_median: Number(fmt(median(ratios[i] ?? []), 3)),
    ratios: (ratios[i] ?? []).map((r) => Number(fmt(r, 3))),
  });
  return {
    docs: n,
    raw_insert_docs_per_s: Math.round(median(rawRates)),
    ...variant(0),
    ...(readers.length > 1
      ? { reader_variants: Object.fromEntries(readers.map((r, i) => [r, variant(i)])) }
      : {}),
    goal_ratio: 0.8,
  };
}

async function partB(): Promise<Record<string, unknown>> {
  const n = Number(args.latencyN);
  const ideal = (8 * 128) / 0.05;
  const rates = readers.map(() => [] as number[]);
  for (let run = 0; run < Number(args.runs); run++) {
    const { app, dir, vectors } = await setup(n);
    const targets = readers.map((r, i) => targetOf(r, i));
    for (const target of targets) await app.createNamespace('bench', target, 'building');
    const line: string[] = [];
    for (let k = 0; k < readers.length; k++) {
      const i = (k + run) % readers.length;
      const target = targets[i] as Space;
      const { seconds } = await backfill(
        app,
        precomputedEmbedder(target, vectors, 50),
        `bench@${target.name}`,
        { batchSize: 128, concurrency: 8 },
        readers[i],
      );
      rates[i]?.push(n / seconds);
      line[i] =
        `[reader=${readers[i]}] ${fmt(n / seconds, 0)} docs/s = ${fmt((n / seconds / ideal) * 100, 1)}%`;
    }
    console.error(`B run ${run + 1}: ${line.join('; ')} of ideal`);
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const variant = (i: number) => ({
    docs_per_s: Math.round(median(rates[i] ?? [])),
    share_of_ideal_median: Number(fmt(median(rates[i] ?? []) / ideal, 3)),
  });
  return {
    docs: n,
    latency_ms_per_batch: 50,
    batch: 128,
    concurrency: 8,
    ideal_docs_per_s: ideal,
    ...variant(0),
    ...(readers.length > 1
      ? { reader_variants: Object.fromEntries(readers.map((r, i) => [r, variant(i)])) }
      : {}),
    goal_share: 0.9,
  };
}

/**
 * In a function of its own: a block inside `partC` would not do, as its suspended frame can keep the
 * corpus (hundreds of MB at 200k documents) reachable through the measurement.
 */
async function ingestCorpus(app: Reembed, n: number): Promise<void> {
  const workload = buildWorkload(n);
  for (let i = 0; i < n; i += 5_000) await app.ingest('bench', workload.docs.slice(i, i + 5_000));
}

async function partC(): Promise<Record<string, unknown>> {
  const n = Number(args.memN);
  const dir = mkdtempSync(join(tmpdir(), 'reembed-bench-'));
  const db = join(dir, 'bench.db');
  const app = await openReembed({ db, actor: 'bench' });
  for (const s of [v1, v2]) await app.addSpace(s);
  await app.createCollection('bench', 'v1');
  await ingestCorpus(app, n);
  await app.close();
  // The backfill is measured in a fresh process, so that RSS counts the backfill and not what
  // generating and ingesting the corpus left behind in this one.
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      import.meta.filename,
      '--part=C-measure',
      `--db=${db}`,
      `--reader=${readers[0]}`,
      `--from=${from}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  rmSync(dir, { recursive: true, force: true });
  if (child.status !== 0) throw new Error(`the measuring process failed (${child.status ?? child.signal})`);
  const measured = JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as Record<string, number>;
  console.error(
    `C: ${measured.written} docs in ${fmt(measured.seconds as number, 1)} s, peak RSS ${measured.peak_rss_mb} MB`,
  );
  return { docs: n, ...measured, goal_peak_rss_mb: 300 };
}

/** Part C's measuring process: backfills the ingested corpus with the real hashing embedder (v2). */
async function measureC(db: string): Promise<void> {
  const app = await openReembed({ db, actor: 'bench' });
  await app.createNamespace('bench', v2, 'building');
  const baseline = process.memoryUsage().rss;
  const sampler = new Worker(
    `const { parentPort } = require('node:worker_threads'); let peak = 0;
     const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
     parentPort.on('message', () => { clearInterval(t); parentPort.postMessage(peak); });`,
    { eval: true },
  );
  const { seconds, written } = await backfill(
    app,
    await app.embedders.get(v2),
    'bench@v2',
    { batchSize: 128, concurrency: 4 },
    readers[0],
  );
  const peak: number = await new Promise((resolve) => {
    sampler.once('message', resolve);
    sampler.postMessage('stop');
  });
  await sampler.terminate();
  await app.close();
  const result = {
    written,
    seconds: Number(fmt(seconds, 1)),
    rss_before_mb: Math.round(baseline / 2 ** 20),
    peak_rss_mb: Math.round(peak / 2 ** 20),
  };
  console.log(JSON.stringify(result));
}

const part = String(args.part);
if (part === 'C-measure') {
  await measureC(String(args.db));
  process.exit(0);
}
const result: Record<string, unknown> = {};
if (part === 'A' || part === 'all') result.zero_cost_vs_raw_insert = await partA();
if (part === 'B' || part === 'all') result.latency_50ms_concurrency_8 = await partB();
if (part === 'C' || part === 'all') result.memory_200k = await partC();
report(`backfill${part === 'all' ? '' : `-${part}`}`, result);
