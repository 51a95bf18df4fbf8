/**
 * Issue 5 (c): pgvector HNSW search through reembed's Postgres store on 100,000 x 384 vectors with real
 * structure — hashing embeddings of the peer workload (`buildWorkload(100000)`: Zipfian text, 8 tenants),
 * not uniform noise. The namespace is loaded with HNSW deferred and indexed once (m 16, ef_construction
 * 64, pgvector defaults); queries are the first 8 words of 200 documents. For ef_search 20, 40, 100 (and 400):
 * recall@10 against exact search (usearch's exact scan over the same unit vectors; a hit counts when its
 * score reaches the exact 10th score, so ties are not penalised) and per-query latency p50/p99 of the full
 * store call (one transaction: settings + ANN query) — median over `rounds` rounds of all queries.
 * Run: REEMBED_PG_URL=... npx tsx bench/pg-hnsw.ts [--n=100000 --queries=200 --rounds=3]
 */
import { exactSearch, MetricKind } from 'usearch';
import { defineSpace } from '../src/core/space.js';
import { createHashingEmbedder } from '../src/embedders/hashing.js';
import { openPgBackend, type PgBackend } from '../src/stores/pg/backend.js';
import { benchArgs, fmt, median, percentile, report } from './lib.js';
import { benchSchema, dropBenchSchema, pgVersion, requireUrl } from './pg-common.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({ n: 100_000, queries: 200, dimension: 384, k: 10, rounds: 3, ef: '20,40,100,400' });
const n = Number(args.n);
const dim = Number(args.dimension);
const k = Number(args.k);
const efs = String(args.ef).split(',').map(Number);
const url = requireUrl();
const schema = benchSchema('hnsw');
const space = defineSpace('hashing-384', {
  provider: 'hashing',
  model: 'fnv1a',
  dimension: dim,
  params: { seed: 1 },
});
const ns = 'bench@hashing-384';
const loader = await openPgBackend({ url, schema, hnsw: { deferred: true }, poolMax: 4 });
const opened: PgBackend[] = [loader];

try {
  const workload = buildWorkload(n);
  const embedder = createHashingEmbedder(space);
  let t = performance.now();
  const vectors = await embedder.embed(
    workload.docs.map((d) => d.text),
    { inputType: 'document' },
  );
  const embedMs = performance.now() - t;
  await loader.store.createNamespace({
    name: ns,
    fingerprint: space.fingerprint,
    spaceName: space.name,
    dimension: dim,
    metric: 'cosine',
  });
  t = performance.now();
  for (let i = 0; i < n; i += 1_000) {
    await loader.store.write(
      ns,
      space.fingerprint,
      workload.docs.slice(i, i + 1_000).map((d, j) => ({
        sourceId: d.id,
        sourceVersion: 1,
        contentHash: `h${i + j}`,
        tenant: d.tenant,
        metadata: {},
        chunks: [{ chunkId: `${d.id}#0`, index: 0, text: d.text, vector: vectors[i + j] as Float32Array }],
      })),
    );
  }
  const loadMs = performance.now() - t;
  t = performance.now();
  await loader.store.buildIndex(ns);
  const indexMs = performance.now() - t;
  console.error(`loaded ${n} in ${fmt(loadMs / 1000)} s, HNSW built in ${fmt(indexMs / 1000)} s`);

  const matrix = new Float32Array(n * dim);
  for (let i = 0; i < vectors.length; i++) matrix.set(vectors[i] as Float32Array, i * dim);
  const queryTexts = workload.docs
    .slice(0, Number(args.queries))
    .map((d) => d.text.split(' ').slice(0, 8).join(' '));
  const queries = await embedder.embed(queryTexts, { inputType: 'query' });
  const truth = queries.map((q) => {
    const r = exactSearch(matrix, q, dim, k, MetricKind.IP) as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    // usearch's IP distance is 1 - dot; the k-th exact score is the bar an ANN hit must reach.
    return {
      ids: Array.from(r.keys, (key) => workload.docs[Number(key)]?.id),
      kth: 1 - (r.distances[k - 1] ?? 1),
    };
  });

  const results: Record<string, unknown>[] = [];
  for (const ef of efs) {
    const backend = await openPgBackend({ url, schema, efSearch: ef, poolMax: 2 });
    opened.push(backend);
    const plan = await backend.store.explainSearch(ns, {
      vector: queries[0] as Float32Array,
      fingerprint: space.fingerprint,
      k,
    });
    let recall = 0;
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (let round = 0; round <= Number(args.rounds); round++) {
      const ms: number[] = [];
      let found = 0;
      for (let i = 0; i < queries.length; i++) {
        const start = performance.now();
        const hits = await backend.store.search(ns, {
          vector: queries[i] as Float32Array,
          fingerprint: space.fingerprint,
          k,
        });
        ms.push(performance.now() - start);
        const bar = (truth[i]?.kth ?? 0) - 1e-5;
        found += Math.min(k, hits.filter((h) => h.score >= bar).length);
      }
      // Round 0 warms the index into shared buffers and is not counted.
      if (round === 0) continue;
      recall = found / (k * queries.length);
      p50s.push(percentile(ms, 50));
      p99s.push(percentile(ms, 99));
    }
    const usesIndex = /hnsw/i.test(plan);
    results.push({
      efSearch: ef,
      recallAt10: recall,
      p50Ms: median(p50s),
      p99Ms: median(p99s),
      roundsP50: p50s,
      roundsP99: p99s,
      usesHnswIndex: usesIndex,
    });
    console.error(
      `ef_search ${ef}: recall@${k} ${fmt(recall, 3)}, p50 ${fmt(median(p50s), 2)} ms, p99 ${fmt(median(p99s), 2)} ms, index ${usesIndex}`,
    );
  }
  // Postgres' own exact scan must agree with the ground truth (a check on the truth, expected 1.000).
  const exactMs: number[] = [];
  let exactFound = 0;
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    const hits = await loader.store.search(ns, {
      vector: queries[i] as Float32Array,
      fingerprint: space.fingerprint,
      k,
      exact: true,
    });
    exactMs.push(performance.now() - start);
    const bar = (truth[i]?.kth ?? 0) - 1e-5;
    exactFound += Math.min(k, hits.filter((h) => h.score >= bar).length);
  }
  report('pg-hnsw', {
    database: await pgVersion(loader),
    config: {
      n,
      dimension: dim,
      k,
      queries: queries.length,
      rounds: Number(args.rounds),
      hnsw: { m: 16, efConstruction: 64 },
      vectors: 'hashing embeddings (fnv1a, 384-d, unit length) of buildWorkload(n)',
    },
    setup: { embedSeconds: embedMs / 1000, loadSeconds: loadMs / 1000, indexBuildSeconds: indexMs / 1000 },
    efSearch: results,
    exactScanInPostgres: {
      queries: exactMs.length,
      p50Ms: percentile(exactMs, 50),
      p99Ms: percentile(exactMs, 99),
      recallVsTruth: exactFound / (k * exactMs.length),
    },
  });
} finally {
  await dropBenchSchema(loader);
  for (const b of opened.reverse()) await b.close();
}
