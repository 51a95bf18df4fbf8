import { SimdMapper } from '../../core/simd-map.js';
import type { Metric } from '../../core/space.js';
import { TopK } from './top-k.js';

/** Queries per kernel instance: bounds its weights (256 × d floats) and its output (BLOCK × 256 floats). */
const GROUP = 256;
/** Rows scored per kernel call. */
export const BLOCK_ROWS = 1_024;
/**
 * Bound on the float32 kernel's error relative to ‖q‖·‖x‖: any summation order of d float32 products
 * errs by at most γ_d = d·u/(1 − d·u), u = 2⁻²⁴; 16 more terms cover the lane reduction and the
 * conversions, and 1% covers the 1/(1 − d·u) factor.
 */
export const gamma = (d: number): number => (d + 16) * 2 ** -24 * 1.01;

/** The exact (double precision) score of `row` of the current block for query `query`. */
export type ExactScore = (query: number, row: number) => number;

/** One block of rows as the kernel reads them, and what the exact path needs to identify them. */
export interface RowBlock {
  /** `count` rows of `dimension` float32s, row-major. */
  readonly vectors: Float32Array;
  readonly count: number;
  /** Squared norm of each row, in double precision. */
  readonly sqNorms: Float64Array;
  /** What each row is pushed as (a matrix row number or a record key). */
  readonly ids: Float64Array;
  /** Per query: which rows pass its filter (null: every row), or the whole array null. */
  readonly passes?: readonly (Uint8Array | null)[];
}

/**
 * Top-k of many queries over rows fed in blocks, with exactly the answers of pushing every row's exact
 * double-precision score into a `TopK` per query in feed order (ties keep the earlier row). The float32
 * SIMD kernel (`SimdMapper`, queries as the weights) scores a block against every query at once; a row
 * whose float32 score, plus the kernel's error bound, cannot beat a full heap's worst score would have
 * been rejected by the exact push too, so only the others are rescored exactly. Without WebAssembly
 * SIMD, or a dimension not a multiple of 4, every row is scored exactly.
 *
 * `unitRows`: cosine rows that are unit length already (the in-memory matrix); otherwise cosine scores
 * divide by the row's norm, as `RowScorer` does.
 */
export class BatchTopK {
  readonly heaps: TopK[];
  readonly #metric: Metric;
  readonly #unitRows: boolean;
  readonly #queryNorms: Float64Array;
  readonly #querySq: Float64Array;
  readonly #gamma: number;
  readonly #groups: { start: number; size: number; mapper: SimdMapper; out: Float32Array }[] = [];

  constructor(
    metric: Metric,
    dimension: number,
    queries: readonly Float32Array[],
    ks: readonly number[],
    unitRows: boolean,
  ) {
    this.#metric = metric;
    this.#unitRows = unitRows;
    this.#gamma = gamma(dimension);
    this.heaps = ks.map((k) => new TopK(k));
    this.#querySq = Float64Array.from(queries, (q) => {
      let sum = 0;
      for (let i = 0; i < q.length; i++) sum += (q[i] as number) * (q[i] as number);
      return sum;
    });
    this.#queryNorms = this.#querySq.map(Math.sqrt);
    for (let start = 0; start < queries.length; start += GROUP) {
      const size = Math.min(GROUP, queries.length - start);
      const weights = new Float32Array(size * dimension);
      for (let j = 0; j < size; j++) weights.set(queries[start + j] as Float32Array, j * dimension);
      const mapper = SimdMapper.create(weights, new Float32Array(size), dimension, size);
      if (!mapper) {
        this.#groups.length = 0;
        break;
      }
      this.#groups.push({ start, size, mapper, out: new Float32Array(BLOCK_ROWS * size) });
    }
  }

  /** Feeds one block (at most `BLOCK_ROWS` rows). */
  push(block: RowBlock, exact: ExactScore): void {
    if (this.#groups.length === 0) {
      this.#pushExact(block, exact);
      return;
    }
    for (const group of this.#groups) {
      group.mapper.map(block.vectors, block.count, group.out);
      this.#pushGroup(block, exact, group.start, group.size, group.out);
    }
  }

  #pushGroup(block: RowBlock, exact: ExactScore, start: number, size: number, out: Float32Array): void {
    const heaps = this.heaps;
    const cosineRaw = this.#metric === 'cosine' && !this.#unitRows;
    const l2 = this.#metric === 'l2';
    for (let r = 0; r < block.count; r++) {
      const sq = block.sqNorms[r] as number;
      const norm = Math.sqrt(sq);
      const base = r * size;
      for (let g = 0; g < size; g++) {
        const j = start + g;
        const mask = block.passes?.[j];
        if (mask && mask[r] === 0) continue;
        const heap = heaps[j] as TopK;
        if (heap.full) {
          const s = out[base + g] as number;
          const qn = this.#queryNorms[j] as number;
          let approx: number;
          let bound: number;
          if (l2) {
            const qq = this.#querySq[j] as number;
            approx = -(qq - 2 * s + sq);
            bound = 2 * this.#gamma * qn * norm + 1e-12 * (qq + sq);
          } else if (cosineRaw) {
            approx = norm > 0 ? s / norm : 0;
            bound = this.#gamma * qn + 1e-12;
          } else {
            approx = s;
            bound = this.#gamma * qn * norm + 1e-12;
          }
          if (approx + bound < heap.worst) continue;
        }
        heap.push(exact(j, r), block.ids[r] as number);
      }
    }
  }

  #pushExact(block: RowBlock, exact: ExactScore): void {
    for (let j = 0; j < this.heaps.length; j++) {
      const heap = this.heaps[j] as TopK;
      const mask = block.passes?.[j];
      for (let r = 0; r < block.count; r++) {
        if (mask && mask[r] === 0) continue;
        heap.push(exact(j, r), block.ids[r] as number);
      }
    }
  }
}
