/**
 * pgvector HNSW search through reembed's Postgres store on n x 384 vectors. `--vectors=real` (default): the
 * real-structure vectors of bench/ann.ts (LSA-384 of real sentences, bench/real-vectors.ts) with the
 * collections' real queries — the same vectors the embedded store's ANN is measured on. `--vectors=hashing`:
 * hashing embeddings of the peer workload's Zipfian text with the first 8 words of documents as queries (the
 * first measurement; bench/vectors.ts shows those vectors have little neighbourhood structure). The
 * namespace is loaded with HNSW deferred and indexed once (m 16, ef_construction 64, pgvector defaults).
 * For each ef_search: recall@10 against exact search (usearch's exact scan over the same unit vectors; a
 * hit counts when its score reaches the exact 10th score, so ties are not penalised) and per-query latency
 * p50/p99 of the full store call (one transaction: settings + ANN query) — medians over `rounds` rounds.
 * Run: REEMBED_PG_URL=... npx tsx bench/pg-hnsw.ts [--n=100000 --queries=525 --rounds=3 --vectors=real]
 */
import { exactSearch, MetricKind } from 'usearch';
import { defineSpace } from '../src/core/space.js';
import { createHashingEmbedder } from '../src/embedders/hashing.js';
import { openPgBackend, type PgBackend } from '../src/stores/pg/backend.js';
import { benchArgs, fmt, median, percentile, report } from './lib.js';
import { benchSchema, dropBenchSchema, pgVersion, requireUrl } from './pg-common.js';
import { DATASETS_DIR, haveDatasets, realVectorSource } from './real-vectors.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({
  n: 100_000,
  queries: 525,
  dimension: 384,
  k: 10,
  rounds: 3,
  ef: '20,40,100,400',
  vectors: 'real',
});
const real = String(args.vectors) !== 'hashing';
if (real && !haveDatasets()) {
  console.error(`bench/pg-hnsw: skipped, the datasets are not at ${DATASETS_DIR} (set REEMBED_DATASETS)`);
  process.exit(0);
}
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
  let t = performance.now();
  const corpus = real ? realCorpus() : await hashingCorpus();
  const { docs, vectors, queries } = corpus;
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
      docs.slice(i, i + 1_000).map((d, j) => ({
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
  const truth = queries.map((q) => {
    const r = exactSearch(matrix, q, dim, k, MetricKind.IP) as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    // usearch's IP distance is 1 - dot; the k-th exact score is the bar an ANN hit must reach.
    return {
      ids: Array.from(r.keys, (key) => docs[Number(key)]?.id),
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
    const recalls: number[] = [];
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
      recalls.push(recall);
      p50s.push(percentile(ms, 50));
      p99s.push(percentile(ms, 99));
    }
    const usesIndex = /hnsw/i.test(plan);
    results.push({
      efSearch: ef,
      recallAt10: median(recalls),
      roundsRecall: recalls,
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
      vectors: corpus.description,
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

interface Corpus {
  readonly docs: { id: string; text: string; tenant: string | null }[];
  readonly vectors: Float32Array[];
  readonly queries: Float32Array[];
  readonly description: string;
}

/** bench/ann.ts's vectors: LSA-384 passages of real sentences and the real queries. */
function realCorpus(): Corpus {
  const source = realVectorSource({ dimension: dim });
  const docs: Corpus['docs'] = [];
  const vectors: Float32Array[] = [];
  const block = new Float32Array(10_000 * dim);
  for (let start = 0; start < n; start += 10_000) {
    const count = Math.min(10_000, n - start);
    const texts: string[] = [];
    source.fill(block, start, count, texts);
    for (let i = 0; i < count; i++) {
      docs.push({ id: `p${start + i}`, text: texts[i] as string, tenant: `t${(start + i) % 100}` });
      vectors.push(block.slice(i * dim, (i + 1) * dim));
    }
  }
  const count = Math.min(Number(args.queries), source.queryCount);
  const queries = Array.from({ length: count }, (_, q) => source.queries.slice(q * dim, (q + 1) * dim));
  return { docs, vectors, queries, description: source.description };
}

/** The first measurement's vectors: hashing embeddings of the Zipfian workload text. */
async function hashingCorpus(): Promise<Corpus> {
  const workload = buildWorkload(n);
  const embedder = createHashingEmbedder(space);
  const vectors = await embedder.embed(
    workload.docs.map((d) => d.text),
    { inputType: 'document' },
  );
  const queryTexts = workload.docs
    .slice(0, Number(args.queries))
    .map((d) => d.text.split(' ').slice(0, 8).join(' '));
  const queries = await embedder.embed(queryTexts, { inputType: 'query' });
  return {
    docs: workload.docs.map((d) => ({ id: d.id, text: d.text, tenant: d.tenant })),
    vectors,
    queries,
    description:
      'hashing embeddings (fnv1a, 384-d, unit length) of buildWorkload(n); queries: first 8 words of documents',
  };
}
