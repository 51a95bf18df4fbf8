/**
 * ANN in the embedded store (issue 16, item 3): `n` passages with real structure (bench/real-vectors.ts:
 * LSA-384 of real sentences) written to a SQLite store, the HNSW index built and persisted, then the real
 * queries searched through the store's ANN path and its exact path.
 *
 * Reports: recall@10 of ANN against exact ground truth (a hit counts when it reaches the exact 10th score,
 * so ties are not penalised), p50/p99 per query (median over rounds), filtered ANN (1%, 10%, 50% of the
 * records pass), the exact search against the time to stream the same bytes from memory in this process
 * (`Buffer#indexOf` of a byte that is absent: one memchr pass), write and build times, index size on disk,
 * and resident memory. The machine is shared: quote medians.
 *
 * Run: npx tsx bench/ann.ts [--n=100000 --rounds=5 --exactQueries=100 --filterQueries=50]
 *      [--quantization=auto --ef=256 --connectivity=16 --exactCache=default|inf --exactCached=true
 *       --threshold=0 --dimension=384]
 *      [--efSweep=64,128,256]
 * (exactCached: when the store's exact budget makes it scan SQLite, also measure exact search from an
 * in-memory copy, in a second connection with an unlimited budget. efSweep: recall and p50 at other
 * search beams on the same index.)
 * (threshold 0: the index is used at any n; the store's default is 50,000.)
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exactSearch, MetricKind } from 'usearch';
import { defineSpace } from '../src/core/space.js';
import type { AnnQuantization } from '../src/stores/sqlite/ann-config.js';
import { openSqliteBackend } from '../src/stores/sqlite/backend.js';
import { TopK } from '../src/stores/sqlite/top-k.js';
import { benchArgs, fmt, median, percentile, report, streamBandwidth } from './lib.js';
import { DATASETS_DIR, haveDatasets, passageWrites, realVectorSource } from './real-vectors.js';

const args = benchArgs({
  n: 100_000,
  k: 10,
  rounds: 5,
  exactQueries: 100,
  filterQueries: 50,
  quantization: 'auto',
  ef: 256,
  connectivity: 16,
  exactCache: 'default',
  exactCached: 'true',
  chunk: 10_000,
  threshold: 0,
  dimension: 384,
  efSweep: '',
});
if (!haveDatasets()) {
  console.error(`bench/ann: skipped, the datasets are not at ${DATASETS_DIR} (set REEMBED_DATASETS)`);
  process.exit(0);
}
const n = Number(args.n);
const k = Number(args.k);
const rounds = Number(args.rounds);
const chunk = Number(args.chunk);
const rss = () => Math.round(process.memoryUsage.rss() / 2 ** 20);

const source = realVectorSource({ dimension: Number(args.dimension) });
const d = source.dimension;
const space = defineSpace(`lsa-${d}`, { provider: 'bench', model: 'lsa-real', dimension: d });
const ns = `bench@${space.name}`;
const dir = mkdtempSync(join(tmpdir(), 'reembed-ann-bench-'));
const path = join(dir, 'ann.db');
const ann = {
  threshold: Number(args.threshold),
  quantization: String(args.quantization) as AnnQuantization,
  expansionSearch: Number(args.ef),
  connectivity: Number(args.connectivity),
  ...(args.exactCache === 'inf' ? { exactCacheBytes: Number.POSITIVE_INFINITY } : {}),
};
const backend = await openSqliteBackend({ path, ann });
const peakRss = { value: rss() };
const sample = () => {
  peakRss.value = Math.max(peakRss.value, rss());
};

try {
  await backend.store.createNamespace({
    name: ns,
    fingerprint: space.fingerprint,
    spaceName: space.name,
    dimension: d,
    metric: 'cosine',
  });
  const queries = source.queryCount;
  const truth = Array.from({ length: queries }, () => new TopK(k));
  const vectors = new Float32Array(chunk * d);
  const texts: string[] = [];
  let writeMs = 0;
  let generateMs = 0;
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    let t = performance.now();
    source.fill(vectors, start, count, texts);
    generateMs += performance.now() - t;
    const writes = passageWrites(vectors, texts, start, count, d);
    t = performance.now();
    for (let i = 0; i < writes.length; i += 2_000)
      await backend.store.write(ns, space.fingerprint, writes.slice(i, i + 2_000));
    writeMs += performance.now() - t;
    // Exact ground truth, chunk by chunk (usearch reads a typed array from its buffer's start: no views).
    const block = vectors.slice(0, count * d);
    const found = exactSearch(block, source.queries, d, Math.min(k, count), MetricKind.IP) as unknown as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    const per = Math.min(k, count);
    for (let q = 0; q < queries; q++) {
      for (let j = 0; j < per; j++) {
        const key = Number(found.keys[q * per + j]);
        (truth[q] as TopK).push(1 - (found.distances[q * per + j] as number), start + key);
      }
    }
    sample();
    if ((start / chunk) % 10 === 9) console.error(`bench/ann: ${start + count} / ${n} written`);
  }
  const kth = truth.map((t) => {
    const { scores } = t.sorted();
    return scores[scores.length - 1] as number;
  });
  const queryVector = (q: number) => source.queries.slice(q * d, (q + 1) * d);
  console.error(`bench/ann: ${n} written in ${fmt(writeMs / 1000)} s; building the index`);

  const t = performance.now();
  const info = await backend.store.buildIndex(ns);
  const buildMs = performance.now() - t;
  sample();
  const annDir = `${path}.ann`;
  const indexBytes = (existsSync(annDir) ? readdirSync(annDir) : [])
    .filter((f) => f.endsWith('.usearch'))
    .reduce((sum, f) => sum + statSync(join(annDir, f)).size, 0);
  const rssAfterBuild = rss();
  console.error(
    `bench/ann: index built in ${fmt(buildMs / 1000)} s (${fmt(indexBytes / 2 ** 20)} MiB on disk)`,
  );

  // ANN: every real query, `rounds` rounds (a warm-up round first, not counted).
  const annP50: number[] = [];
  const annP99: number[] = [];
  const recalls: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const ms: number[] = [];
    let found = 0;
    for (let q = 0; q < queries; q++) {
      const vector = queryVector(q);
      const start = performance.now();
      const hits = await backend.store.search(ns, { vector, fingerprint: space.fingerprint, k });
      ms.push(performance.now() - start);
      found += Math.min(k, hits.filter((h) => h.score >= (kth[q] as number) - 1e-5).length);
    }
    if (round === 0) continue;
    annP50.push(percentile(ms, 50));
    annP99.push(percentile(ms, 99));
    recalls.push(found / (queries * k));
  }
  sample();
  const rssAfterAnn = rss();
  console.error(`bench/ann: ANN recall@${k} ${fmt(median(recalls), 3)}, p50 ${fmt(median(annP50), 2)} ms`);

  // Recall and latency at other search beams, on the same index (loaded from its file by a second
  // connection per beam): `--efSweep=64,128,256`.
  const sweep: Record<string, unknown>[] = [];
  for (const ef of String(args.efSweep).split(',').filter(Boolean).map(Number)) {
    const other = await openSqliteBackend({ path, ann: { ...ann, expansionSearch: ef } });
    try {
      await other.store.buildIndex(ns);
      const p50s: number[] = [];
      let found = 0;
      for (let round = 0; round <= Math.min(rounds, 3); round++) {
        const ms: number[] = [];
        for (let q = 0; q < queries; q++) {
          const start = performance.now();
          const hits = await other.store.search(ns, {
            vector: queryVector(q),
            fingerprint: space.fingerprint,
            k,
          });
          ms.push(performance.now() - start);
          if (round === 1)
            found += Math.min(k, hits.filter((h) => h.score >= (kth[q] as number) - 1e-5).length);
        }
        if (round > 0) p50s.push(percentile(ms, 50));
      }
      sweep.push({
        expansionSearch: ef,
        recallAt10: found / (queries * k),
        p50Ms: median(p50s),
        roundsP50: p50s,
      });
      console.error(
        `bench/ann: ef ${ef}: recall@${k} ${fmt(found / (queries * k), 3)}, p50 ${fmt(median(p50s), 2)} ms`,
      );
    } finally {
      await other.close();
    }
  }

  // Filtered ANN against filtered exact (1%, 10% and 50% of the records pass): the exact answers first
  // (which, where the budget allows, puts the float32 copy in memory: the store then scans a selective
  // filter exactly instead of escalating candidates), then `rounds` rounds of ANN.
  const filters = {
    '1%': { tenant: 't0' },
    '10%': { metadata: { b: 0 } },
    '50%': { metadata: { h: 0 } },
  } as const;
  const filtered: Record<string, unknown> = {};
  const fq = Math.min(queries, Number(args.filterQueries));
  for (const [share, filter] of Object.entries(filters)) {
    const exactMs: number[] = [];
    const bars: number[] = [];
    const expected: number[] = [];
    for (let q = 0; q < fq; q++) {
      const start = performance.now();
      const exact = await backend.store.search(ns, {
        vector: queryVector(q),
        fingerprint: space.fingerprint,
        k,
        filter,
        exact: true,
      });
      exactMs.push(performance.now() - start);
      bars.push((exact[exact.length - 1]?.score ?? Number.NEGATIVE_INFINITY) - 1e-5);
      expected.push(exact.length);
    }
    const p50s: number[] = [];
    const p99s: number[] = [];
    let found = 0;
    for (let round = 0; round < Math.max(1, rounds); round++) {
      const ms: number[] = [];
      for (let q = 0; q < fq; q++) {
        const start = performance.now();
        const hits = await backend.store.search(ns, {
          vector: queryVector(q),
          fingerprint: space.fingerprint,
          k,
          filter,
        });
        ms.push(performance.now() - start);
        if (round === 0)
          found += Math.min(expected[q] as number, hits.filter((h) => h.score >= (bars[q] as number)).length);
      }
      p50s.push(percentile(ms, 50));
      p99s.push(percentile(ms, 99));
    }
    const wanted = expected.reduce((a, b) => a + b, 0);
    filtered[share] = {
      recallAt10: wanted === 0 ? 1 : found / wanted,
      p50Ms: median(p50s),
      p99Ms: median(p99s),
      roundsP50: p50s,
      exactP50Ms: percentile(exactMs, 50),
    };
    console.error(`bench/ann: filter ${share}: ${JSON.stringify(filtered[share])}`);
  }
  sample();

  // Exact: through the store (exact: true), against streaming the same bytes from memory. When the
  // store's budget makes it scan SQLite (large n), also with an unlimited budget (the in-memory copy).
  const eq = Math.min(queries, Number(args.exactQueries));
  const measureExact = async (store: typeof backend.store) => {
    let t0 = performance.now();
    await store.search(ns, { vector: queryVector(0), fingerprint: space.fingerprint, k, exact: true });
    const firstQueryMs = performance.now() - t0;
    sample();
    const p50: number[] = [];
    const p99: number[] = [];
    let found = 0;
    for (let round = 0; round < Math.max(1, Math.min(rounds, 3)); round++) {
      const ms: number[] = [];
      found = 0;
      for (let q = 0; q < eq; q++) {
        const vector = queryVector(q);
        t0 = performance.now();
        const hits = await store.search(ns, { vector, fingerprint: space.fingerprint, k, exact: true });
        ms.push(performance.now() - t0);
        found += Math.min(k, hits.filter((h) => h.score >= (kth[q] as number) - 1e-5).length);
      }
      p50.push(percentile(ms, 50));
      p99.push(percentile(ms, 99));
    }
    const described = await store.describeIndex(ns);
    return {
      mode: described.exactCached ? 'in-memory float32 copy' : 'streamed from SQLite',
      queries: eq,
      firstQueryMs,
      p50Ms: median(p50),
      p99Ms: median(p99),
      roundsP50: p50,
      recallVsTruth: found / (eq * k),
    };
  };
  const exact = await measureExact(backend.store);
  const described = await backend.store.describeIndex(ns);
  let exactCached: Awaited<ReturnType<typeof measureExact>> | null = null;
  if (!described.exactCached && args.exactCached !== 'false') {
    const unlimited = await openSqliteBackend({
      path,
      ann: { ...ann, exactCacheBytes: Number.POSITIVE_INFINITY },
    });
    try {
      exactCached = await measureExact(unlimited.store);
      exactCached = { ...exactCached, rssMiB: rss() } as typeof exactCached;
    } finally {
      await unlimited.close();
    }
  }
  const rssBeforeStream = rss();
  const stream = streamBandwidth(n * d * 4);
  const ratio = (x: { p50Ms: number } | null) => (x ? x.p50Ms / stream.ms : null);
  console.error(
    `bench/ann: exact p50 ${fmt(exact.p50Ms, 2)} ms (${exact.mode})${exactCached ? `, ${fmt(exactCached.p50Ms, 2)} ms from memory` : ''}; ` +
      `streaming the same ${fmt((n * d * 4) / 2 ** 20)} MiB: ${fmt(stream.ms, 2)} ms`,
  );

  report(`ann-${n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1_000}k`}`, {
    config: {
      n,
      dimension: d,
      k,
      queries,
      rounds,
      vectors: source.description,
      ann: { ...ann, threshold: described.threshold, quantization: info.index?.quantization ?? null },
      datasets: DATASETS_DIR,
    },
    setup: {
      generateSeconds: generateMs / 1000,
      writeSeconds: writeMs / 1000,
      writesPerSecond: n / (writeMs / 1000),
      indexBuildSeconds: buildMs / 1000,
      indexFileMiB: indexBytes / 2 ** 20,
      indexApproximateMiB: (info.index?.approximateBytes ?? 0) / 2 ** 20,
    },
    ann: {
      recallAt10: median(recalls),
      recallRounds: recalls,
      p50Ms: median(annP50),
      p99Ms: median(annP99),
      roundsP50: annP50,
      roundsP99: annP99,
    },
    efSweep: sweep,
    filtered,
    exact: {
      ...exact,
      streamSameBytesMs: stream.ms,
      streamGBps: stream.gbPerSecond,
      ratioToStream: ratio(exact),
    },
    exactInMemory: exactCached ? { ...exactCached, ratioToStream: ratio(exactCached) } : null,
    memory: {
      rssAfterBuildMiB: rssAfterBuild,
      rssAfterAnnQueriesMiB: rssAfterAnn,
      rssBeforeStreamMiB: rssBeforeStream,
      peakSampledMiB: peakRss.value,
    },
  });
} finally {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
}
