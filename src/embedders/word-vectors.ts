import { basename, dirname } from 'node:path';
import { defineSpace, type Space, type SpaceSpecInput } from '../core/space.js';
import { tokenize } from '../core/tokenize.js';
import type { Embedder } from '../ports/embedder.js';
import { assertKnownParams, assertModelDimension, localEmbedder, specError } from './common.js';
import { loadWordVectors, type WordVectorTable } from './word-vector-table.js';

/**
 * Averaged pretrained word vectors: the text's word tokens (`core/tokenize.ts`, lowercased) are looked up
 * in a word2vec/GloVe table and their vectors averaged. Out-of-vocabulary tokens are skipped; a text with
 * no known word gets the zero vector, which scores 0 against everything (it is never "similar").
 *
 * Params (in the fingerprint): `weighting` — `'sif'` (default) weighs a word by `a / (a + p(w))`
 * (Arora et al. 2017, "smooth inverse frequency", without the common-component removal), with `p(w)`
 * estimated from the word's row in the file by Zipf's law, `p = 1 / (rank · H_N)` (published vector
 * files are in frequency order); `'mean'` is the plain average. `sifA` is `a` (default 1e-3).
 */
export const WORD_VECTOR_PARAMS = ['weighting', 'sifA'] as const;
export const WORD_VECTOR_WEIGHTINGS = ['sif', 'mean'] as const;
export type WordVectorWeighting = (typeof WORD_VECTOR_WEIGHTINGS)[number];

export interface WordVectorParams {
  readonly weighting: WordVectorWeighting;
  readonly sifA: number;
}

export function wordVectorParamsOf(space: Space): WordVectorParams {
  assertKnownParams(space, WORD_VECTOR_PARAMS);
  const { weighting = 'sif', sifA = 1e-3 } = space.spec.params;
  if (!WORD_VECTOR_WEIGHTINGS.includes(weighting as WordVectorWeighting)) {
    throw specError(
      space,
      'params.weighting',
      `must be one of ${WORD_VECTOR_WEIGHTINGS.join(', ')}.`,
      weighting,
    );
  }
  if (typeof sifA !== 'number' || !(sifA > 0))
    throw specError(space, 'params.sifA', 'must be a positive number.', sifA);
  return { weighting: weighting as WordVectorWeighting, sifA };
}

/** Per-row weights: SIF from file rank, or all ones. */
export function rowWeights(table: WordVectorTable, params: WordVectorParams): Float64Array {
  const rows = table.words.length;
  if (params.weighting === 'mean') return new Float64Array(rows).fill(1);
  const harmonic = Math.log(rows) + 0.5772156649 + 1 / (2 * rows);
  return Float64Array.from({ length: rows }, (_, row) => {
    const p = 1 / ((row + 1) * harmonic);
    return params.sifA / (params.sifA + p);
  });
}

/** Averages word vectors; reuses one accumulator (not re-entrant, `encode` never yields). */
export class WordVectorEncoder {
  readonly #table: WordVectorTable;
  readonly #weights: Float64Array;
  readonly #normalize: boolean;
  readonly #acc: Float64Array;

  constructor(table: WordVectorTable, params: WordVectorParams, normalize: boolean) {
    this.#table = table;
    this.#weights = rowWeights(table, params);
    this.#normalize = normalize;
    this.#acc = new Float64Array(table.dimension);
  }

  encode(text: string): Float32Array {
    const dim = this.#table.dimension;
    const vectors = this.#table.vectors;
    const acc = this.#acc;
    acc.fill(0);
    let known = 0;
    for (const token of tokenize(text)) {
      const row = this.#table.index.get(token);
      if (row === undefined) continue;
      known++;
      const w = this.#weights[row] as number;
      const o = row * dim;
      for (let c = 0; c < dim; c++) acc[c] = (acc[c] as number) + w * (vectors[o + c] as number);
    }
    const out = new Float32Array(dim);
    if (known === 0) return out;
    let norm = 0;
    for (let c = 0; c < dim; c++) norm += (acc[c] as number) * (acc[c] as number);
    const scale = this.#normalize ? (norm > 0 ? 1 / Math.sqrt(norm) : 0) : 1 / known;
    for (let c = 0; c < dim; c++) out[c] = (acc[c] as number) * scale;
    return out;
  }
}

/** The word-vector `Embedder` of a space, given its (already verified) table. */
export function createWordVectorEmbedder(space: Space, table: WordVectorTable): Embedder {
  assertModelDimension(space, table.dimension, `${table.path} holds ${table.dimension}-dimensional vectors.`);
  const encoder = new WordVectorEncoder(table, wordVectorParamsOf(space), space.spec.normalization === 'l2');
  return localEmbedder(space, (text) => encoder.encode(text));
}

export interface WordVectorSpaceOptions
  extends Partial<Omit<SpaceSpecInput, 'provider' | 'dimension' | 'revision' | 'params'>> {
  readonly weighting?: WordVectorWeighting;
  readonly sifA?: number;
}

/**
 * A word-vector space over a vectors file: revision = sha256 of the file (first 16 hex), dimension from
 * the file, model = the file's folder name (or file name), `runtime.options.modelPath` = `path` as given
 * (the factory resolves it against its `baseDir`).
 *
 * @example
 * const space = wordVectorSpace('w2v-v1', 'models/word2vec-googlenews-300d-8k/vectors.vec');
 */
export function wordVectorSpace(name: string, path: string, options: WordVectorSpaceOptions = {}): Space {
  const table = loadWordVectors(path);
  const { weighting = 'sif', sifA = 1e-3, model, ...rest } = options;
  const file = basename(path);
  return defineSpace(
    name,
    {
      ...rest,
      provider: 'word-vectors',
      model: model ?? (/^vectors\.(vec|txt)$/.test(file) ? basename(dirname(path)) || file : file),
      revision: table.revision,
      dimension: table.dimension,
      params: weighting === 'sif' ? { weighting, sifA } : { weighting },
    },
    { options: { modelPath: path } },
  );
}
