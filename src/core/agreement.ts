import { ReembedError } from './errors.js';
import { dedupeRanking } from './metrics.js';

/**
 * Agreement between two rankings of the same query (e.g. the serving namespace and its shadow).
 * No judgments are needed, which is why shadow migrations can measure it on live traffic.
 * Both functions deduplicate their inputs (first occurrence wins).
 */

/**
 * Share of the top k that both rankings have in common: |A_k ∩ B_k| / max(|A_k|, |B_k|). Dividing by
 * the longer truncated list (not by k) makes two identical short lists agree fully; two empty lists
 * agree fully (1), an empty and a non-empty list not at all (0).
 *
 * @example overlapAt(['a', 'b', 'c'], ['c', 'a', 'x'], 3) // 2/3
 */
export function overlapAt(a: readonly string[], b: readonly string[], k: number): number {
  assertK(k);
  const topA = dedupeRanking(a).slice(0, k);
  const topB = new Set(dedupeRanking(b).slice(0, k));
  const size = Math.max(topA.length, topB.size);
  if (size === 0) return 1;
  let common = 0;
  for (const id of topA) if (topB.has(id)) common++;
  return common / size;
}

export interface RboOptions {
  /** Persistence: the weight of rank d+1 relative to rank d. 0.9 puts ~86% of the weight on the top 10. */
  readonly p?: number;
  /** Truncate both rankings to this depth first (e.g. the k the application reads). */
  readonly depth?: number;
}

/**
 * Rank-biased overlap, extrapolated (RBO_ext; Webber, Moffat & Zobel 2010, eq. 32, which handles lists of
 * different lengths). Top-weighted: disagreement at rank 1 costs more than at rank 10. Identical lists
 * give 1, disjoint lists 0; a list that is a prefix of the other gives 1 (agreement is extrapolated
 * beyond the evaluated depth). Two empty lists give 1, one empty list 0.
 *
 * @example rbo(['a', 'b'], ['b', 'a']) // 0.9 with p = 0.9
 */
export function rbo(a: readonly string[], b: readonly string[], options: RboOptions = {}): number {
  const p = options.p ?? 0.9;
  if (!(p > 0 && p < 1)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `RBO persistence p=${p} is invalid: use a number strictly between 0 and 1.`,
      {
        details: { p },
      },
    );
  }
  if (options.depth !== undefined) assertK(options.depth);
  let x = dedupeRanking(a);
  let y = dedupeRanking(b);
  if (options.depth !== undefined) {
    x = x.slice(0, options.depth);
    y = y.slice(0, options.depth);
  }
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  const s = short.length;
  const l = long.length;
  if (l === 0) return 1;
  if (s === 0) return 0;

  // X_d: overlap of the prefixes of depth d, where the short list stops growing after depth s.
  const seenShort = new Set<string>();
  const seenLong = new Set<string>();
  let overlap = 0;
  let sum = 0;
  let overlapAtS = 0;
  let weight = 1;
  for (let d = 1; d <= l; d++) {
    weight *= p;
    const fromLong = long[d - 1] as string;
    if (d <= s) {
      const fromShort = short[d - 1] as string;
      if (fromShort === fromLong) overlap++;
      else {
        if (seenLong.has(fromShort)) overlap++;
        if (seenShort.has(fromLong)) overlap++;
      }
      seenShort.add(fromShort);
      seenLong.add(fromLong);
      if (d === s) overlapAtS = overlap;
    } else if (seenShort.has(fromLong)) {
      overlap++;
    }
    sum += (overlap / d) * weight;
    if (d > s) sum += ((overlapAtS * (d - s)) / (s * d)) * weight;
  }
  const tail = ((overlap - overlapAtS) / l + overlapAtS / s) * weight;
  return ((1 - p) / p) * sum + tail;
}

function assertK(k: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new ReembedError('INVALID_INPUT', `Depth k=${k} is invalid: use a positive integer such as 10.`, {
      details: { k },
    });
  }
}
