/**
 * TF-IDF weighting as LSA uses it: sublinear tf (`1 + ln tf`), smooth idf (`ln((1 + n) / (1 + df)) + 1`,
 * as scikit-learn's `smooth_idf`), rows L2-normalised. The vocabulary keeps terms with document frequency
 * at least `minDf`, then the `maxVocab` most frequent (ties broken by the term, so fitting is
 * deterministic), stored in code-unit order.
 */
export interface VocabularyOptions {
  readonly minDf: number;
  readonly maxVocab: number;
}

export interface Vocabulary {
  readonly terms: string[];
  readonly idf: Float32Array;
}

export function fitVocabulary(
  documents: readonly (readonly string[])[],
  options: VocabularyOptions,
): Vocabulary {
  const df = new Map<string, number>();
  for (const tokens of documents) {
    for (const term of new Set(tokens)) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const kept = [...df].filter(([, count]) => count >= options.minDf);
  kept.sort((x, y) => y[1] - x[1] || compareCodeUnits(x[0], y[0]));
  const chosen = kept.slice(0, options.maxVocab).sort((x, y) => compareCodeUnits(x[0], y[0]));
  const n = documents.length;
  const idf = new Float32Array(chosen.length);
  chosen.forEach(([, count], i) => {
    idf[i] = Math.log((1 + n) / (1 + count)) + 1;
  });
  return { terms: chosen.map(([term]) => term), idf };
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A sparse TF-IDF row: the first `length` entries of `ids`/`weights` (views into reused buffers). */
export interface SparseRow {
  readonly length: number;
  readonly ids: Int32Array;
  readonly weights: Float64Array;
}

/** Weighs token lists against a fixed vocabulary, reusing its buffers (not re-entrant). */
export class TfidfWeighter {
  readonly #index: Map<string, number>;
  readonly #idf: Float32Array;
  readonly #counts: Int32Array;
  readonly #ids: Int32Array;
  readonly #weights: Float64Array;

  constructor(terms: readonly string[], idf: Float32Array) {
    this.#index = new Map(terms.map((term, i) => [term, i]));
    this.#idf = idf;
    this.#counts = new Int32Array(terms.length);
    this.#ids = new Int32Array(terms.length);
    this.#weights = new Float64Array(terms.length);
  }

  /** Term id of a token, or -1 when it is out of vocabulary. */
  idOf(token: string): number {
    return this.#index.get(token) ?? -1;
  }

  weigh(tokens: readonly string[]): SparseRow {
    let length = 0;
    for (const token of tokens) {
      const id = this.#index.get(token);
      if (id === undefined) continue;
      if (this.#counts[id] === 0) this.#ids[length++] = id;
      this.#counts[id] = (this.#counts[id] as number) + 1;
    }
    // Sorted ids make the accumulation order (and so every float) independent of token order.
    const ids = this.#ids.subarray(0, length).sort();
    let norm = 0;
    for (let p = 0; p < length; p++) {
      const id = ids[p] as number;
      const w = (1 + Math.log(this.#counts[id] as number)) * (this.#idf[id] as number);
      this.#weights[p] = w;
      norm += w * w;
      this.#counts[id] = 0;
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let p = 0; p < length; p++) this.#weights[p] = (this.#weights[p] as number) * inv;
    }
    return { length, ids: this.#ids, weights: this.#weights };
  }
}
