/**
 * Issue 2: exact search over 100,000 x 384-d vectors in the embedded store, single query at a time
 * (`exact: true`: from 50,000 records the store's default search goes through its HNSW index instead,
 * which bench/ann.ts measures).
 * Vectors are real hashing embeddings of the peer workload's documents (Zipfian text, not uniform noise).
 * Side by side in the same run: the store's search (usearch SIMD exact scan over a cached matrix), the
 * full library path (alias → embed query → search → provenance), and a plain JavaScript scan.
 * Goal: median under 40 ms. Run: npx tsx bench/search.ts [--n=100000 --queries=200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReembed } from '../src/app/open.js';
import { defineSpace } from '../src/core/space.js';
import { dot } from '../src/core/vector.js';
import { benchArgs, fmt, median, percentile, report } from './lib.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({ n: 100_000, queries: 200, dimension: 384, k: 10 });
const n = Number(args.n);
const dim = Number(args.dimension);
const k = Number(args.k);
const dir = mkdtempSync(join(tmpdir(), 'reembed-bench-'));
const app = await openReembed({ db: join(dir, 'bench.db'), actor: 'bench' });
const space = defineSpace('hashing-384', {
  provider: 'hashing',
  model: 'fnv1a',
  dimension: dim,
  params: { seed: 1 },
});
await app.addSpace(space);
await app.createCollection('bench', space.name);
const workload = buildWorkload(n);
for (let i = 0; i < n; i += 5_000) await app.ingest('bench', workload.docs.slice(i, i + 5_000));

const embedder = await app.embedders.get(space);
const queryTexts = workload.docs
  .slice(0, Number(args.queries))
  .map((d) => d.text.split(' ').slice(0, 8).join(' '));
const queryVectors = await embedder.embed(queryTexts, { inputType: 'query' });

// Warm the store's in-memory matrix once (a process-start cost, reported separately).
const warmStart = performance.now();
await app.backend.store.search('bench@hashing-384', {
  vector: queryVectors[0] as Float32Array,
  fingerprint: space.fingerprint,
  k,
  exact: true,
});
const warmMs = performance.now() - warmStart;

const storeMs: number[] = [];
for (const vector of queryVectors) {
  const t = performance.now();
  await app.backend.store.search('bench@hashing-384', {
    vector,
    fingerprint: space.fingerprint,
    k,
    exact: true,
  });
  storeMs.push(performance.now() - t);
}
const libraryMs: number[] = [];
for (const text of queryTexts) {
  const t = performance.now();
  await app.search('bench', { text, k, exact: true });
  libraryMs.push(performance.now() - t);
}

// Plain JavaScript baseline over the same vectors (a contiguous Float32Array, 4-way unrolled dot).
const matrix = new Float32Array(n * dim);
const docVectors = await embedder.embed(
  workload.docs.map((d) => d.text),
  { inputType: 'document' },
);
docVectors.forEach((v, i) => {
  matrix.set(v, i * dim);
});
const jsMs: number[] = [];
for (const vector of queryVectors.slice(0, 50)) {
  const t = performance.now();
  const topIds = new Int32Array(k).fill(-1);
  const topScores = new Float32Array(k).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    const s = dot(vector, matrix, i * dim);
    if (s <= (topScores[k - 1] as number)) continue;
    let j = k - 1;
    while (j > 0 && (topScores[j - 1] as number) < s) {
      topScores[j] = topScores[j - 1] as number;
      topIds[j] = topIds[j - 1] as number;
      j--;
    }
    topScores[j] = s;
    topIds[j] = i;
  }
  if (topIds[0] === -1) throw new Error('unreachable');
  jsMs.push(performance.now() - t);
}

await app.close();
rmSync(dir, { recursive: true, force: true });
report('search', {
  vectors: n,
  dimension: dim,
  k,
  queries: queryVectors.length,
  cache_load_ms: Math.round(warmMs),
  store_exact_ms: { median: fmt(median(storeMs), 2), p99: fmt(percentile(storeMs, 99), 2) },
  library_end_to_end_ms: { median: fmt(median(libraryMs), 2), p99: fmt(percentile(libraryMs, 99), 2) },
  plain_js_scan_ms: { median: fmt(median(jsMs), 2) },
  goal_median_ms: 40,
});
