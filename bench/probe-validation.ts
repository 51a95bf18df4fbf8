/**
 * Issue 12: does the probe tell good spaces from bad ones? For each judged collection (SciFact, Cranfield)
 * every space gets a namespace in one real SQLite backend; each namespace is scored on the judged queries
 * (nDCG@10, exact search) and on probe sets built by `buildProbeSet` with several constructions, scored by
 * `evaluateProbe` — the code `migrate start` and the gates run. For every pair of spaces whose judged
 * nDCG@10 differs by more than 0.02, the probe's verdict (new better or worse than old) must agree with the
 * judged one in at least 90% of the pairs; the rank correlation (Spearman) of the probe's differences with
 * the judged ones says whether the size of a difference is tracked too. Writes
 * bench/results/probe-validation.{json,md}.
 *
 * Run: npx tsx bench/probe-validation.ts [--datasets=scifact,cranfield --variants=default,...|all --seed=1
 *        --spaces=wide|six --minilm=false --out=probe-validation]
 * The live MiniLM model embeds every probe query and held-out document (~1 document per second on this
 * shared machine), so a run with MiniLM takes about 20 minutes per variant that holds documents out.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateNamespace } from '../src/app/evaluate.js';
import { openReembed } from '../src/app/open.js';
import { buildProbeSet, evaluateProbe } from '../src/app/probes.js';
import type { Reembed } from '../src/app/reembed.js';
import { fitLsaSpace } from '../src/cli/lsa-model.js';
import type { ProbeParamsInput } from '../src/core/probe.js';
import type { Space } from '../src/core/space.js';
import { withTitle } from '../src/corpus/document.js';
import { hashingSpace, wordVectorSpace } from '../src/embedders/factory.js';
import { loadGoldenSet } from '../src/eval/load-golden.js';
import { benchArgs, machineInfo } from './lib.js';
import { extraSpaces } from './probe-spaces.js';

const args = benchArgs({
  datasets: 'scifact,cranfield',
  variants: 'default',
  seed: 1,
  size: 300,
  spaces: 'wide',
  minilm: true,
  keep: false,
  out: 'probe-validation',
  reportOnly: '',
});
const shared = join(import.meta.dirname, '..', '..', 'shared');
const datasetsDir = process.env.REEMBED_DATASETS ?? join(shared, 'datasets');
const modelsDir = process.env.REEMBED_MODELS ?? join(shared, 'models');

/** Probe constructions compared (the first is the default one `migrate start` builds). */
const VARIANTS: Readonly<Record<string, ProbeParamsInput>> = {
  default: {},
  'sentence-held-out': { mix: { title: 0, sentence: 1, span: 0 } },
  'title-held-out': { mix: { title: 1, sentence: 0, span: 0 } },
  'span-held-out': { mix: { title: 0, sentence: 0, span: 1 } },
  'default-kept-whole': { holdOut: false },
  'sentence-kept-whole': { mix: { title: 0, sentence: 1, span: 0 }, holdOut: false },
  'span-kept-whole': { mix: { title: 0, sentence: 0, span: 1 }, holdOut: false },
};

interface SpaceResult {
  readonly space: string;
  readonly judged: { readonly ndcg10: number; readonly mrr10: number };
  readonly probe: Record<
    string,
    { readonly ndcg10: number; readonly mrr10: number; readonly recall10: number }
  >;
}

interface PairRow {
  readonly old: string;
  readonly new: string;
  readonly judged: number;
  readonly probe: number;
  readonly agrees: boolean | null;
}

/** The BEIR corpus as reembed ingests it (`title. text`); Cranfield's one empty document is left out. */
function corpusOf(dir: string): { id: string; text: string }[] {
  return readFileSync(join(dir, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { _id: string | number; title?: string; text?: string })
    .map((d) => ({ id: String(d._id), text: withTitle(d.title ?? '', d.text ?? '') }))
    .filter((d) => d.text.trim() !== '');
}

/** The other judged collection: an LSA model fitted there is a plausible but wrong-domain space here. */
const OTHER: Readonly<Record<string, string>> = { scifact: 'cranfield', cranfield: 'scifact' };

async function spacesFor(dataset: string, dir: string, dataDir: string): Promise<Space[]> {
  const texts = corpusOf(dir).map((d) => d.text);
  const lsa = (name: string, dimension: number, corpus: readonly string[]) =>
    fitLsaSpace({ name, dataDir, texts: corpus, dimension, seed: 1 }).space;
  const other = OTHER[dataset];
  const wide = String(args.spaces) === 'wide';
  return [
    hashingSpace('hashing-16', { dimension: 16 }),
    hashingSpace('hashing-256', { dimension: 256 }),
    lsa('lsa-256', 256, texts),
    wordVectorSpace('word2vec-300', join(modelsDir, 'word2vec-googlenews-300d-8k', 'vectors.vec')),
    wordVectorSpace('glove-25', join(modelsDir, 'glove-twitter-25d-12k', 'vectors.vec')),
    ...(args.minilm === true || args.minilm === 'true' ? await extraSpaces(dataset, dir) : []),
    // More spaces of every quality, so closer pairs are tested too (`--spaces=wide`).
    ...(wide
      ? [
          hashingSpace('hashing-256-bigrams', { dimension: 256, ngrams: 2, sublinear: true }),
          lsa('lsa-64', 64, texts),
          ...(other
            ? [
                lsa(
                  `lsa-256-${other}`,
                  256,
                  corpusOf(join(datasetsDir, other)).map((d) => d.text),
                ),
              ]
            : []),
          wordVectorSpace(
            'word2vec-300-mean',
            join(modelsDir, 'word2vec-googlenews-300d-8k', 'vectors.vec'),
            {
              weighting: 'mean',
            },
          ),
        ]
      : []),
  ];
}

async function setup(app: Reembed, dataset: string, dir: string, spaces: readonly Space[]): Promise<void> {
  for (const s of spaces) await app.addSpace(s);
  await app.createCollection(dataset, (spaces[0] as Space).name);
  // Every other namespace is writable before ingest, so one ingest writes all of them.
  for (const s of spaces.slice(1)) await app.createNamespace(dataset, s, 'active');
  const docs = corpusOf(dir);
  for (let i = 0; i < docs.length; i += 256) await app.ingest(dataset, docs.slice(i, i + 256));
}

function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (x: readonly number[]): number[] => {
    const idx = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(x.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (
        j + 1 < idx.length &&
        (idx[j + 1] as readonly [number, number])[0] === (idx[i] as readonly [number, number])[0]
      )
        j++;
      for (let k = i; k <= j; k++) r[(idx[k] as readonly [number, number])[1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const [ma, mb] = [mean(ra), mean(rb)];
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += ((ra[i] as number) - ma) * ((rb[i] as number) - mb);
    da += ((ra[i] as number) - ma) ** 2;
    db += ((rb[i] as number) - mb) ** 2;
  }
  return da === 0 || db === 0 ? Number.NaN : num / Math.sqrt(da * db);
}

function pairs(results: readonly SpaceResult[], variant: string, metric: 'ndcg10' | 'mrr10'): PairRow[] {
  const out: PairRow[] = [];
  for (let a = 0; a < results.length; a++) {
    for (let b = a + 1; b < results.length; b++) {
      const [o, n] = [results[a] as SpaceResult, results[b] as SpaceResult];
      const judged = n.judged.ndcg10 - o.judged.ndcg10;
      const probe = (n.probe[variant]?.[metric] ?? 0) - (o.probe[variant]?.[metric] ?? 0);
      out.push({
        old: o.space,
        new: n.space,
        judged,
        probe,
        agrees: Math.abs(judged) > 0.02 ? Math.sign(judged) === Math.sign(probe) : null,
      });
    }
  }
  return out;
}

function summary(rows: readonly PairRow[]): {
  counted: number;
  agree: number;
  share: number;
  spearman: number;
} {
  const counted = rows.filter((r) => r.agrees !== null);
  const agree = counted.filter((r) => r.agrees).length;
  return {
    counted: counted.length,
    agree,
    share: counted.length ? agree / counted.length : Number.NaN,
    spearman: spearman(
      rows.map((r) => r.judged),
      rows.map((r) => r.probe),
    ),
  };
}

async function runDataset(dataset: string, variants: readonly string[]) {
  const dir = join(datasetsDir, dataset);
  const tmp = mkdtempSync(join(tmpdir(), `probe-validation-${dataset}-`));
  const app = await openReembed({ db: join(tmp, 'r.db'), actor: 'bench' });
  try {
    const spaces = await spacesFor(dataset, dir, tmp);
    const t0 = performance.now();
    await setup(app, dataset, dir, spaces);
    console.error(
      `${dataset}: ${spaces.length} namespaces ingested in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const golden = await loadGoldenSet(dir);
    const held = new Set(corpusOf(dir).map((d) => d.id));
    const unknown = Object.values(golden.qrels)
      .flatMap((j) => Object.keys(j))
      .filter((id) => !held.has(id));
    if (unknown.length)
      console.error(
        `${dataset}: ${unknown.length} judgments name documents left out (empty); scored as misses`,
      );
    const probes = new Map<string, Awaited<ReturnType<typeof buildProbeSet>>>();
    for (const v of variants) {
      probes.set(
        v,
        await buildProbeSet(app.backend, dataset, {
          params: { ...VARIANTS[v], seed: Number(args.seed), size: Number(args.size) },
        }),
      );
    }
    const results: SpaceResult[] = [];
    for (const space of spaces) {
      const ns = `${dataset}@${space.name}`;
      const judged = await evaluateNamespace(app, ns, golden, {
        exact: true,
        ks: [10],
        allowUnknownDocs: true,
      });
      const probe: SpaceResult['probe'] = {};
      for (const [v, set] of probes) {
        const t = performance.now();
        const r = await evaluateProbe(app, ns, set, { ks: [10] });
        probe[v] = {
          ndcg10: r.metrics['ndcg@10'] ?? 0,
          mrr10: r.metrics['mrr@10'] ?? 0,
          recall10: r.metrics['recall@10'] ?? 0,
        };
        console.error(
          `  ${ns} ${v}: probe mrr@10 ${probe[v]?.mrr10.toFixed(3)} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
        );
      }
      results.push({
        space: space.name,
        judged: { ndcg10: judged.metrics['ndcg@10'] ?? 0, mrr10: judged.metrics['mrr@10'] ?? 0 },
        probe,
      });
      console.error(`${ns}: judged nDCG@10 ${(judged.metrics['ndcg@10'] ?? 0).toFixed(3)}`);
    }
    const byVariant: Record<string, unknown> = {};
    for (const v of variants) {
      const nd = pairs(results, v, 'ndcg10');
      const mrr = pairs(results, v, 'mrr10');
      byVariant[v] = { ndcg10: summary(nd), mrr10: summary(mrr), pairs: nd };
    }
    return {
      dataset,
      queries: golden.queries.length,
      probeQueries: Object.fromEntries([...probes].map(([v, p]) => [v, p.queries.length])),
      spaces: results,
      variants: byVariant,
    };
  } finally {
    await app.close();
    if (!args.keep) rmSync(tmp, { recursive: true, force: true });
  }
}

/** The spaces the issue names: hashing 16 and 256, LSA 256, word2vec 300, GloVe 25, all-MiniLM-L6-v2. */
const SIX = ['hashing-16', 'hashing-256', 'lsa-256', 'word2vec-300', 'glove-25', 'minilm-l6-v2'];

type Run = { dataset: string; queries: number; probeQueries: Record<string, number>; spaces: SpaceResult[] };

function markdown(runs: readonly Run[], variants: readonly string[]): string {
  const lines: string[] = [];
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '-');
  for (const run of runs) {
    lines.push(
      `### ${run.dataset} (${run.queries} judged queries; probe: ${run.probeQueries[variants[0] as string]} queries)`,
      '',
    );
    lines.push(`| space | judged nDCG@10 | ${variants.map((v) => `probe MRR@10 (${v})`).join(' | ')} |`);
    lines.push(`|---|---:|${variants.map(() => '---:').join('|')}|`);
    for (const s of run.spaces) {
      lines.push(
        `| ${s.space} | ${f(s.judged.ndcg10)} | ${variants.map((v) => f(s.probe[v]?.mrr10 ?? Number.NaN)).join(' | ')} |`,
      );
    }
    lines.push('');
    const six = run.spaces.filter((s) => SIX.includes(s.space));
    const sets: [string, SpaceResult[]][] = [[`all ${run.spaces.length} spaces`, run.spaces]];
    if (six.length < run.spaces.length) sets.push([`the ${six.length} spaces of the issue`, six]);
    lines.push(
      '| spaces | probe construction | verdict agreement, probe nDCG@10 (pairs with judged Δ > 0.02) | Spearman ρ of Δ | agreement, probe MRR@10 | Spearman ρ |',
    );
    lines.push('|---|---|---:|---:|---:|---:|');
    for (const [label, spaces] of sets) {
      for (const v of variants) {
        const nd = summary(pairs(spaces, v, 'ndcg10'));
        const mrr = summary(pairs(spaces, v, 'mrr10'));
        lines.push(
          `| ${label} | ${v} | ${nd.agree}/${nd.counted} (${(nd.share * 100).toFixed(0)}%) | ${f(nd.spearman)} | ${mrr.agree}/${mrr.counted} (${(mrr.share * 100).toFixed(0)}%) | ${f(mrr.spearman)} |`,
        );
      }
    }
    lines.push('');
    const rows = pairs(run.spaces, variants[0] as string, 'ndcg10');
    const misses = rows.filter((r) => r.agrees === false);
    lines.push(
      `Pairs (${variants[0]}): ${rows.length}, counted ${rows.filter((r) => r.agrees !== null).length}; disagreements: ${misses.length ? misses.map((m) => `${m.old} → ${m.new} (judged ${f(m.judged)}, probe ${f(m.probe)})`).join('; ') : 'none'}.`,
      '',
    );
  }
  return lines.join('\n');
}

if (typeof args.reportOnly === 'string' && args.reportOnly !== '') {
  // Re-renders the table of a saved run (e.g. after changing the report): no measurement.
  const saved = JSON.parse(readFileSync(String(args.reportOnly), 'utf8')) as {
    runs: Run[];
    variants: Record<string, unknown>;
  };
  console.log(markdown(saved.runs, Object.keys(saved.variants)));
  process.exit(0);
}

const variants = String(args.variants) === 'all' ? Object.keys(VARIANTS) : String(args.variants).split(',');
for (const v of variants)
  if (!VARIANTS[v]) throw new Error(`unknown variant ${v}; known: ${Object.keys(VARIANTS).join(', ')}`);
const started = performance.now();
const runs = [];
for (const dataset of String(args.datasets).split(',')) runs.push(await runDataset(dataset, variants));
const result = {
  benchmark: 'probe-validation',
  machine: machineInfo(),
  seed: Number(args.seed),
  size: Number(args.size),
  variants: Object.fromEntries(variants.map((v) => [v, VARIANTS[v]])),
  runs,
  seconds: (performance.now() - started) / 1000,
};
const out = join(import.meta.dirname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `${String(args.out)}.json`), `${JSON.stringify(result, null, 2)}\n`);
const md = markdown(runs, variants);
writeFileSync(join(out, `${String(args.out)}.md`), `${md}\n`);
console.log(md);
