/**
 * The live all-MiniLM-L6-v2 provider (issue 17 "A real transformer"): speed and fidelity.
 * - speed: texts/s of `createMinilmEmbedder` on short texts (SciFact queries, ~23 tokens) and on full
 *   documents (SciFact abstracts, mostly truncated at 256 tokens), with 1 and 2 model threads, medians
 *   over --repeats runs (model load reported separately);
 * - fidelity: cosine between the live vectors and the stored vectors of ../shared (computed offline the
 *   same way) for a sample of SciFact and Cranfield documents and queries; and for SciFact documents as
 *   `reembed ingest` writes them (`Title. text`), whose stored vectors were computed on `Title.. text`.
 * Run: npx tsx bench/minilm.ts [--docs=32 --queries=64 --repeats=3 --threads=1,2]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { withTitle } from '../src/corpus/document.js';
import { createMinilmEmbedder, type MinilmEmbedder, minilmSpace } from '../src/embedders/minilm/embedder.js';
import { manifestDocumentText } from '../src/embedders/stored-vectors/source-texts.js';
import { loadStoredVectors, vectorById } from '../src/embedders/stored-vectors/store.js';
import { sharedDataset } from '../test/shared-datasets.js';
import { benchArgs, fmt, median, report } from './lib.js';

const args = benchArgs({ docs: 32, queries: 64, repeats: 3, threads: '1,2' });
const threadCounts = String(args.threads).split(',').map(Number);
const space = minilmSpace('minilm');

interface Row {
  readonly id: string;
  readonly title?: string;
  readonly text: string;
}
const readJsonl = (file: string): Row[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = JSON.parse(l) as { _id: string | number; title?: string; text: string };
      return { id: String(r._id), ...(r.title !== undefined ? { title: r.title } : {}), text: r.text };
    });

/** Evenly spaced sample of `n` rows (deterministic). */
const sample = <T>(rows: readonly T[], n: number): T[] =>
  Array.from(
    { length: Math.min(n, rows.length) },
    (_, i) => rows[Math.floor((i * rows.length) / Math.min(n, rows.length))] as T,
  );

const cosine = (a: Float32Array, b: Float32Array): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += (a[i] as number) * (b[i] as number);
  return d;
};
const summary = (values: readonly number[]) => ({
  n: values.length,
  min: Math.min(...values),
  median: median(values),
  mean: values.reduce((s, v) => s + v, 0) / values.length,
});

const scifact = sharedDataset('scifact', 'corpus.jsonl', 'the MiniLM benchmark');
const cranfield = sharedDataset('cranfield', 'corpus.jsonl', 'the Cranfield part of the MiniLM benchmark');
if (!scifact) process.exit(0);

// Speed
const sciDocs = readJsonl(join(scifact, 'corpus.jsonl'));
const sciQueries = readJsonl(join(scifact, 'queries.jsonl'));
const shortTexts = sample(sciQueries, Number(args.queries)).map((q) => q.text);
const longTexts = sample(sciDocs, Number(args.docs)).map((d) => manifestDocumentText(d.title, d.text));
const speed: Record<string, unknown>[] = [];
// Every thread count's model stays loaded and the runs alternate between them, so a change in the
// machine's load (it is shared) falls on all of them alike.
const embedders = new Map<number, MinilmEmbedder>();
for (const threads of threadCounts) {
  const started = performance.now();
  const embedder = await createMinilmEmbedder(space, { threads, taskSize: 8 });
  await embedder.embed(
    Array.from({ length: 2 * threads }, (_, i) => `warm up thread ${i}`),
    { inputType: 'query' },
  );
  embedders.set(threads, embedder);
  speed.push({ threads, kind: 'load + first call (s)', seconds: (performance.now() - started) / 1000 });
}
for (const [kind, texts] of [
  ['short (queries)', shortTexts],
  ['long (documents, 256 tokens)', longTexts],
] as const) {
  const rates = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
  // Texts per CPU-second (process-wide, model threads included): what a core gives whatever the load.
  const perCpu = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
  for (let r = 0; r < Number(args.repeats); r++) {
    for (const threads of threadCounts) {
      const embedder = embedders.get(threads) as MinilmEmbedder;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await embedder.embed(texts, { inputType: kind.startsWith('short') ? 'query' : 'document' });
      rates.get(threads)?.push(texts.length / ((performance.now() - t0) / 1000));
      const cpu = process.cpuUsage(cpu0);
      perCpu.get(threads)?.push(texts.length / ((cpu.user + cpu.system) / 1e6));
    }
  }
  const first = embedders.get(threadCounts[0] as number) as MinilmEmbedder;
  const meanTokens = Math.round(texts.reduce((s, t) => s + first.countTokens(t), 0) / texts.length);
  for (const threads of threadCounts) {
    const runs = rates.get(threads) as number[];
    const cpuRate = median(perCpu.get(threads) as number[]);
    speed.push({
      threads,
      kind,
      texts: texts.length,
      meanTokens,
      textsPerSecond: median(runs),
      textsPerCpuSecond: cpuRate,
      runs,
    });
    console.error(
      `threads ${threads}, ${kind}: ${fmt(median(runs), 2)} texts/s (runs ${runs.map((x) => fmt(x, 2)).join(', ')}), ` +
        `${fmt(cpuRate, 2)} texts per CPU-second`,
    );
  }
}
for (const embedder of embedders.values()) await embedder.close();

// Fidelity
const embedder = await createMinilmEmbedder(space);
const fidelity: Record<string, unknown> = {};
for (const [name, dir] of [
  ['scifact', scifact],
  ['cranfield', cranfield],
] as const) {
  if (!dir) continue;
  const stored = await loadStoredVectors(join(dir, 'embeddings', 'minilm-l6-v2'));
  const docs = sample(
    readJsonl(join(dir, 'corpus.jsonl')).filter((d) => d.text !== '' || d.title),
    Number(args.docs),
  );
  const queries = sample(readJsonl(join(dir, 'queries.jsonl')), Number(args.queries));
  const docVectors = await embedder.embed(
    docs.map((d) => manifestDocumentText(d.title, d.text)),
    { inputType: 'document' },
  );
  const queryVectors = await embedder.embed(
    queries.map((q) => q.text),
    { inputType: 'query' },
  );
  const docCos = docs.map((d, i) =>
    cosine(docVectors[i] as Float32Array, vectorById(stored, d.id, 'corpus') as Float32Array),
  );
  const queryCos = queries.map((q, i) =>
    cosine(queryVectors[i] as Float32Array, vectorById(stored, q.id, 'queries') as Float32Array),
  );
  const ingested = docs.filter(
    (d) => withTitle(d.title ?? '', d.text) !== manifestDocumentText(d.title, d.text),
  );
  const ingestedVectors = await embedder.embed(
    ingested.map((d) => withTitle(d.title ?? '', d.text)),
    { inputType: 'document' },
  );
  const ingestedCos = ingested.map((d, i) =>
    cosine(ingestedVectors[i] as Float32Array, vectorById(stored, d.id, 'corpus') as Float32Array),
  );
  fidelity[name] = {
    documents: summary(docCos),
    queries: summary(queryCos),
    ...(ingested.length > 0 ? { ingestedTextVsStored: summary(ingestedCos) } : {}),
  };
  console.error(
    `${name}: docs min cos ${docCos.length ? Math.min(...docCos).toFixed(7) : '-'}, queries min cos ${Math.min(...queryCos).toFixed(7)}`,
  );
}
await embedder.close();
report('minilm', {
  args,
  note: 'machine shared with other engineers',
  loadAverage: loadavg(),
  speed,
  fidelity,
});
