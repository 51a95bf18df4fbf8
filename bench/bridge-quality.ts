/**
 * Issue 17: bridges between embedding spaces. For each collection, pair of spaces (old → new), fitting
 * method and training size (50, 200, 1,000, 2,000 pairs = the documents already re-embedded natively, so
 * native coverage = pairs / documents), nDCG@10 served by:
 *   - the query bridge (new-model queries mapped into the old space, searching the old namespace), alone
 *     and fused with the new namespace's native records by reembed's coverage-aware fusion;
 *   - the corpus bridge (old vectors mapped into the new space: a derived namespace), alone and fused;
 *   - beside the new namespace alone at the same coverage (what a deprecation leaves), clean old, clean
 *     new, the naive mixed index (equal dimensions only) and the lazy fusion with both models available.
 * "gate choice" is what reembed would serve in the deprecation case: the option with the best probe MRR
 * (200 known-item queries cut from documents, embedded by the new model — never the judged queries).
 * "probe pairs" fits the query bridge on the documents' pairs plus as many (probe query in the new space,
 * its document in the old space) pairs.
 * The product path (`productPath`): the adapter `reembed adapter fit` stores (every method on the same
 * held-out pairs, the best refitted on all), what `adapter eval` gates, and what the bridged lazy migration
 * then serves with embed-on-read (src/app/query.ts `#fused`, replayed by `lazyEmbedOnRead`; the bridge's top
 * 30 re-ranked by the new model, a bridged migration's default, and its top 10 for comparison), with its cost
 * in new-model document embeddings per query, against a fixed starting state and with write-back.
 *
 * Run: npx tsx bench/bridge-quality.ts [--datasets=scifact,cranfield --seeds=1,2,3
 *      --sizes=50,200,260,1000,1550,2000 --pairs=lsa-256:minilm --plainLambdas=0.01,0.1,1]
 *      (the first run embeds one pseudo-query per document with the live MiniLM: ~10 min of CPU, cached)
 * Writes bench/results/bridge-quality.{json,md} (or --out=NAME), after every cell.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AdapterMethod,
  type AffineMap,
  type FitReport,
  fitAffine,
  fitMethod,
} from '../src/core/adapter-fit.js';
import { bootstrapMean } from '../src/core/adapter-gate.js';
import { mapRows, prepareMap } from '../src/core/adapter-map.js';
import { BRIDGED_RERANK_DEPTH } from '../src/core/routing.js';
import { createLocalEmbedderFactory } from '../src/embedders/factory.js';
import { type BridgeDataset, loadBridgeDataset, type SpaceName } from './bridge-data.js';
import {
  fused,
  type Judged,
  judgedOf,
  lazyEmbedOnRead,
  mean,
  rank,
  rawMerge,
  rowsOf,
  scoreMatrix,
} from './bridge-methods.js';
import { loadPseudoQueries } from './bridge-pseudo.js';
import { benchArgs, machineInfo } from './lib.js';
import { migrationOrder } from './quality-methods.js';

const args = benchArgs({
  datasets: 'scifact,cranfield',
  seeds: '1,2,3',
  sizes: '50,200,260,1000,1550,2000',
  plainLambdas: '0.01',
  pairs: '',
  root: '',
  out: '',
});
const shared = String(args.root) || join(import.meta.dirname, '..', '..', 'shared');
const seeds = String(args.seeds).split(',').map(Number);
const sizes = String(args.sizes).split(',').map(Number);
const PAIRS: readonly [SpaceName, SpaceName][] = String(args.pairs)
  ? (String(args.pairs)
      .split(',')
      .map((p) => p.split(':')) as [SpaceName, SpaceName][])
  : [
      ['lsa-256', 'minilm'],
      ['hashing-256', 'minilm'],
      ['w2v-300', 'minilm'],
      ['hashing-256', 'lsa-256'],
    ];
const PROBES = 200;

interface Cell {
  readonly dataset: string;
  readonly pair: string;
  readonly size: number;
  readonly coverage: number;
  readonly row: string;
  /** nDCG@10 per seed. */
  readonly values: number[];
  /** Chosen method / option per seed (gate and tuned rows). */
  readonly notes: string[];
}

const cells = new Map<string, Cell>();
function record(
  dataset: string,
  pair: string,
  size: number,
  coverage: number,
  row: string,
  value: number,
  note = '',
): void {
  const key = `${dataset}|${pair}|${size}|${row}`;
  const cell = cells.get(key) ?? { dataset, pair, size, coverage, row, values: [], notes: [] };
  cell.values.push(value);
  if (note) cell.notes.push(note);
  cells.set(key, cell);
}

/** New-space vectors of each document's pseudo-query (the probe text): stored for MiniLM, embedded locally otherwise. */
async function pseudoVectors(ds: BridgeDataset, space: SpaceName): Promise<Float32Array> {
  if (space === 'minilm') return (await loadPseudoQueries(shared, ds.collection.name)).vectors;
  const texts = (await loadPseudoQueries(shared, ds.collection.name)).texts;
  const target = ds.spaces[space];
  const embedder = await createLocalEmbedderFactory().create(target.space);
  const out = new Float32Array(texts.length * target.dimension);
  for (let i = 0; i < texts.length; i += 256) {
    (await embedder.embed(texts.slice(i, i + 256), { inputType: 'query' })).forEach((v, j) => {
      out.set(v, (i + j) * target.dimension);
    });
  }
  return out;
}

function methodsFor(p: number, q: number): AdapterMethod[] {
  return p === q ? ['procrustes', 'ridge', 'low-rank'] : ['ridge', 'low-rank'];
}

function tuned(
  method: AdapterMethod,
  source: Float32Array,
  target: Float32Array,
  p: number,
  q: number,
  n: number,
): FitReport {
  return fitAffine(
    { source, target, sourceDimension: p, targetDimension: q, count: n },
    { methods: [method] },
  );
}

async function runDataset(name: string): Promise<void> {
  const ds = await loadBridgeDataset(shared, name);
  const N = ds.collection.docIds.length;
  const { judged, ndcg } = judgedOf(ds.collection);
  for (const [from, to] of PAIRS) {
    const A = ds.spaces[from];
    const B = ds.spaces[to];
    const p = A.dimension;
    const q = B.dimension;
    const pair = `${from} → ${to}`;
    const pseudo = await pseudoVectors(ds, to);
    const sAA = scoreMatrix(A.queries, A.docs, p);
    const sBB = scoreMatrix(B.queries, B.docs, q);
    const cleanOld = ndcg(rank(sAA, N));
    const cleanNew = ndcg(rank(sBB, N));
    for (const seed of seeds) {
      const order = migrationOrder(N, seed);
      const probeOrder = migrationOrder(N, 1000 + seed);
      // Probe queries: the first PROBES documents of probeOrder; probe pairs: the following ones.
      const probeDocs = Array.from(probeOrder.subarray(0, PROBES));
      const probeQ = rowsOf(pseudo, q, probeDocs);
      for (const n of sizes) {
        if (n > 0.8 * N) continue;
        const started = performance.now();
        const coverage = n / N;
        const S = Array.from(order.subarray(0, n));
        const mask = new Uint8Array(N);
        for (const i of S) mask[i] = 1;
        const covered = (i: number): boolean => mask[i] === 1;
        const put = (row: string, value: number, note = ''): void =>
          record(name, pair, n, coverage, row, value, note);
        put('clean old', cleanOld);
        put('clean new', cleanNew);
        const pBB = scoreMatrix(probeQ, B.docs, q);
        const options: { label: string; golden: number; probe: number[] }[] = [];
        const option = (label: string, golden: number, probe: number[]): void => {
          options.push({ label, golden, probe });
          put(label, golden);
        };
        option('new alone', ndcg(rank(sBB, N, covered)), reciprocalRanks(rank(pBB, N, covered), probeDocs));
        if (p === q) {
          const mixed = new Float32Array(A.docs);
          for (const i of S) mixed.set(B.docs.subarray(i * q, (i + 1) * q), i * q);
          put('naive mixed', ndcg(rank(scoreMatrix(B.queries, mixed, q), N)));
        }
        put('lazy, both models', ndcg(fused(sAA, sBB, judged.docIds, mask, coverage)));
        const xA = rowsOf(A.docs, p, S);
        const xB = rowsOf(B.docs, q, S);
        // Plain ridge, untuned (λ = 0.01 × mean eigenvalue): the baseline. --plainLambdas adds rows at other
        // λ (× mean eigenvalue) to see which regularisation the issue's baseline figures correspond to.
        for (const lambda of String(args.plainLambdas).split(',').map(Number)) {
          const plain = fitMethod(
            'ridge',
            { source: xA, target: xB, sourceDimension: p, targetDimension: q, count: n },
            { lambda },
          );
          const plainCB = scoreMatrix(B.queries, applyAffineRows(plain, A.docs, true), q);
          const tag = lambda === 0.01 ? '' : ` λ=${lambda}`;
          put(`corpus bridge, plain ridge${tag}`, ndcg(rank(plainCB, N)));
          put(
            `corpus bridge + native (raw merge), plain ridge${tag}`,
            ndcg(rank(rawMerge(plainCB, sBB, mask), N)),
          );
        }
        // Each method's tuned fit, kept so that the adapter `reembed adapter fit` would store (all methods
        // tried on the same held-out pairs, the best refitted on all: the best of these) can be replayed.
        const corpusFits: { report: FitReport; scores: Float32Array }[] = [];
        const queryFits: { report: FitReport; scores: Float32Array }[] = [];
        for (const method of methodsFor(p, q)) {
          const g = tuned(method, xB, xA, q, p, n);
          const gq = applyAffineRows(g.chosen.map, B.queries, true);
          const sQB = scoreMatrix(gq, A.docs, p);
          const pQB = scoreMatrix(applyAffineRows(g.chosen.map, probeQ, true), A.docs, p);
          queryFits.push({ report: g, scores: sQB });
          put(`query bridge, ${method}`, ndcg(rank(sQB, N)), JSON.stringify(g.chosen.params));
          option(
            `query bridge + native, ${method}`,
            ndcg(fused(sQB, sBB, judged.docIds, mask, coverage)),
            reciprocalRanks(fused(pQB, pBB, judged.docIds, mask, coverage), probeDocs),
          );
          const f = tuned(method, xA, xB, p, q, n);
          const mapped = applyAffineRows(f.chosen.map, A.docs, true);
          const sCB = scoreMatrix(B.queries, mapped, q);
          const pCB = scoreMatrix(probeQ, mapped, q);
          corpusFits.push({ report: f, scores: sCB });
          put(`corpus bridge, ${method}`, ndcg(rank(sCB, N)), JSON.stringify(f.chosen.params));
          option(
            `corpus bridge + native, ${method}`,
            ndcg(fused(sCB, sBB, judged.docIds, mask, coverage)),
            reciprocalRanks(fused(pCB, pBB, judged.docIds, mask, coverage), probeDocs),
          );
          put(`corpus bridge + native (raw merge), ${method}`, ndcg(rank(rawMerge(sCB, sBB, mask), N)));
        }
        productPath(corpusFits, queryFits, sBB, mask, put, ndcg, judged);
        // Query bridge on document pairs plus probe pairs (probe query in the new space → its document's old vector).
        const probePairs = Array.from(probeOrder.subarray(PROBES, PROBES + n));
        const g = fitAffine(
          {
            source: concat(xB, rowsOf(pseudo, q, probePairs)),
            target: concat(xA, rowsOf(A.docs, p, probePairs)),
            sourceDimension: q,
            targetDimension: p,
            count: 2 * n,
          },
          { methods: ['ridge', 'low-rank'] },
        );
        const sQP = scoreMatrix(applyAffineRows(g.chosen.map, B.queries, true), A.docs, p);
        const pQP = scoreMatrix(applyAffineRows(g.chosen.map, probeQ, true), A.docs, p);
        put(
          'query bridge, probe pairs',
          ndcg(rank(sQP, N)),
          `${g.chosen.method} ${JSON.stringify(g.chosen.params)}`,
        );
        option(
          'query bridge + native, probe pairs',
          ndcg(fused(sQP, sBB, judged.docIds, mask, coverage)),
          reciprocalRanks(fused(pQP, pBB, judged.docIds, mask, coverage), probeDocs),
        );
        // The default gate: a bridge serves only when it beats the new namespace alone on the probe set
        // with a 95% paired bootstrap interval above zero; the best of those by probe MRR, else new alone.
        const alone = options[0] as (typeof options)[number];
        const passing = options.slice(1).filter((o) => {
          const [lo] = bootstrapMean(o.probe.map((v, i) => v - (alone.probe[i] as number)));
          return lo > 0;
        });
        const chosen =
          passing.length === 0 ? alone : passing.reduce((a, b) => (mean(b.probe) > mean(a.probe) ? b : a));
        put('gate choice (deprecation)', chosen.golden, chosen.label);
        console.log(
          `${name} ${pair} seed ${seed} n=${n} (${(100 * coverage).toFixed(0)}%): new alone ${options[0]?.golden.toFixed(3)}, gate → ${chosen.label} ${chosen.golden.toFixed(3)} [${((performance.now() - started) / 1000).toFixed(0)} s]`,
        );
        save();
      }
    }
  }
}

/**
 * reembed's product path in the deprecation case: `adapter fit` (every method on the same held-out pairs,
 * the best refitted on all), gated by `adapter eval` (fusion without embed-on-read), then served by the
 * bridged lazy migration with embed-on-read. "fixed" reads every judged query against the starting state
 * (what `reembed eval` measures); "write-back" lets each query's embed-on-read writes reach the new
 * namespace before the next query (what live traffic does), and says how far that raised the coverage.
 */
function productPath(
  corpusFits: readonly { report: FitReport; scores: Float32Array }[],
  queryFits: readonly { report: FitReport; scores: Float32Array }[],
  native: Float32Array,
  mask: Uint8Array,
  put: (row: string, value: number, note?: string) => void,
  ndcg: (runs: number[][]) => number,
  judged: Judged,
): void {
  const best = (fits: readonly { report: FitReport; scores: Float32Array }[]) =>
    fits.reduce((a, b) => (b.report.chosen.heldOutScore > a.report.chosen.heldOutScore ? b : a));
  for (const [direction, fits] of [
    ['corpus', corpusFits],
    ['query', queryFits],
  ] as const) {
    const chosen = best(fits);
    const note = `${chosen.report.chosen.method} ${JSON.stringify(chosen.report.chosen.params)}`;
    put(
      `${direction} bridge + native, as \`adapter eval\` gates it`,
      ndcg(fused(chosen.scores, native, judged.docIds, mask, undefined)),
      note,
    );
    // Served at k = 10 with the default embed-on-read depth of a bridged lazy migration (the bridge's top
    // BRIDGED_RERANK_DEPTH re-ranked by the new model), and with depth k = 10 (what shipped before).
    const fixed = lazyEmbedOnRead(
      chosen.scores,
      native,
      judged.docIds,
      mask,
      false,
      10,
      BRIDGED_RERANK_DEPTH,
    );
    put(`**lazy ${direction} bridge + embed-on-read, k = 10 (served)**`, ndcg(fixed.runs), note);
    put(`cost: new-model embeddings per query, ${direction} bridge`, mean(fixed.embedded));
    const shallow = lazyEmbedOnRead(chosen.scores, native, judged.docIds, mask, false, 10, 10);
    put(`lazy ${direction} bridge + embed-on-read, k = 10, rerank depth 10`, ndcg(shallow.runs), note);
    put(`cost: … per query at rerank depth 10, ${direction} bridge`, mean(shallow.embedded));
    const live = lazyEmbedOnRead(chosen.scores, native, judged.docIds, mask, true, 10, BRIDGED_RERANK_DEPTH);
    put(`lazy ${direction} bridge + embed-on-read, write-back over the run`, ndcg(live.runs), note);
    put(`cost: … per query with write-back, ${direction} bridge`, mean(live.embedded));
    put(`coverage after the write-back run, ${direction} bridge`, live.migratedAfter / mask.length);
    // Embed-on-read re-ranks the primary's top k, so a query asking for more results spends more and
    // ranks its top 10 better; `reembed eval` asks for 100 (recall@100), so it re-ranks the top 100.
    for (const k of [30, 100]) {
      const deep = lazyEmbedOnRead(chosen.scores, native, judged.docIds, mask, false, k);
      const what = k === 100 ? ' (what `reembed eval` measures)' : '';
      put(`lazy ${direction} bridge + embed-on-read, queries for k = ${k}${what}`, ndcg(deep.runs), note);
      put(`cost: … per query at k = ${k}, ${direction} bridge`, mean(deep.embedded));
    }
  }
}

function applyAffineRows(map: AffineMap, rows: Float32Array, normalise: boolean): Float32Array {
  const n = rows.length / map.inputDimension;
  return mapRows(prepareMap(map), rows, n, new Float32Array(n * map.outputDimension), normalise);
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Per probe: 1/rank of its own document in the top 10 (0 when absent). */
function reciprocalRanks(runs: number[][], answers: readonly number[]): number[] {
  return runs.map((r, i) => {
    const at = r.indexOf(answers[i] as number);
    return at >= 0 ? 1 / (at + 1) : 0;
  });
}

function sd(values: readonly number[]): number {
  const m = mean(values);
  return values.length < 2
    ? 0
    : Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}

function markdown(): string {
  const out: string[] = [
    '# Bridges between spaces (bench/bridge-quality.ts)',
    '',
    `Machine: ${Object.values(machineInfo()).join(', ')}. Seeds ${seeds.join(', ')} (random re-embedding order); mean nDCG@10 (± sd over seeds).`,
    '',
  ];
  const groups = new Map<string, Cell[]>();
  for (const c of cells.values()) {
    const key = `${c.dataset}|${c.pair}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [key, group] of groups) {
    const [dataset, pair] = key.split('|');
    const sizesHere = [...new Set(group.map((c) => c.size))].sort((a, b) => a - b);
    const rows = [...new Set(group.map((c) => c.row))];
    out.push(`## ${dataset}: ${pair}`, '');
    out.push(
      `| served | ${sizesHere.map((s) => `${s} pairs (${((100 * (group.find((c) => c.size === s)?.coverage ?? 0)) as number).toFixed(0)}%)`).join(' | ')} |`,
    );
    out.push(`|---|${sizesHere.map(() => '---').join('|')}|`);
    for (const row of rows) {
      const line = sizesHere.map((s) => {
        const c = group.find((x) => x.size === s && x.row === row);
        if (!c) return '';
        const v = row.startsWith('cost:') ? mean(c.values).toFixed(2) : mean(c.values).toFixed(3);
        return c.values.length > 1 && sd(c.values) >= 0.0005 ? `${v} ±${sd(c.values).toFixed(3)}` : v;
      });
      out.push(`| ${row} | ${line.join(' | ')} |`);
    }
    const gate = group.filter((c) => c.row === 'gate choice (deprecation)');
    out.push('', `Gate choices: ${gate.map((c) => `${c.size}: ${c.notes.join(' / ')}`).join('; ')}`, '');
  }
  return out.join('\n');
}

/** Writes what is measured so far (after every cell: a long run interrupted keeps its results). */
function save(): void {
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const out = String(args.out) || 'bridge-quality';
  writeFileSync(
    join(dir, `${out}.json`),
    JSON.stringify({ machine: machineInfo(), seeds, cells: [...cells.values()] }, null, 1),
  );
  writeFileSync(join(dir, `${out}.md`), markdown());
}

for (const name of String(args.datasets).split(',')) await runDataset(name);
save();
console.log(markdown());
