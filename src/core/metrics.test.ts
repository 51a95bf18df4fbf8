import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isReembedError } from './errors.js';
import {
  annRecallAt,
  dcgAt,
  evaluateRun,
  meanAnnRecallAt,
  ndcgAt,
  precisionAt,
  quantileSorted,
  queryMetrics,
  recallAt,
  reciprocalRankAt,
} from './metrics.js';

describe('per-query metrics', () => {
  const binary = { a: 1, b: 1 };

  it('recall, precision and MRR on a hand-checked ranking', () => {
    const ranking = ['x', 'a', 'y', 'b'];
    expect(recallAt(ranking, binary, 1)).toBe(0);
    expect(recallAt(ranking, binary, 2)).toBe(0.5);
    expect(recallAt(ranking, binary, 4)).toBe(1);
    expect(precisionAt(ranking, binary, 2)).toBe(0.5);
    expect(precisionAt(ranking, binary, 4)).toBe(0.5);
    expect(reciprocalRankAt(ranking, binary, 1)).toBe(0);
    expect(reciprocalRankAt(ranking, binary, 10)).toBe(0.5);
  });

  it('an empty result scores 0 everywhere', () => {
    expect(queryMetrics([], binary, [1, 10])).toEqual({
      'recall@1': 0,
      'precision@1': 0,
      'mrr@1': 0,
      'ndcg@1': 0,
      'recall@10': 0,
      'precision@10': 0,
      'mrr@10': 0,
      'ndcg@10': 0,
    });
  });

  it('fewer results than k: precision still divides by k, recall and nDCG use what came back', () => {
    expect(precisionAt(['a'], binary, 10)).toBe(0.1);
    expect(recallAt(['a'], binary, 10)).toBe(0.5);
    expect(ndcgAt(['a', 'b'], binary, 10)).toBe(1);
  });

  it('counts a repeated document once (chunks of one source)', () => {
    expect(recallAt(['a', 'a', 'a'], binary, 3)).toBe(0.5);
    expect(precisionAt(['a', 'a', 'b'], binary, 2)).toBe(1);
    expect(ndcgAt(['a', 'a', 'b'], binary, 2)).toBe(1);
  });

  it('grade 0 is judged non-relevant', () => {
    const j = { a: 0, b: 1 };
    expect(recallAt(['a'], j, 1)).toBe(0);
    expect(reciprocalRankAt(['a', 'b'], j, 2)).toBe(0.5);
    expect(ndcgAt(['a', 'b'], j, 2)).toBeCloseTo(1 / Math.log2(3), 12);
  });

  it('binary nDCG equals the textbook value', () => {
    const expected = (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3));
    expect(ndcgAt(['x', 'a', 'y', 'b'], binary, 4)).toBeCloseTo(expected, 12);
    expect(ndcgAt(['x', 'a', 'y', 'b'], binary, 4)).toBeCloseTo(0.6509, 4);
  });

  it('graded nDCG uses exponential gain 2^rel - 1 and log2 discount (hand-computed)', () => {
    const graded = { a: 3, b: 2, c: 1 };
    // DCG@3 of [c, x, a] = 1/1 + 0 + 7/2 = 4.5; IDCG@3 of [a, b, c] = 7 + 3/log2(3) + 1/2 = 9.3928
    expect(dcgAt([1, 0, 3], 3)).toBe(4.5);
    expect(ndcgAt(['c', 'x', 'a', 'b'], graded, 3)).toBeCloseTo(4.5 / (7 + 3 / Math.log2(3) + 0.5), 12);
    expect(ndcgAt(['c', 'x', 'a', 'b'], graded, 3)).toBeCloseTo(0.4791, 4);
    // Exponential (not linear) gain: [b, a] = (3 + 7/log2 3) / (7 + 3/log2 3) = 0.8340; linear gain would give 0.9134
    expect(ndcgAt(['b', 'a'], { a: 3, b: 2 }, 2)).toBeCloseTo(
      (3 + 7 / Math.log2(3)) / (7 + 3 / Math.log2(3)),
      12,
    );
    expect(ndcgAt(['b', 'a'], { a: 3, b: 2 }, 2)).toBeCloseTo(0.834, 3);
  });

  it('ideal DCG comes from all judgments: finding only low grades cannot score 1', () => {
    expect(ndcgAt(['c'], { a: 4, c: 1 }, 1)).toBeCloseTo(1 / 15, 12);
  });

  it('metrics stay in [0, 1] and the ideal ranking scores nDCG 1 (property)', () => {
    const docs = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    fc.assert(
      fc.property(
        fc.dictionary(docs, fc.integer({ min: 1, max: 4 }), { minKeys: 1 }),
        fc.array(docs, { maxLength: 8 }),
        fc.integer({ min: 1, max: 8 }),
        (judgments, ranking, k) => {
          for (const v of Object.values(queryMetrics(ranking, judgments, [k]))) {
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(1 + 1e-12);
          }
          const ideal = Object.keys(judgments).sort((x, y) => (judgments[y] ?? 0) - (judgments[x] ?? 0));
          expect(ndcgAt(ideal, judgments, k)).toBeCloseTo(1, 12);
        },
      ),
    );
  });
});

describe('evaluateRun', () => {
  const qrels = { q1: { a: 1 }, q2: { b: 2, c: 1 }, q3: { z: 0 } };

  it('returns means and per-query values; a judged query missing from the run scores 0', () => {
    const run = new Map([
      ['q1', ['a', 'x']],
      ['extra', ['a']],
    ]);
    const r = evaluateRun(run, qrels, [10, 1]);
    expect(r.ks).toEqual([1, 10]);
    expect(r.n).toBe(2);
    expect(r.skipped).toEqual({ noRelevant: 1, unjudged: 1 });
    expect(r.perQuery.map((q) => q.queryId)).toEqual(['q1', 'q2']);
    expect(r.perQuery[0]?.metrics['mrr@10']).toBe(1);
    expect(r.perQuery[1]?.metrics['recall@10']).toBe(0);
    expect(r.perQuery[1]?.returned).toBe(0);
    expect(r.means['mrr@10']).toBe(0.5);
    expect(r.means['recall@1']).toBe(0.5);
    expect(r.means['precision@10']).toBeCloseTo(0.05, 12);
  });

  it('rejects invalid cut-offs', () => {
    for (const ks of [[], [0], [2.5], [-1]]) {
      let caught: unknown;
      try {
        evaluateRun(new Map(), qrels, ks);
      } catch (e) {
        caught = e;
      }
      expect(isReembedError(caught, 'INVALID_INPUT')).toBe(true);
    }
  });
});

describe('ANN recall vs exact', () => {
  it('is the share of the exact top k found by the approximate top k', () => {
    expect(annRecallAt(['a', 'b', 'c'], ['a', 'b', 'c'], 3)).toBe(1);
    expect(annRecallAt(['a', 'x', 'y'], ['a', 'b', 'c'], 3)).toBeCloseTo(1 / 3, 12);
    expect(annRecallAt(['c', 'b', 'a'], ['a', 'b', 'c', 'd'], 2)).toBe(0.5);
    expect(annRecallAt([], ['a'], 10)).toBe(0);
    expect(annRecallAt(['a'], [], 10)).toBe(1);
    expect(annRecallAt(['a'], ['a', 'b'], 10)).toBe(0.5);
  });

  it('averages over queries', () => {
    expect(
      meanAnnRecallAt(
        [
          { approx: ['a'], exact: ['a'] },
          { approx: ['x'], exact: ['a'] },
        ],
        1,
      ),
    ).toBe(0.5);
  });
});

describe('quantileSorted', () => {
  it('interpolates linearly (numpy default)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileSorted([5], 0.99)).toBe(5);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});
