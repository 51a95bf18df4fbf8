/**
 * Data for the quality-during-migration benchmark (bench/quality.ts): a BEIR collection, its v1 (hashing)
 * and v2 (LSA fitted on the collection) vectors produced through the real embedders and text pipeline, and
 * the exact query × document score matrices every method is computed from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Qrels } from '../src/core/metrics.js';
import { documentChunks, queryText } from '../src/core/pipeline.js';
import type { Space } from '../src/core/space.js';
import { createLocalEmbedderFactory, hashingSpace, lsaSpace } from '../src/embedders/factory.js';
import { fitLsa } from '../src/embedders/lsa.js';
import { saveLsaModel } from '../src/embedders/lsa-file.js';

export interface BeirCollection {
  readonly name: string;
  readonly docIds: readonly string[];
  /** Document text as BEIR builds it: title + ". " + text. */
  readonly docTexts: readonly string[];
  /** Judged queries only (a query without any judgment has no metric). */
  readonly queries: readonly { readonly id: string; readonly text: string }[];
  readonly qrels: Qrels;
}

export function loadBeirCollection(dir: string, name: string): BeirCollection {
  const lines = (file: string): string[] =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
  const docIds: string[] = [];
  const docTexts: string[] = [];
  for (const line of lines('corpus.jsonl')) {
    const d = JSON.parse(line) as { _id: string | number; title?: string; text?: string };
    docIds.push(String(d._id));
    const title = (d.title ?? '').trim();
    docTexts.push(title === '' ? (d.text ?? '') : `${title}. ${d.text ?? ''}`);
  }
  const qrels: Record<string, Record<string, number>> = {};
  for (const line of lines('qrels.tsv')) {
    const [q, d, score] = line.split('\t') as [string, string, string];
    const grade = Number(score);
    if (!Number.isFinite(grade)) continue; // header
    qrels[q] ??= {};
    (qrels[q] as Record<string, number>)[d] = grade;
  }
  const queries = lines('queries.jsonl')
    .map((l) => JSON.parse(l) as { _id: string | number; text: string })
    .map((q) => ({ id: String(q._id), text: q.text }))
    .filter((q) => Object.hasOwn(qrels, q.id));
  return { name, docIds, docTexts, queries, qrels };
}

/** One embedding space's vectors of a collection, row-major (`rows × dimension`). */
export interface SpaceVectors {
  readonly space: Space;
  readonly docs: Float32Array;
  readonly queries: Float32Array;
  readonly dimension: number;
}

export interface QualityFixture {
  readonly collection: BeirCollection;
  readonly v1: SpaceVectors;
  readonly v2: SpaceVectors;
  /** Seconds spent fitting the v2 LSA model. */
  readonly lsaFitSeconds: number;
}

/**
 * v1 = hashing-256, v2 = LSA-256 fitted (seed 1) on the collection's pipeline texts and saved to
 * `modelDir` (an LSA space is defined by its model file). Vectors come from the local embedder factory,
 * so they are exactly what reembed would store.
 */
export async function buildFixture(collection: BeirCollection, modelDir: string): Promise<QualityFixture> {
  const v1Space = hashingSpace('hashing-256', { dimension: 256 });
  const pipelineDocs = collection.docTexts.map(
    (text, i) => documentChunks(v1Space.spec, collection.docIds[i] as string, text)[0]?.text ?? '',
  );
  const started = performance.now();
  const model = fitLsa(pipelineDocs, { dimension: 256, seed: 1 });
  const lsaFitSeconds = (performance.now() - started) / 1000;
  const modelPath = join(modelDir, `${collection.name}-lsa-256.bin`);
  saveLsaModel(model, modelPath);
  const v2Space = lsaSpace('lsa-256', modelPath, model);
  return {
    collection,
    v1: await embedAll(collection, v1Space),
    v2: await embedAll(collection, v2Space),
    lsaFitSeconds,
  };
}

export async function embedAll(collection: BeirCollection, space: Space): Promise<SpaceVectors> {
  const embedder = await createLocalEmbedderFactory().create(space);
  const dimension = space.spec.dimension;
  const encode = async (texts: string[], inputType: 'query' | 'document'): Promise<Float32Array> => {
    const out = new Float32Array(texts.length * dimension);
    for (let i = 0; i < texts.length; i += embedder.maxBatchSize) {
      const batch = await embedder.embed(texts.slice(i, i + embedder.maxBatchSize), { inputType });
      batch.forEach((v, j) => {
        out.set(v, (i + j) * dimension);
      });
    }
    return out;
  };
  const docTexts = collection.docTexts.map(
    (text, i) => documentChunks(space.spec, collection.docIds[i] as string, text)[0]?.text ?? '',
  );
  return {
    space,
    dimension,
    docs: await encode(docTexts, 'document'),
    queries: await encode(
      collection.queries.map((q) => queryText(space.spec, q.text)),
      'query',
    ),
  };
}

/**
 * Dot products of every query of `q` with every document of `d` (both L2-normalised, so cosine), as a
 * `queries × docs` matrix. Exact brute force: this is the ground truth every method ranks from.
 */
export function scoreMatrix(q: SpaceVectors, d: SpaceVectors): Float32Array {
  const dim = d.dimension;
  const nq = q.queries.length / dim;
  const nd = d.docs.length / dim;
  const out = new Float32Array(nq * nd);
  for (let i = 0; i < nq; i++) {
    const qo = i * dim;
    for (let j = 0; j < nd; j++) {
      const doff = j * dim;
      let s = 0;
      for (let c = 0; c < dim; c++) s += (q.queries[qo + c] as number) * (d.docs[doff + c] as number);
      out[i * nd + j] = s;
    }
  }
  return out;
}
