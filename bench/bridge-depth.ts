/**
 * Issue 17, the 30% goal (SciFact LSA-256 → MiniLM, deprecation case: clean old − 0.01 served at k = 10 by
 * 30% native coverage): what the bridged lazy read serves at k = 10 under each candidate change, per seed.
 * The pairs are the `n` documents already re-embedded (random order = the seed), as in bridge-quality.ts.
 *
 * Rows (all served at k = 10 against a fixed state, embed-on-read with the new model, reembed's fuseResults):
 *   - `corpus, depth D`: the corpus bridge's derived namespace as the primary, embed-on-read over its top D
 *     (the fusion policy's `rerankDepth`; D = 10 is what shipped before);
 *   - `query, depth D`: the old namespace read with mapped queries as the primary (the query bridge);
 *   - `both bridges (rrf), depth D`: the two bridged lists fused by reciprocal rank as the primary;
 *   - `corpus, refit on 1/5 of the pairs`: the adapter fitted on the first fifth of the migrated documents
 *     only (an adapter fitted early and never refitted), to show what refitting on all pairs is worth.
 * with the new-model document embeddings each spends per query.
 *
 * Run: npx tsx bench/bridge-depth.ts [--datasets=scifact --seeds=1,2,3,4,5 --sizes=260,1000,1550,2000
 *      --pairs=lsa-256:minilm --depths=10,20,30,50 --out=bridge-depth]
 * Writes bench/results/<out>.{json,md}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AffineMap, type FitReport, fitAffine } from '../src/core/adapter-fit.js';
import { mapRows, prepareMap } from '../src/core/adapter-map.js';
import { fuseResults } from '../src/core/fusion.js';
import type { SearchHit } from '../src/core/records.js';
import { loadBridgeDataset, type SpaceName } from './bridge-data.js';
import { hit, judgedOf, lazyEmbedOnRead, mean, rank, rowsOf, scoreMatrix, topK } from './bridge-methods.js';
import { benchArgs, machineInfo } from './lib.js';
import { migrationOrder } from './quality-methods.js';

const args = benchArgs({
  datasets: 'scifact',
  seeds: '1,2,3,4,5',
  sizes: '260,1000,1550,2000',
  pairs: 'lsa-256:minilm',
  depths: '10,20,30,50',
  root: '',
  out: 'bridge-depth',
});
const shared = String(args.root) || join(import.meta.dirname, '..', '..', 'shared');
const seeds = String(args.seeds).split(',').map(Number);
const sizes = String(args.sizes).split(',').map(Number);
const depths = String(args.depths).split(',').map(Number);
const pairs = String(args.pairs)
  .split(',')
  .map((p) => p.split(':') as [SpaceName, SpaceName]);

interface Row {
  dataset: string;
  pair: string;
  size: number;
  coverage: number;
  row: string;
  values: number[];
  cost: number[];
}
const rows = new Map<string, Row>();
function put(dataset: string, pair: string, size: number, coverage: number, row: string, v: number, c = 0) {
  const key = `${dataset}|${pair}|${size}|${row}`;
  const r = rows.get(key) ?? { dataset, pair, size, coverage, row, values: [], cost: [] };
  r.values.push(v);
  r.cost.push(c);
  rows.set(key, r);
}

function mapAll(map: AffineMap, x: Float32Array): Float32Array {
  const n = x.length / map.inputDimension;
  return mapRows(prepareMap(map), x, n, new Float32Array(n * map.outputDimension), true);
}

/** Reciprocal-rank fusion of two score matrices' top 100 per query, as a dense score matrix (0 elsewhere). */
function rrfMatrix(a: Float32Array, b: Float32Array, n: number): Float32Array {
  const out = new Float32Array(a.length);
  const nq = a.length / n;
  for (let q = 0; q < nq; q++) {
    const hits = (m: Float32Array): SearchHit[] =>
      topK(m.subarray(q * n, (q + 1) * n), 100).map((d) => hit(String(d), m[q * n + d] as number));
    const fused = fuseResults({
      primary: { namespace: 'a', hits: hits(a) },
      next: { namespace: 'b', hits: hits(b) },
      migrated: new Set(),
      policy: { method: 'rrf' },
      k: 200,
    });
    for (const h of fused) out[q * n + Number(h.sourceId)] = h.fusedScore;
  }
  return out;
}

for (const name of String(args.datasets).split(',')) {
  const ds = await loadBridgeDataset(shared, name);
  const N = ds.collection.docIds.length;
  const { judged, ndcg } = judgedOf(ds.collection);
  for (const [from, to] of pairs) {
    const A = ds.spaces[from];
    const B = ds.spaces[to];
    const [p, q] = [A.dimension, B.dimension];
    const pair = `${from} → ${to}`;
    const sBB = scoreMatrix(B.queries, B.docs, q);
    const cleanOld = ndcg(rank(scoreMatrix(A.queries, A.docs, p), N));
    for (const seed of seeds) {
      const order = migrationOrder(N, seed);
      for (const n of sizes) {
        const started = performance.now();
        const cov = n / N;
        const S = Array.from(order.subarray(0, n));
        const mask = new Uint8Array(N);
        for (const i of S) mask[i] = 1;
        const rec = (row: string, v: number, c = 0) => put(name, pair, n, cov, row, v, c);
        rec('clean old', cleanOld);
        rec('new alone', ndcg(rank(sBB, N, (i) => mask[i] === 1)));
        const xA = rowsOf(A.docs, p, S);
        const xB = rowsOf(B.docs, q, S);
        const fitPairs = (
          src: Float32Array,
          dst: Float32Array,
          sp: number,
          tp: number,
          count: number,
        ): FitReport =>
          fitAffine({ source: src, target: dst, sourceDimension: sp, targetDimension: tp, count });
        const corpus = fitPairs(xA, xB, p, q, n);
        const sCB = scoreMatrix(B.queries, mapAll(corpus.chosen.map, A.docs), q);
        const query = fitPairs(xB, xA, q, p, n);
        const sQB = scoreMatrix(mapAll(query.chosen.map, B.queries), A.docs, p);
        const both = rrfMatrix(sCB, sQB, N);
        for (const [label, primary] of [
          ['corpus', sCB],
          ['query', sQB],
          ['both bridges (rrf)', both],
        ] as const) {
          for (const d of depths) {
            const served = lazyEmbedOnRead(primary, sBB, judged.docIds, mask, false, 10, d);
            rec(`${label}, depth ${d}`, ndcg(served.runs), mean(served.embedded));
          }
        }
        const early = Math.max(40, Math.round(n / 5));
        const earlyFit = fitPairs(
          rowsOf(A.docs, p, S.slice(0, early)),
          rowsOf(B.docs, q, S.slice(0, early)),
          p,
          q,
          early,
        );
        const sEarly = scoreMatrix(B.queries, mapAll(earlyFit.chosen.map, A.docs), q);
        for (const d of [10, 30]) {
          const served = lazyEmbedOnRead(sEarly, sBB, judged.docIds, mask, false, 10, d);
          rec(
            `corpus, fitted on the first ${early === 40 ? '40' : '1/5'} pairs, depth ${d}`,
            ndcg(served.runs),
            mean(served.embedded),
          );
        }
        console.log(
          `${name} ${pair} seed ${seed} n=${n}: ${[...rows.values()]
            .filter((r) => r.size === n && r.pair === pair && r.dataset === name && r.row.includes('depth'))
            .map((r) => `${r.row} ${r.values.at(-1)?.toFixed(3)}`)
            .join('; ')} [${((performance.now() - started) / 1000).toFixed(0)} s]`,
        );
        save();
      }
    }
  }
}

function sd(v: readonly number[]): number {
  const m = mean(v);
  return v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
}

function markdown(): string {
  const out = [
    '# The 30% goal: re-rank depth and bridge choices (bench/bridge-depth.ts)',
    '',
    `Machine: ${Object.values(machineInfo()).join(', ')}. Seeds ${seeds.join(', ')}; nDCG@10 served at k = 10, mean ±sd [min] over seeds; (new-model document embeddings per query).`,
    '',
  ];
  const groups = new Map<string, Row[]>();
  for (const r of rows.values())
    groups.set(`${r.dataset}: ${r.pair}`, [...(groups.get(`${r.dataset}: ${r.pair}`) ?? []), r]);
  for (const [title, group] of groups) {
    const ss = [...new Set(group.map((r) => r.size))].sort((a, b) => a - b);
    out.push(
      `## ${title}`,
      '',
      `| served at k = 10 | ${ss.map((s) => `${s} (${(100 * (group.find((r) => r.size === s) as Row).coverage).toFixed(0)}%)`).join(' | ')} |`,
    );
    out.push(`|---|${ss.map(() => '---').join('|')}|`);
    for (const label of [...new Set(group.map((r) => r.row))]) {
      const cells = ss.map((s) => {
        const r = group.find((x) => x.size === s && x.row === label);
        if (!r) return '';
        const c = mean(r.cost);
        return `${mean(r.values).toFixed(3)} ±${sd(r.values).toFixed(3)} [${Math.min(...r.values).toFixed(3)}]${c > 0 ? ` (${c.toFixed(1)})` : ''}`;
      });
      out.push(`| ${label} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function save(): void {
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${args.out}.json`),
    JSON.stringify({ machine: machineInfo(), seeds, rows: [...rows.values()] }, null, 1),
  );
  writeFileSync(join(dir, `${args.out}.md`), markdown());
}
save();
console.log(markdown());
