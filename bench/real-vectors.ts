/**
 * Vectors with real nearest-neighbour structure for the search benchmarks, at any count: LSA (TF-IDF +
 * truncated SVD, `src/embedders/lsa.ts`) fitted on two real IR collections (SciFact abstracts and
 * Cranfield, ../shared/datasets), applied to passages recombined from their real sentences.
 *
 * Passage i: a seed document, then 2–5 sentences each drawn from the seed (probability 0.5) or from one of
 * its 10 nearest documents in LSA space — what a chunked corpus of related papers looks like: topical
 * neighbourhoods, near-duplicates inside a neighbourhood, a continuum between them. Every passage is
 * embedded with the fitted model (exact LSA projection, L2-normalised), so each vector is a real
 * embedding of real text. Queries are the collections' own 525 real queries, embedded the same way.
 *
 * Why not uniform random or hashed random text: in 384 dimensions, uniform vectors have no neighbourhoods
 * (every point is about equally far from every other), so HNSW recall on them says nothing about real
 * embeddings. `structureStats` measures it; on these vectors the local intrinsic dimensionality and the
 * relative contrast match the real all-MiniLM-L6-v2 embeddings shipped with the datasets (see BENCHMARKS.md).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exactSearch, MetricKind } from 'usearch';
import type { SourceWrite } from '../src/core/records.js';
import { Random } from '../src/corpus/prng.js';
import { fitLsa, LsaEncoder, type LsaModel } from '../src/embedders/lsa.js';
import { loadLsaModel, saveLsaModel } from '../src/embedders/lsa-file.js';
import { sharedDir } from '../src/testing/shared.js';

/** The shared datasets: REEMBED_DATASETS, else `datasets/` of the shared folder (../shared or REEMBED_SHARED_DIR). */
export const DATASETS_DIR = process.env.REEMBED_DATASETS ?? join(sharedDir(), 'datasets');
const COLLECTIONS = ['scifact', 'cranfield'] as const;

export interface RealVectorSource {
  readonly dimension: number;
  readonly description: string;
  /** The real queries, embedded: row-major, `queryCount` rows. */
  readonly queries: Float32Array;
  readonly queryCount: number;
  /**
   * Passages `start .. start + count - 1` (deterministic for a seed), embedded into `out` (row-major);
   * their texts go to `texts` when given.
   */
  fill(out: Float32Array, start: number, count: number, texts?: string[]): void;
}

/** Whether the datasets are present (benchmarks skip with one line when they are not). */
export function haveDatasets(): boolean {
  return COLLECTIONS.every((c) => existsSync(join(DATASETS_DIR, c, 'corpus.jsonl')));
}

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function documents(): string[] {
  return COLLECTIONS.flatMap((c) =>
    readJsonl(join(DATASETS_DIR, c, 'corpus.jsonl')).map((d) =>
      typeof d.title === 'string' && d.title ? `${d.title}. ${String(d.text)}` : String(d.text),
    ),
  );
}

function queryTexts(): string[] {
  return COLLECTIONS.flatMap((c) =>
    readJsonl(join(DATASETS_DIR, c, 'queries.jsonl')).map((q) => String(q.text)),
  );
}

/** The fitted model, cached under the OS temp directory by corpus hash and dimension (fitting takes ~25 s). */
function lsaModel(texts: readonly string[], dimension: number): LsaModel {
  const hash = createHash('sha256');
  for (const t of texts) hash.update(t).update('\n');
  const key = `${hash.digest('hex').slice(0, 16)}-${dimension}`;
  const dir = join(tmpdir(), 'reembed-bench-cache');
  const path = join(dir, `lsa-${key}.bin`);
  if (existsSync(path)) return loadLsaModel(path).model;
  const model = fitLsa(texts, { dimension, seed: 1 });
  mkdirSync(dir, { recursive: true });
  saveLsaModel(model, path);
  return model;
}

/** The generator (fits or loads the LSA model and indexes the sentences: ~5 s with a cached model). */
export function realVectorSource(options: { dimension?: number; seed?: number } = {}): RealVectorSource {
  const dimension = options.dimension ?? 384;
  const seed = options.seed ?? 7;
  const texts = documents();
  const model = lsaModel(texts, dimension);
  const encoder = new LsaEncoder(model, true);
  const sentences = texts.map((t) => t.split(/(?<=[.!?])\s+/).filter((s) => s.length > 20));
  const docVectors = new Float32Array(texts.length * dimension);
  texts.forEach((t, i) => {
    docVectors.set(encoder.encode(t), i * dimension);
  });
  const near = exactSearch(docVectors, docVectors, dimension, 11, MetricKind.IP) as unknown as {
    keys: BigUint64Array;
  };
  const neighbours = (doc: number, j: number): number => Number(near.keys[doc * 11 + 1 + j]);
  const qs = queryTexts();
  const queries = new Float32Array(qs.length * dimension);
  qs.forEach((q, i) => {
    queries.set(encoder.encode(q), i * dimension);
  });
  let random = new Random(seed);
  let next = 0;
  return {
    dimension,
    description: `LSA-${dimension} (fitted on SciFact + Cranfield, ${texts.length} documents) of passages of 2-5 real sentences from a document and its 10 nearest neighbours; queries: the ${qs.length} real queries`,
    queries,
    queryCount: qs.length,
    fill(out, start, count, texts) {
      if (start !== next) {
        // Passages come from one seeded stream: restart it and skip ahead to `start`.
        random = new Random(seed);
        next = 0;
        const scratch = new Float32Array(dimension);
        while (next < start) passage(scratch, 0);
      }
      for (let i = 0; i < count; i++) {
        const text = passage(out, i * dimension);
        if (texts) texts[i] = text;
      }
    },
  };

  function passage(out: Float32Array, offset: number): string {
    for (;;) {
      const doc = random.int(texts.length);
      const parts: string[] = [];
      const m = random.between(2, 5);
      for (let j = 0; j < m; j++) {
        const from = random.next() < 0.5 ? doc : neighbours(doc, random.int(10));
        const pool = sentences[from] as string[];
        if (pool.length > 0) parts.push(random.pick(pool));
      }
      const text = parts.join(' ');
      const v = encoder.encode(text);
      // A passage without a single in-vocabulary term embeds to zero: draw another.
      if (v.some((x) => x !== 0)) {
        out.set(v, offset);
        next++;
        return text;
      }
    }
  }
}

/** The real all-MiniLM-L6-v2 vectors shipped with the datasets (documents and queries), if present. */
export function miniLmReference(): { docs: Float32Array; queries: Float32Array } | null {
  const load = (c: string, file: string): Float32Array | null => {
    const path = join(DATASETS_DIR, c, 'embeddings', 'minilm-l6-v2', file);
    if (!existsSync(path)) return null;
    const bytes = readFileSync(path);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  const parts = COLLECTIONS.flatMap((c) => [load(c, 'corpus.f32'), load(c, 'queries.f32')]);
  if (parts.some((p) => p === null)) return null;
  const [sd, sq, cd, cq] = parts as Float32Array[];
  const join2 = (a: Float32Array, b: Float32Array) => {
    const out = new Float32Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  return {
    docs: join2(sd as Float32Array, cd as Float32Array),
    queries: join2(sq as Float32Array, cq as Float32Array),
  };
}

export interface StructureStats {
  readonly vectors: number;
  readonly queries: number;
  /** Local intrinsic dimensionality (Levina–Bickel MLE over the 20 nearest neighbours), mean over queries. */
  readonly lid: number;
  /** Relative contrast: mean distance to random points / distance to the nearest neighbour, mean over queries. */
  readonly relativeContrast: number;
  /** Median Euclidean distance from a query to its nearest neighbour (unit vectors: 0 identical, √2 orthogonal). */
  readonly nearestDistance: number;
}

/**
 * Nearest-neighbour structure of a set of unit vectors as seen from a set of queries: real embeddings have
 * a low local intrinsic dimensionality (~10–30) and a relative contrast well above 1; uniform random
 * 384-d vectors have LID ~140 and a contrast of ~1.1 (all points equally far). Exact matches of a query
 * (distance < 1e-3, the query itself) are skipped.
 */
export function structureStats(
  data: Float32Array,
  queries: Float32Array,
  dimension: number,
  seed = 1,
): StructureStats {
  const n = data.length / dimension;
  const nq = queries.length / dimension;
  const k = 20;
  const found = exactSearch(data, queries, dimension, k + 2, MetricKind.IP) as unknown as {
    distances: Float32Array;
  };
  const random = new Random(seed);
  let lid = 0;
  let contrast = 0;
  const nearest: number[] = [];
  for (let q = 0; q < nq; q++) {
    const d: number[] = [];
    for (let j = 0; j < k + 2; j++) {
      const dist = Math.sqrt(Math.max(0, 2 * (found.distances[q * (k + 2) + j] as number)));
      if (dist >= 1e-3) d.push(dist);
    }
    const use = d.slice(0, k);
    const rk = use[use.length - 1] as number;
    let s = 0;
    for (const x of use) s += Math.log(x / rk);
    lid += s < 0 ? -use.length / s : 0;
    let mean = 0;
    for (let t = 0; t < 200; t++) {
      const o = random.int(n) * dimension;
      let dot = 0;
      for (let i = 0; i < dimension; i++)
        dot += (queries[q * dimension + i] as number) * (data[o + i] as number);
      mean += Math.sqrt(Math.max(0, 2 - 2 * dot));
    }
    contrast += mean / 200 / (use[0] as number);
    nearest.push(use[0] as number);
  }
  nearest.sort((a, b) => a - b);
  return {
    vectors: n,
    queries: nq,
    lid: lid / nq,
    relativeContrast: contrast / nq,
    nearestDistance: nearest[nearest.length >> 1] as number,
  };
}

/** Unit vectors drawn uniformly from the sphere (the structure-free reference). */
export function uniformVectors(n: number, dimension: number, seed: number): Float32Array {
  const random = new Random(seed);
  const out = new Float32Array(n * dimension);
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(random.next() + 1e-12));
    const a = 2 * Math.PI * random.next();
    out[i] = r * Math.cos(a);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dimension; j++) s += (out[i * dimension + j] as number) ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dimension; j++) out[i * dimension + j] = (out[i * dimension + j] as number) * inv;
  }
  return out;
}

/**
 * The benchmark records of passages `start … start + count` (one chunk each; tenant `t<id % 100>`, metadata
 * `{ h: id % 2, b: id % 10 }`, which the filtered rounds select on) from rows of `vectors` and `texts`.
 */
export function passageWrites(
  vectors: Float32Array,
  texts: readonly string[],
  start: number,
  count: number,
  d: number,
): SourceWrite[] {
  const writes: SourceWrite[] = [];
  for (let i = 0; i < count; i++) {
    const id = start + i;
    writes.push({
      sourceId: `p${id}`,
      sourceVersion: 1,
      contentHash: `h${id}`,
      tenant: `t${id % 100}`,
      metadata: { h: id % 2, b: id % 10 },
      chunks: [
        {
          chunkId: `p${id}#0`,
          index: 0,
          text: texts[i] as string,
          vector: vectors.slice(i * d, (i + 1) * d),
        },
      ],
    });
  }
  return writes;
}
