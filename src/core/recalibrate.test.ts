import { describe, expect, it } from 'vitest';
import { recalibrateThreshold } from './recalibrate.js';

const range = (n: number, f: (i: number) => number = (i) => i + 1) =>
  Array.from({ length: n }, (_, i) => f(i));

describe('recalibrateThreshold', () => {
  it('is the identity when both spaces score alike', () => {
    const scores = range(100);
    const r = recalibrateThreshold(scores, scores, 50.5);
    expect(r).toMatchObject({
      kind: 'threshold-recalibration',
      percentile: 0.5,
      oldSamples: 100,
      newSamples: 100,
      warnings: [],
    });
    expect(r.newThreshold).toBeCloseTo(50.5, 12);
  });

  it('follows a monotone change of scale (cosine 0..1 → compressed 0.5..0.75)', () => {
    const old = range(200, (i) => i / 199);
    const shifted = old.map((s) => 0.5 + s / 4);
    const r = recalibrateThreshold(old, shifted, 0.8);
    expect(r.newThreshold).toBeCloseTo(0.7, 2);
    // the share of results passing is kept
    const passOld = old.filter((s) => s >= 0.8).length;
    const passNew = shifted.filter((s) => s >= r.newThreshold).length;
    expect(Math.abs(passOld - passNew)).toBeLessThanOrEqual(1);
  });

  it('works with different sample sizes and in any input order', () => {
    const old = range(100).reverse();
    const neu = range(1000, (i) => (i + 1) / 10);
    const r = recalibrateThreshold(old, neu, 25.5);
    expect(r.percentile).toBe(0.25);
    expect(r.newThreshold).toBeCloseTo(25.075, 6);
  });

  it('counts ties half and warns on small samples and thresholds outside the range', () => {
    expect(recalibrateThreshold([1, 2, 2, 3], [1, 2, 2, 3], 2).percentile).toBe(0.5);
    const small = recalibrateThreshold([0.1, 0.2], [0.3, 0.4], 0.15);
    expect(small.warnings.join(' ')).toMatch(/at least 30/);
    const above = recalibrateThreshold(
      range(50),
      range(50, (i) => i * 2),
      1000,
    );
    expect(above.newThreshold).toBe(98);
    expect(above.warnings.join(' ')).toMatch(/above every old score/);
    const below = recalibrateThreshold(
      range(50),
      range(50, (i) => i * 2),
      -5,
    );
    expect(below.newThreshold).toBe(0);
    expect(below.warnings.join(' ')).toMatch(/below every old score/);
  });

  it('rejects empty or non-finite input', () => {
    expect(() => recalibrateThreshold([], [1], 0.5)).toThrow(/No old scores/);
    expect(() => recalibrateThreshold([1], [Number.POSITIVE_INFINITY], 0.5)).toThrow(/new score #0/);
    expect(() => recalibrateThreshold([1], [1], Number.NaN)).toThrow(/not a finite number/);
  });
});
