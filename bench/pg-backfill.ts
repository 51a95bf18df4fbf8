/**
 * Issue 5 (a): backfill into pgvector with a zero-cost embedder vs a plain multi-row INSERT of the same
 * normalised vectors, in the same run, on the same server. HNSW is deferred for all three (no index
 * during the load; `store.buildIndex` builds it afterwards), so every path measures the load alone.
 *   - distributed: the queue path — plan (keyset ranges) + one in-process `BackfillWorker` (concurrency `--concurrency`, default 2)
 *     taking range jobs through graphile-worker; versioned writes, heads, provenance, checkpoint per batch;
 *   - runner: the single-process `BackfillRunner` on the Postgres backend (concurrency `--concurrency`, default 2);
 *   - store write alone: `store.write` of the same versioned writes (text, metadata, provenance, a checkpoint
 *     per batch) over `--concurrency` connections, sources read and vectors embedded before the clock starts —
 *     the part of a backfill the pgvector store owns;
 *   - plain INSERT: `INSERT INTO t (source_id, embedding) VALUES ($1, $2::vector), ...` in batches of the
 *     same size over the same number of parallel connections, vectors pre-serialised as text outside the
 *     timing (the baseline's best case); and the same with the document text in a column, since a
 *     namespace record carries its text (and provenance) next to the vector. A (id, text, vector) row is
 *     over Postgres' 2 kB TOAST threshold, so that table moves each vector out of line; the third baseline
 *     ("inline") is the same INSERT into a table with the namespace tables' `toast_tuple_target`, so the
 *     store's storage setting is not credited as a store speed-up against a plain table.
 * Goal: backfill throughput >= 70% of the plain INSERT's. Median over `runs`. `cpuMedianMs` adds, per path,
 * the CPU time of this process and of every PostgreSQL process on the machine (the server must run here):
 * on a machine where Node and PostgreSQL share the cores, a path's wall time follows its CPU time.
 * With `--pin`, PostgreSQL runs on CPU 1 and this process on CPU 0 for the whole benchmark (`pinCpus`): the
 * layout of production, where the database and the backfill's client do not share cores (here the
 * database gets one core, the INSERT included); results go to pg-backfill-pinned.json.
 * Run: REEMBED_PG_URL=... npx tsx bench/pg-backfill.ts [--n=20000 --runs=3 --dimension=384 --pin]
 */
import { embedSources } from '../src/app/embed-sources.js';
import type { SourceWrite } from '../src/core/records.js';
import { planDistributedBackfill } from '../src/queue/plan.js';
import type { RangeOutcome } from '../src/queue/range.js';
import { BackfillWorker } from '../src/queue/worker.js';
import { TOAST_TUPLE_TARGET } from '../src/stores/pg/sql.js';
import { benchArgs, fmt, median, report } from './lib.js';
import {
  dropBenchSchema,
  openBackfillCorpus,
  pgVersion,
  pinCpus,
  postgresCpuMs,
  textKey,
  vectorLiteral,
} from './pg-common.js';

const args = benchArgs({
  n: 20_000,
  dimension: 384,
  runs: 3,
  rangeSize: 500,
  batchSize: 250,
  concurrency: 2,
  pin: false,
});
const concurrency = Number(args.concurrency);
const n = Number(args.n);
const dim = Number(args.dimension);
const batchSize = Number(args.batchSize);
const pinned = args.pin === true || args.pin === 'true';
const unpin = pinned ? pinCpus('1', '0') : () => undefined;
const corpus = await openBackfillCorpus('backfill', n, dim);
const { docs, target, vectors, app, backend, ns, fresh } = corpus;
const rows: { id: string; text: string; literal: string }[] = [];

try {
  const { documentChunks } = await import('../src/core/pipeline.js');
  for (const d of docs) {
    const v = vectors.get(textKey(documentChunks(target.spec, d.id, d.text)[0]?.text ?? '')) as Float32Array;
    rows.push({ id: d.id, text: d.text, literal: vectorLiteral(v) });
  }

  const check = async (what: string): Promise<void> => {
    const stats = await backend.store.stats(ns);
    if (stats.records !== n) throw new Error(`${what}: ${stats.records} records, expected ${n}`);
  };

  /** `concurrency` parallel streams of multi-row INSERTs over disjoint batches; returns the wall time. */
  const plainInsert = async (name: string, withText: boolean, inline = false): Promise<number> => {
    const table = `"${backend.config.schema}"."${name}"`;
    const columns = withText ? 'source_id, text, embedding' : 'source_id, embedding';
    await backend.pool.query(
      `CREATE TABLE ${table} (source_id text COLLATE "C" PRIMARY KEY, ${withText ? 'text text NOT NULL, ' : ''}embedding vector(${dim}) NOT NULL)${inline ? ` WITH (toast_tuple_target = ${TOAST_TUPLE_TARGET})` : ''}`,
    );
    const width = withText ? 3 : 2;
    const t0 = performance.now();
    let nextBatch = 0;
    const stream = async (): Promise<void> => {
      for (let i = nextBatch++ * batchSize; i < rows.length; i = nextBatch++ * batchSize) {
        const slice = rows.slice(i, i + batchSize);
        const values = slice
          .map(
            (_, j) =>
              `(${Array.from({ length: width }, (_, c) => `$${width * j + c + 1}`).join(', ')}::vector)`,
          )
          .join(', ');
        const params = slice.flatMap((row) =>
          withText ? [row.id, row.text, row.literal] : [row.id, row.literal],
        );
        await backend.pool.query(`INSERT INTO ${table} (${columns}) VALUES ${values}`, params);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, stream));
    const ms = performance.now() - t0;
    await backend.pool.query(`DROP TABLE ${table}`);
    return ms;
  };

  // The writes a backfill produces, built once outside the timing (source reads and embedding excluded).
  const sourceDocs = await backend.sources.scan('docs', { limit: n + 1 });
  const allWrites = await embedSources(await app.embedders.get(target), sourceDocs);
  /** `concurrency` streams of versioned `store.write` calls over disjoint batches; returns the wall time. */
  const storeWrite = async (run: number): Promise<number> => {
    let nextBatch = 0;
    const t0 = performance.now();
    const stream = async (s: number): Promise<void> => {
      for (let i = nextBatch++ * batchSize; i < allWrites.length; i = nextBatch++ * batchSize) {
        const batch: SourceWrite[] = allWrites.slice(i, i + batchSize);
        await backend.store.write(ns, target.fingerprint, batch, {
          prevalidated: true,
          checkpoint: {
            jobId: `bench-store-${run}-${s}`,
            cursor: batch.at(-1)?.sourceId ?? '',
            processed: i,
          },
        });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, s) => stream(s)));
    return performance.now() - t0;
  };

  /** CPU (ms) each path spent: this process and every PostgreSQL process, per run. */
  const cpu: Record<string, { node: number[]; postgres: number[] }> = {};
  const measured = async <T>(path: string, fn: () => Promise<T>): Promise<T> => {
    const node = process.cpuUsage();
    const pg = postgresCpuMs();
    const out = await fn();
    const used = process.cpuUsage(node);
    const entry = cpu[path] ?? { node: [], postgres: [] };
    entry.node.push((used.user + used.system) / 1000);
    entry.postgres.push(postgresCpuMs() - pg);
    cpu[path] = entry;
    return out;
  };
  const worker = await BackfillWorker.start(app, { concurrency, pollMs: 100 });
  const distributedMs: number[] = [];
  const runnerMs: number[] = [];
  const storeMs: number[] = [];
  const plainMs: number[] = [];
  const plainTextMs: number[] = [];
  const plainInlineMs: number[] = [];
  for (let run = 0; run < Number(args.runs); run++) {
    await fresh();
    const finished = new Promise<void>((resolve) =>
      worker.on('range', (o: RangeOutcome) => {
        if (o.planFinished) resolve();
      }),
    );
    let t = performance.now();
    await measured('distributed', async () => {
      await planDistributedBackfill(backend, {
        namespace: ns,
        rangeSize: Number(args.rangeSize),
        fresh: run > 0,
        settings: { batchSize },
      });
      await finished;
    });
    distributedMs.push(performance.now() - t);
    worker.removeAllListeners('range');
    await check('distributed');

    await fresh();
    const runner = await corpus.runner(`bench-runner-${run}`, { batchSize, concurrency });
    t = performance.now();
    const r = await measured('runner', () => runner.run());
    runnerMs.push(performance.now() - t);
    if (r.status !== 'done') throw new Error(`runner: ${r.status} ${r.error?.message}`);
    await check('runner');

    await fresh();
    storeMs.push(await measured('storeWrite', () => storeWrite(run)));
    await check('store write');

    plainMs.push(await measured('plainInsert', () => plainInsert(`plain_${run}`, false)));
    plainTextMs.push(await plainInsert(`plain_text_${run}`, true));
    plainInlineMs.push(await plainInsert(`plain_inline_${run}`, true, true));
    console.error(
      `run ${run + 1}: distributed ${fmt(distributedMs.at(-1) ?? 0, 0)} ms, runner ${fmt(runnerMs.at(-1) ?? 0, 0)} ms, store write ${fmt(storeMs.at(-1) ?? 0, 0)} ms, plain INSERT ${fmt(plainMs.at(-1) ?? 0, 0)} ms, with text ${fmt(plainTextMs.at(-1) ?? 0, 0)} ms, with text inline ${fmt(plainInlineMs.at(-1) ?? 0, 0)} ms`,
    );
  }
  await worker.stop();
  const rate = (ms: number) => (n / ms) * 1000;
  const d = median(distributedMs);
  const r = median(runnerMs);
  const w = median(storeMs);
  const p = median(plainMs);
  const pt = median(plainTextMs);
  const pi = median(plainInlineMs);
  report(pinned ? 'pg-backfill-pinned' : 'pg-backfill', {
    database: await pgVersion(backend),
    config: {
      n,
      dimension: dim,
      runs: Number(args.runs),
      rangeSize: Number(args.rangeSize),
      batchSize,
      concurrency,
      hnsw: 'deferred (no index during any load)',
      cpus: pinned ? 'PostgreSQL on CPU 1, the benchmark on CPU 0 (--pin)' : 'shared',
    },
    distributed: { medianMs: d, docsPerSecond: rate(d), runsMs: distributedMs },
    runner: { medianMs: r, docsPerSecond: rate(r), runsMs: runnerMs },
    storeWrite: { medianMs: w, docsPerSecond: rate(w), runsMs: storeMs },
    plainInsert: { medianMs: p, docsPerSecond: rate(p), runsMs: plainMs },
    plainInsertWithText: { medianMs: pt, docsPerSecond: rate(pt), runsMs: plainTextMs },
    plainInsertWithTextInline: { medianMs: pi, docsPerSecond: rate(pi), runsMs: plainInlineMs },
    ratioDistributed: p / d,
    ratioRunner: p / r,
    // The same run's plain INSERT over each path (the runs are back to back, so they share the machine's
    // state): a steadier figure than the ratio of medians on a noisy machine.
    ratioRunnerPerRunMedian: median(plainMs.map((x, i) => x / (runnerMs[i] as number))),
    ratioDistributedPerRunMedian: median(plainMs.map((x, i) => x / (distributedMs[i] as number))),
    ratioStoreWrite: p / w,
    ratioStoreWriteVsTextBaseline: pt / w,
    ratioStoreWriteVsInlineTextBaseline: pi / w,
    ratioDistributedVsInlineTextBaseline: pi / d,
    ratioDistributedVsTextBaseline: pt / d,
    cpuMedianMs: Object.fromEntries(
      Object.entries(cpu).map(([path, c]) => [path, { node: median(c.node), postgres: median(c.postgres) }]),
    ),
    goal: 'backfill throughput >= 0.70 x plain multi-row INSERT',
  });
} finally {
  await dropBenchSchema(backend);
  await backend.close();
  unpin();
}
