import type { Metric } from '../../core/space.js';
import { normalizeInPlace } from '../../core/vector.js';

/** A query as every exact path scores it: a unit-length copy for cosine, the vector itself otherwise. */
export function prepareQuery(query: Float32Array, metric: Metric): Float32Array {
  const q = Float32Array.from(query);
  return metric === 'cosine' ? normalizeInPlace(q) : q;
}

/**
 * Scores stored vectors (the little-endian float32 BLOBs of `records.vector`) against a prepared query in
 * double precision, as the in-memory exact search does: cosine (the stored vector's own norm divides, a
 * zero vector scores 0), dot, or −squared l2. Higher is better for every metric.
 */
export class RowScorer {
  readonly #metric: Metric;
  readonly #dimension: number;
  readonly #vector: Float32Array;
  readonly #bytes: Uint8Array;

  constructor(metric: Metric, dimension: number) {
    this.#metric = metric;
    this.#dimension = dimension;
    this.#vector = new Float32Array(dimension);
    this.#bytes = new Uint8Array(this.#vector.buffer);
  }

  /** `blob` must hold exactly dimension x 4 bytes (the caller filters rows by length). */
  score(query: Float32Array, blob: Uint8Array): number {
    // SQLite BLOBs come at any byte offset: copy into an aligned buffer before reading floats.
    this.#bytes.set(blob);
    return scoreStored(this.#metric, query, this.#vector, 0, this.#dimension);
  }
}

/** `RowScorer.score` of the stored vector at `x[offset .. offset + dimension)`, already aligned. */
export function scoreStored(
  metric: Metric,
  query: Float32Array,
  x: Float32Array,
  offset: number,
  dimension: number,
): number {
  if (metric === 'l2') {
    let sum = 0;
    for (let i = 0; i < dimension; i++) {
      const diff = (query[i] as number) - (x[offset + i] as number);
      sum += diff * diff;
    }
    return -sum;
  }
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < dimension; i++) {
    const v = x[offset + i] as number;
    dot += (query[i] as number) * v;
    norm += v * v;
  }
  if (metric === 'dot') return dot;
  return norm > 0 ? dot / Math.sqrt(norm) : 0;
}
