/**
 * How many records an HNSW index built by the embedded store can never return: each record's own vector
 * is searched for with the store's defaults (i8 cosine, M 16, ef 256, 24 candidates); a record missing from
 * its own candidates is unreachable from the graph's entry point (rescoring is exact, so a reachable
 * record always wins its own query). usearch inserts on every core (`threads` 0, the store's choice) or
 * serially (`threads` 1); both are built from the same real-structure vectors (bench/real-vectors.ts) in
 * the same run, and the build time of each is reported beside its loss.
 *
 * Run: npx tsx bench/ann-reachability.ts [--n=20000 --rounds=3 --dimension=384]
 */

import { ANN_DEFAULTS } from '../src/stores/sqlite/ann-config.js';
import { AnnIndex } from '../src/stores/sqlite/ann-index.js';
import { benchArgs, median, report } from './lib.js';
import { DATASETS_DIR, haveDatasets, realVectorSource } from './real-vectors.js';

const args = benchArgs({ n: 20_000, rounds: 3, dimension: 384 });
if (!haveDatasets()) {
  console.error(
    `bench/ann-reachability: skipped, the datasets are not at ${DATASETS_DIR} (set REEMBED_DATASETS)`,
  );
  process.exit(0);
}
const n = Number(args.n);
const d = Number(args.dimension);
const source = realVectorSource({ dimension: d });
const vectors = new Float32Array(n * d);
source.fill(vectors, 0, n);
const keys = Float64Array.from({ length: n }, (_, i) => i + 1);
const params = {
  dimension: d,
  metric: 'cosine' as const,
  quantization: 'i8' as const,
  connectivity: ANN_DEFAULTS.connectivity,
  expansionAdd: ANN_DEFAULTS.expansionAdd,
};
const snapshot = { incarnation: 'bench', generation: 1, highKey: n, removed: 0 };

function measure(threads: number): { buildMs: number; unreachable: number } {
  const index = new AnnIndex(params, snapshot, ANN_DEFAULTS.expansionSearch);
  const started = performance.now();
  index.add(keys, Float32Array.from(vectors), n, threads); // add scales rows in place: give it a copy
  const buildMs = performance.now() - started;
  let unreachable = 0;
  for (let i = 0; i < n; i++) {
    const found = index.search(vectors.subarray(i * d, (i + 1) * d), ANN_DEFAULTS.minCandidates);
    if (!found.keys.includes(i + 1)) unreachable++;
  }
  return { buildMs, unreachable };
}

const runs: Record<string, { buildMs: number; unreachable: number }[]> = { parallel: [], serial: [] };
for (let r = 0; r < Number(args.rounds); r++) {
  runs.parallel?.push(measure(0));
  runs.serial?.push(measure(1));
  console.error(
    `round ${r + 1}: parallel ${JSON.stringify(runs.parallel?.at(-1))} serial ${JSON.stringify(runs.serial?.at(-1))}`,
  );
}
const summary = (rows: { buildMs: number; unreachable: number }[]) => ({
  buildMsMedian: Math.round(median(rows.map((x) => x.buildMs))),
  unreachableMedian: median(rows.map((x) => x.unreachable)),
  unreachableShareMedian: median(rows.map((x) => x.unreachable / n)),
  runs: rows,
});
report('ann-reachability', {
  n,
  dimension: d,
  vectors: source.description,
  parallel: summary(runs.parallel ?? []),
  serial: summary(runs.serial ?? []),
});
