/**
 * Do the benchmark vectors have real nearest-neighbour structure? For each set, as seen from its queries:
 * local intrinsic dimensionality (LID, Levina–Bickel over 20 neighbours), relative contrast (mean distance
 * to random points ÷ distance to the nearest neighbour), the median nearest-neighbour distance, and the
 * recall@10 of one fixed HNSW configuration (the store's: int8, M 16, ef 64, no rescoring) on the first
 * `hnswN` vectors — the figure that is meaningless on structure-free data.
 *
 * Sets: the real all-MiniLM-L6-v2 embeddings of SciFact + Cranfield (6,583 documents, 525 real queries:
 * the reference); this generator's LSA passages at the same count and at `n`; hashing embeddings of the
 * Zipfian workload text (what bench/pg-hnsw.ts measured before); uniform random unit vectors.
 * Run: npx tsx bench/vectors.ts [--n=100000 --hnswN=20000 --sample=525]
 */
import { exactSearch, MetricKind } from 'usearch';
import { defineSpace } from '../src/core/space.js';
import { createHashingEmbedder } from '../src/embedders/hashing.js';
import { AnnIndex } from '../src/stores/sqlite/ann-index.js';
import { benchArgs, fmt, report } from './lib.js';
import {
  DATASETS_DIR,
  haveDatasets,
  miniLmReference,
  realVectorSource,
  structureStats,
  uniformVectors,
} from './real-vectors.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({ n: 100_000, hnswN: 20_000, sample: 525, dimension: 384 });
if (!haveDatasets()) {
  console.error(`bench/vectors: skipped, the datasets are not at ${DATASETS_DIR} (set REEMBED_DATASETS)`);
  process.exit(0);
}
const n = Number(args.n);
const d = Number(args.dimension);
const sample = Number(args.sample);
const hnswN = Math.min(Number(args.hnswN), n);

/** recall@10 of the store's HNSW configuration, without rescoring, on the first `count` vectors. */
function hnswRecall(data: Float32Array, queries: Float32Array, count: number): number {
  const rows = Math.min(count, data.length / d);
  const block = data.slice(0, rows * d);
  const index = new AnnIndex(
    { dimension: d, metric: 'cosine', quantization: 'i8', connectivity: 16, expansionAdd: 128 },
    { incarnation: 'bench', generation: 0, highKey: 0, removed: 0 },
    64,
  );
  const keys = Float64Array.from({ length: rows }, (_, i) => i + 1);
  index.add(keys, block.slice(), rows);
  const nq = queries.length / d;
  const truth = exactSearch(block, queries, d, 10, MetricKind.IP) as unknown as { keys: BigUint64Array };
  let found = 0;
  for (let q = 0; q < nq; q++) {
    const want = new Set(Array.from(truth.keys.subarray(q * 10, q * 10 + 10), (k) => Number(k) + 1));
    const got = index.search(queries.slice(q * d, (q + 1) * d), 10);
    for (const k of got.keys) if (want.has(k)) found++;
  }
  return found / (nq * 10);
}

const sets: Record<string, unknown>[] = [];
const measure = (name: string, data: Float32Array, queries: Float32Array, note: string): void => {
  const q = queries.slice(0, Math.min(sample, queries.length / d) * d);
  const t = performance.now();
  const stats = structureStats(data, q, d);
  const recall = hnswRecall(data, q, hnswN);
  sets.push({ name, note, ...stats, hnswRecallAt10: recall, hnswN: Math.min(hnswN, data.length / d) });
  console.error(
    `${name}: LID ${fmt(stats.lid)}, relative contrast ${fmt(stats.relativeContrast, 2)}, NN distance ${fmt(stats.nearestDistance, 3)}, ` +
      `HNSW recall@10 ${fmt(recall, 3)} (${fmt((performance.now() - t) / 1000)} s)`,
  );
};

// The reference is 384-d: only comparable at that dimension (smoke runs use a smaller one).
const reference = d === 384 ? miniLmReference() : null;
if (reference)
  measure(
    'MiniLM-L6-v2 (real), 6,583',
    reference.docs,
    reference.queries,
    'all-MiniLM-L6-v2 of SciFact + Cranfield; the 525 real queries',
  );
const source = realVectorSource({ dimension: d });
const generated = Math.max(n, 6_583);
const lsa = new Float32Array(generated * d);
for (let start = 0; start < generated; start += 10_000) {
  const count = Math.min(10_000, generated - start);
  const block = new Float32Array(count * d);
  source.fill(block, start, count);
  lsa.set(block, start * d);
}
measure(
  'LSA passages, 6,583',
  lsa.slice(0, 6_583 * d),
  source.queries,
  'this generator, same count as the reference; real queries',
);
if (n !== 6_583)
  measure(
    `LSA passages, ${n.toLocaleString('en-US')}`,
    lsa.slice(0, n * d),
    source.queries,
    'this generator; real queries',
  );
const workload = buildWorkload(n);
const hashing = createHashingEmbedder(
  defineSpace(`hashing-${d}`, { provider: 'hashing', model: 'fnv1a', dimension: d, params: { seed: 1 } }),
);
const flatten = (vs: Float32Array[]): Float32Array => {
  const out = new Float32Array(vs.length * d);
  vs.forEach((v, i) => {
    out.set(v, i * d);
  });
  return out;
};
const hashed = flatten(
  await hashing.embed(
    workload.docs.map((x) => x.text),
    { inputType: 'document' },
  ),
);
const hashQueries = flatten(
  await hashing.embed(
    workload.docs.slice(0, sample).map((x) => x.text.split(' ').slice(0, 8).join(' ')),
    { inputType: 'query' },
  ),
);
measure(
  `hashing of Zipfian text, ${n.toLocaleString('en-US')}`,
  hashed,
  hashQueries,
  'bench/workload.ts text, hashing-384; queries: first 8 words of documents',
);
measure(
  `uniform random, ${n.toLocaleString('en-US')}`,
  uniformVectors(n, d, 1),
  uniformVectors(sample, d, 2),
  'unit vectors uniform on the sphere',
);

report('vectors', { config: { n, dimension: d, sample, hnswN }, vectors: source.description, sets });
