/**
 * Issue 17, speed goals of a bridge, on SciFact's real vectors (LSA-256 and the stored all-MiniLM-L6-v2):
 *   - fitting on 1,000 pairs (method and regularisation chosen on held-out pairs), 384-d in or out;
 *   - mapping one query (the query bridge maps every query), SIMD kernel and the JavaScript fallback;
 *   - mapping 1M stored vectors (a corpus bridge), streamed in blocks of 65,536 (the corpus tiled),
 *     kernel only: the store's writes of the derived namespace come on top (see BENCHMARKS.md).
 * Medians over --rounds runs.
 *
 * Run: npx tsx bench/bridge-speed.ts [--rounds=3 --vectors=1000000 --pairs=1000]
 * Writes bench/results/bridge-speed.json.
 */
import { join } from 'node:path';
import { fitAffine } from '../src/core/adapter-fit.js';
import { mapRows, mapVector, prepareMap } from '../src/core/adapter-map.js';
import { loadBridgeDataset, type SpaceName } from './bridge-data.js';
import { benchArgs, median, report } from './lib.js';

const args = benchArgs({ rounds: 3, vectors: 1_000_000, pairs: 1_000, root: '' });
const shared = String(args.root) || join(import.meta.dirname, '..', '..', 'shared');
const rounds = Number(args.rounds);
const total = Number(args.vectors);
const n = Number(args.pairs);

const ds = await loadBridgeDataset(shared, 'scifact');
const N = ds.collection.docIds.length;

function rows(space: SpaceName, count: number): Float32Array {
  const s = ds.spaces[space];
  return s.docs.slice(0, count * s.dimension);
}

const results: Record<string, unknown> = {};
for (const [from, to] of [
  ['lsa-256', 'minilm'],
  ['minilm', 'lsa-256'],
] as [SpaceName, SpaceName][]) {
  const p = ds.spaces[from].dimension;
  const q = ds.spaces[to].dimension;
  const pairs = {
    source: rows(from, n),
    target: rows(to, n),
    sourceDimension: p,
    targetDimension: q,
    count: n,
  };
  const fitSeconds: number[] = [];
  let report_ = fitAffine(pairs);
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    report_ = fitAffine(pairs);
    fitSeconds.push((performance.now() - t) / 1000);
  }
  const map = report_.chosen.map;
  const simd = prepareMap(map);
  const js = prepareMap(map, { simd: false });
  const queries = ds.spaces[from].queries;
  const nq = queries.length / p;
  const perQuery = (prepared: typeof simd): number => {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      let done = 0;
      while (done < 20_000) {
        const i = done % nq;
        mapVector(prepared, queries.subarray(i * p, (i + 1) * p), true);
        done++;
      }
      times.push(((performance.now() - t) * 1000) / done);
    }
    return median(times);
  };
  const block = 65_536;
  const input = new Float32Array(block * p);
  for (let i = 0; i < block; i++) {
    const d = i % N;
    input.set(ds.spaces[from].docs.subarray(d * p, (d + 1) * p), i * p);
  }
  const output = new Float32Array(block * q);
  const million: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    for (let done = 0; done < total; done += block)
      mapRows(simd, input, Math.min(block, total - done), output, true);
    million.push((performance.now() - t) / 1000);
  }
  const jsBlock: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    mapRows(js, input, block, output, true);
    jsBlock.push((performance.now() - t) / 1000);
  }
  const key = `${from}->${to}`;
  results[key] = {
    dimensions: `${p} -> ${q}`,
    pairs: n,
    chosen: `${report_.chosen.method} ${JSON.stringify(report_.chosen.params)}`,
    fitSecondsMedian: median(fitSeconds),
    fitSeconds,
    queryMicrosSimd: perQuery(simd),
    queryMicrosJs: perQuery(js),
    mapVectors: total,
    mapSecondsSimdMedian: median(million),
    mapSecondsSimd: million,
    mapSecondsJsExtrapolated: (median(jsBlock) * total) / block,
    simd: simd.simd !== null,
  };
  console.log(key, JSON.stringify(results[key]));
}
report('bridge-speed', { rounds, results, note: 'machine shared with other engineers: medians over rounds' });
