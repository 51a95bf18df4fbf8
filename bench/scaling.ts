/**
 * Issue 16 item 7: the figures a 100M-document migration plan is projected from, measured in one run on
 * PostgreSQL + pgvector, and the projection itself (BENCHMARKS.md "Scaling model").
 *
 * Measured, per dimension (`--dims`, default 384 and 1536):
 *   - backfill throughput of one single-process runner (one worker) at concurrency 1 and `--concurrency`
 *     (default 4): the store-bound rate, with an embedder that costs nothing (vectors precomputed), so the
 *     figure is what reembed and PostgreSQL sustain — a real provider is slower and is modelled below;
 *   - storage per document: the namespace's tables (heap, TOAST, primary key, HNSW index built after the
 *     load) and the source rows (text, metadata, heads), from `pg_total_relation_size`;
 * and the tokens per document of a real corpus (SciFact, cl100k_base, title + text; the benchmark
 * workload when ../shared is absent).
 *
 * Projected for `--target` documents (default 100,000,000): hours at the provider's limit
 * (`--tokensPerMinute`, default 1,000,000), the limit a 24-hour migration needs, workers and PostgreSQL
 * instances for that limit from the measured rates, storage while both indexes exist, and the embedding
 * cost at $0.02 and $0.13 per million tokens.
 * Run: REEMBED_PG_URL=... npx tsx bench/scaling.ts [--n=20000 --runs=3 --dims=384,1536]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { headsTable, namespaceTable } from '../src/stores/pg/sql.js';
import { sharedDir } from '../src/testing/shared.js';
import { benchArgs, fmt, median, report } from './lib.js';
import { dropBenchSchema, openBackfillCorpus, pgVersion } from './pg-common.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({
  n: 20_000,
  runs: 3,
  dims: '384,1536',
  concurrency: 4,
  batchSize: 250,
  target: 100_000_000,
  tokensPerMinute: 1_000_000,
  tokenSample: 2_000,
});
const n = Number(args.n);
const runs = Number(args.runs);
const dims = String(args.dims)
  .split(',')
  .map((d) => Number(d.trim()))
  .filter((d) => d > 0);
const highConcurrency = Number(args.concurrency);
const batchSize = Number(args.batchSize);
const target = Number(args.target);
const tokensPerMinute = Number(args.tokensPerMinute);

/** Mean cl100k_base tokens per document of SciFact (title + text), else of the benchmark workload. */
async function tokensPerDocument(): Promise<{ corpus: string; documents: number; mean: number }> {
  const { encode } = (await import('gpt-tokenizer/encoding/cl100k_base')) as {
    encode(text: string): number[];
  };
  const path = join(sharedDir(), 'datasets', 'scifact', 'corpus.jsonl');
  let texts: string[];
  let corpus: string;
  if (existsSync(path)) {
    texts = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const d = JSON.parse(l) as { title?: string; text?: string };
        return `${d.title ?? ''}\n${d.text ?? ''}`;
      });
    corpus = 'SciFact (title + text)';
  } else {
    texts = buildWorkload(Number(args.tokenSample)).docs.map((d) => d.text);
    corpus = 'benchmark workload (../shared absent)';
  }
  const sample = texts.slice(0, Number(args.tokenSample));
  const total = sample.reduce((sum, t) => sum + encode(t).length, 0);
  return { corpus, documents: sample.length, mean: total / sample.length };
}

interface DimensionFigures {
  readonly dimension: number;
  readonly database: string;
  readonly docsPerSecond: { readonly concurrency1: number; readonly concurrencyHigh: number };
  readonly runsMs: { readonly concurrency1: number[]; readonly concurrencyHigh: number[] };
  /** The HNSW build after the load (one pass, `maintenance_work_mem` as configured). */
  readonly hnswBuild: { readonly ms: number; readonly docsPerSecond: number };
  readonly bytesPerDocument: { readonly namespace: number; readonly hnsw: number; readonly sources: number };
}

async function measureDimension(dimension: number): Promise<DimensionFigures> {
  const corpus = await openBackfillCorpus('scaling', n, dimension);
  const { backend, ns } = corpus;
  const pool = backend.pool;
  const schema = backend.config.schema;
  /** Bytes of one table with its TOAST and indexes. */
  const bytes = async (table: string): Promise<number> => {
    const r = await pool.query<{ bytes: string | null }>(
      'SELECT pg_total_relation_size(format($3, $1::text, $2::text)::regclass)::bigint AS bytes',
      [schema, table, '%I.%I'],
    );
    return Number(r.rows[0]?.bytes ?? 0);
  };
  const namespaceBytes = async (): Promise<number> =>
    (await bytes(namespaceTable(ns))) + (await bytes(headsTable(ns)));
  try {
    const c1: number[] = [];
    const cHigh: number[] = [];
    for (let run = 0; run < runs; run++) {
      for (const [concurrency, into] of [
        [1, c1],
        [highConcurrency, cHigh],
      ] as const) {
        await corpus.fresh();
        const runner = await corpus.runner(`scaling-${dimension}-${concurrency}-${run}`, {
          batchSize,
          concurrency,
        });
        const t = performance.now();
        const result = await runner.run();
        into.push(performance.now() - t);
        if (result.status !== 'done') throw new Error(`runner: ${result.status} ${result.error?.message}`);
        const stats = await backend.store.stats(ns);
        if (stats.records !== n)
          throw new Error(`${stats.records} records after the backfill, expected ${n}`);
      }
      console.error(
        `${dimension}-d run ${run + 1}/${runs}: concurrency 1 ${fmt(c1.at(-1) ?? 0, 0)} ms, ${highConcurrency} ${fmt(cHigh.at(-1) ?? 0, 0)} ms`,
      );
    }
    await pool.query('VACUUM ANALYZE');
    const withoutIndex = await namespaceBytes();
    const tIndex = performance.now();
    await backend.store.buildIndex?.(ns);
    const indexMs = performance.now() - tIndex;
    const withIndex = await namespaceBytes();
    const sources = await bytes('sources');
    const rate = (ms: number) => (n / ms) * 1000;
    return {
      dimension,
      database: await pgVersion(backend),
      docsPerSecond: { concurrency1: rate(median(c1)), concurrencyHigh: rate(median(cHigh)) },
      runsMs: { concurrency1: c1, concurrencyHigh: cHigh },
      hnswBuild: { ms: indexMs, docsPerSecond: rate(indexMs) },
      bytesPerDocument: {
        namespace: withIndex / n,
        hnsw: (withIndex - withoutIndex) / n,
        sources: sources / n,
      },
    };
  } finally {
    await dropBenchSchema(backend);
    await corpus.app.close();
  }
}

const tokens = await tokensPerDocument();
const figures: DimensionFigures[] = [];
for (const dimension of dims) {
  figures.push(await measureDimension(dimension));
}

// The projection. Provider-bound: the limit caps documents/s whatever the workers; store-bound: measured.
const tokensTotal = target * tokens.mean;
const providerDocsPerSecond = tokensPerMinute / 60 / tokens.mean;
const providerHours = target / providerDocsPerSecond / 3600;
const dayDocsPerSecond = target / 86_400;
const tokensPerMinuteFor24h = dayDocsPerSecond * tokens.mean * 60;
const projection = figures.map((f) => {
  const perWorker = f.docsPerSecond.concurrency1;
  const perInstance = Math.max(f.docsPerSecond.concurrency1, f.docsPerSecond.concurrencyHigh);
  const perDocBoth = f.bytesPerDocument.namespace * 2 + f.bytesPerDocument.sources;
  return {
    dimension: f.dimension,
    storeBoundHoursOneWorker: target / perWorker / 3600,
    // Linear in n: a lower bound (an HNSW build grows a little faster than n and slows sharply once the
    // graph outgrows maintenance_work_mem).
    hnswBuildHoursAtLeast: target / f.hnswBuild.docsPerSecond / 3600,
    workersFor24h: Math.ceil(dayDocsPerSecond / perWorker),
    instancesFor24h: Math.ceil(dayDocsPerSecond / perInstance),
    storageDuringDualIndexGB: (perDocBoth * target) / 1e9,
    storageOneIndexGB: ((f.bytesPerDocument.namespace + f.bytesPerDocument.sources) * target) / 1e9,
  };
});

/** Storage while a migration from the first to the last dimension keeps both indexes (sources once). */
function upgradeStorage(): { from: number; to: number; dualIndexGB: number } | null {
  const from = figures[0];
  const to = figures.at(-1);
  if (!from || !to) return null;
  const perDoc =
    from.bytesPerDocument.namespace + to.bytesPerDocument.namespace + to.bytesPerDocument.sources;
  return { from: from.dimension, to: to.dimension, dualIndexGB: (perDoc * target) / 1e9 };
}

report('scaling', {
  database: figures[0]?.database ?? '',
  config: { n, runs, dims, concurrency: highConcurrency, batchSize, target, tokensPerMinute },
  tokensPerDocument: tokens,
  measured: figures,
  projection: {
    tokensTotal,
    costUsd: { at0_02: (tokensTotal / 1e6) * 0.02, at0_13: (tokensTotal / 1e6) * 0.13 },
    providerBound: { docsPerSecond: providerDocsPerSecond, hours: providerHours },
    for24h: { docsPerSecond: dayDocsPerSecond, tokensPerMinuteNeeded: tokensPerMinuteFor24h },
    perDimension: projection,
    upgrade: upgradeStorage(),
  },
});
