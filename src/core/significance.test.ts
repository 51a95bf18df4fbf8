import { describe, expect, it } from 'vitest';
import { isReembedError } from './errors.js';
import type { QueryEvaluation } from './metrics.js';
import { compareEvaluations, pairedSignificance, seededRandom } from './significance.js';

const sample = (n: number, seed: number) => {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => r());
};

describe('seededRandom', () => {
  it('is deterministic per seed and uniform-ish in [0, 1)', () => {
    expect(sample(5, 7)).toEqual(sample(5, 7));
    expect(sample(5, 7)).not.toEqual(sample(5, 8));
    const xs = sample(10_000, 1);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });
});

describe('pairedSignificance', () => {
  it('identical runs: no difference, p = 1, CI [0, 0]', () => {
    const a = sample(100, 3);
    const r = pairedSignificance(a, [...a]);
    expect(r).toMatchObject({ meanDiff: 0, pValue: 1, n: 100, iterations: 10_000, seed: 42 });
    expect(r.ci95).toEqual([0, 0]);
  });

  it('strongly different runs: p tiny and the CI excludes 0', () => {
    const a = sample(60, 4);
    const noise = sample(60, 5);
    const b = a.map((x, i) => x + 0.2 + ((noise[i] as number) - 0.5) * 0.1);
    const r = pairedSignificance(a, b, { iterations: 2000 });
    expect(r.meanDiff).toBeCloseTo(0.2, 1);
    expect(r.pValue).toBeLessThan(0.001);
    expect(r.ci95[0]).toBeGreaterThan(0.15);
    expect(r.ci95[1]).toBeLessThan(0.25);
  });

  it('pure noise is not significant', () => {
    const a = sample(80, 10);
    const b = sample(80, 11);
    const r = pairedSignificance(a, b, { iterations: 2000 });
    expect(r.pValue).toBeGreaterThan(0.05);
    expect(r.ci95[0]).toBeLessThan(0);
    expect(r.ci95[1]).toBeGreaterThan(0);
  });

  it('is exact for small n (all 2^n sign flips)', () => {
    // five equal positive differences: only all-plus and all-minus reach |sum| = 5 → 2 / 32
    expect(pairedSignificance([0, 0, 0, 0, 0], [1, 1, 1, 1, 1]).pValue).toBe(0.0625);
    // differences 1 and -1 cancel: every assignment has |sum| ≥ 0
    expect(pairedSignificance([0, 0], [1, -1]).pValue).toBe(1);
  });

  it('is deterministic for a seed, and the seed matters for the bootstrap', () => {
    const a = sample(40, 20);
    const b = sample(40, 21);
    expect(pairedSignificance(a, b, { seed: 1 })).toEqual(pairedSignificance(a, b, { seed: 1 }));
    expect(pairedSignificance(a, b, { seed: 1 }).ci95).not.toEqual(
      pairedSignificance(a, b, { seed: 2 }).ci95,
    );
  });

  it('rejects unpaired, empty and non-finite input', () => {
    for (const [a, b] of [
      [[1], [1, 2]],
      [[], []],
      [[Number.NaN], [1]],
    ] as [number[], number[]][]) {
      let caught: unknown;
      try {
        pairedSignificance(a, b);
      } catch (e) {
        caught = e;
      }
      expect(isReembedError(caught, 'INVALID_INPUT')).toBe(true);
    }
  });
});

describe('compareEvaluations', () => {
  const q = (queryId: string, ndcg: number): QueryEvaluation => ({
    queryId,
    metrics: { 'ndcg@10': ndcg },
    returned: 10,
  });

  it('pairs by query id and reports unpaired queries', () => {
    const r = compareEvaluations(
      [q('a', 0.5), q('b', 0.5), q('c', 0.1)],
      [q('b', 0.7), q('a', 0.6), q('z', 1)],
      'ndcg@10',
    );
    expect(r.n).toBe(2);
    expect(r.unpaired).toBe(2);
    expect(r.meanDiff).toBeCloseTo(0.15, 12);
    expect(r.metric).toBe('ndcg@10');
  });

  it('names a metric that was not computed', () => {
    expect(() => compareEvaluations([q('a', 1)], [q('a', 1)], 'ndcg@5')).toThrow(/"ndcg@5" was not computed/);
  });
});
