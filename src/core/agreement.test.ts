import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overlapAt, rbo } from './agreement.js';

describe('overlapAt', () => {
  it('counts common ids in the top k', () => {
    expect(overlapAt(['a', 'b', 'c'], ['c', 'a', 'x'], 3)).toBeCloseTo(2 / 3, 12);
    expect(overlapAt(['a', 'b', 'c'], ['a', 'b', 'c'], 3)).toBe(1);
    expect(overlapAt(['a', 'b'], ['x', 'y'], 2)).toBe(0);
    expect(overlapAt(['a', 'b', 'c', 'd'], ['b', 'a', 'y', 'z'], 2)).toBe(1);
  });

  it('handles short and empty lists', () => {
    expect(overlapAt(['a', 'b'], ['b', 'a'], 10)).toBe(1);
    expect(overlapAt(['a', 'b', 'c', 'd'], ['a', 'b'], 10)).toBe(0.5);
    expect(overlapAt([], [], 10)).toBe(1);
    expect(overlapAt([], ['a'], 10)).toBe(0);
  });

  it('deduplicates and rejects a bad k', () => {
    expect(overlapAt(['a', 'a', 'b'], ['a', 'b'], 2)).toBe(1);
    expect(() => overlapAt(['a'], ['a'], 0)).toThrow(/positive integer/);
  });
});

describe('rbo (extrapolated)', () => {
  it('identical lists give 1 and disjoint lists 0', () => {
    const list = Array.from({ length: 50 }, (_, i) => `d${i}`);
    expect(rbo(list, list)).toBeCloseTo(1, 12);
    expect(rbo(['a'], ['a'])).toBeCloseTo(1, 12);
    expect(
      rbo(
        list,
        list.map((id) => `x${id}`),
      ),
    ).toBe(0);
  });

  it('matches hand-computed values', () => {
    // X1 = 0, X2 = 2: (1-p)/p * (2/2 * p^2) + 2/2 * p^2 = 0.09 + 0.81
    expect(rbo(['a', 'b'], ['b', 'a'])).toBeCloseTo(0.9, 12);
    // X1 = 1, X2 = 1, X3 = 3 with p = 0.5: (1)(1*.5 + .5*.25 + 1*.125) + 1*.125
    expect(rbo(['a', 'b', 'c'], ['a', 'c', 'b'], { p: 0.5 })).toBeCloseTo(0.875, 12);
  });

  it('a list that is a prefix of the other is extrapolated to full agreement (uneven lengths)', () => {
    expect(rbo(['a'], ['a', 'b'])).toBeCloseTo(1, 12);
    expect(rbo(['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e'])).toBeCloseTo(1, 12);
    expect(rbo(['a', 'b'], ['a'])).toBeCloseTo(1, 12);
    // S = [a], L = [b, a]: s = 1, X1 = Xs = 0, X2 = 1; (1-p)/p * (1/2 p^2 + 0) + ((1 - 0)/2 + 0/1) p^2 = 0.045 + 0.405
    expect(rbo(['a'], ['b', 'a'])).toBeCloseTo(0.45, 12);
  });

  it('is top-weighted: disagreement at the top costs more than at the bottom', () => {
    const base = ['a', 'b', 'c', 'd', 'e', 'f'];
    const swapTop = ['b', 'a', 'c', 'd', 'e', 'f'];
    const swapBottom = ['a', 'b', 'c', 'd', 'f', 'e'];
    expect(rbo(base, swapTop)).toBeLessThan(rbo(base, swapBottom));
  });

  it('empty lists, depth truncation and bad p', () => {
    expect(rbo([], [])).toBe(1);
    expect(rbo([], ['a'])).toBe(0);
    expect(rbo(['a', 'b', 'x'], ['a', 'b', 'y'], { depth: 2 })).toBeCloseTo(1, 12);
    expect(() => rbo(['a'], ['a'], { p: 1 })).toThrow(/strictly between 0 and 1/);
  });

  it('is symmetric and within [0, 1] (property)', () => {
    const list = fc.uniqueArray(fc.constantFrom(...'abcdefghij'.split('')), { maxLength: 10 });
    fc.assert(
      fc.property(list, list, (a, b) => {
        const v = rbo(a, b);
        expect(v).toBeGreaterThanOrEqual(-1e-12);
        expect(v).toBeLessThanOrEqual(1 + 1e-12);
        expect(rbo(b, a)).toBeCloseTo(v, 12);
      }),
    );
  });
});
