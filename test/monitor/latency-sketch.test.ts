import { describe, expect, it } from 'vitest';
import { bucketIndex, bucketUpper, LatencySketch } from '../../src/core/latency-sketch.js';
import { quantileSorted } from '../../src/core/metrics.js';
import { seededRandom } from '../../src/core/significance.js';

describe('LatencySketch', () => {
  it('places values in log buckets whose bounds contain them', () => {
    for (const ms of [0.02, 0.5, 1, 3.3, 120, 9999]) {
      const i = bucketIndex(ms);
      expect(ms).toBeLessThanOrEqual(bucketUpper(i) * (1 + 1e-9));
      expect(ms).toBeGreaterThan(bucketUpper(i - 1));
    }
  });

  it('estimates quantiles within 10% of the exact ones and merges like adding samples', () => {
    const random = seededRandom(7);
    const samples = Array.from({ length: 5000 }, () => Math.exp(random() * 8) / 10); // 0.1 ms .. 300 ms
    const a = new LatencySketch();
    const b = new LatencySketch();
    for (const [i, ms] of samples.entries()) (i % 2 ? a : b).add(ms);
    const merged = LatencySketch.from(a.toJSON());
    merged.merge(b);
    expect(merged.count).toBe(5000);
    const sorted = [...samples].sort((x, y) => x - y);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = quantileSorted(sorted, q);
      expect(Math.abs((merged.quantile(q) as number) - exact) / exact).toBeLessThan(0.1);
    }
    expect(new LatencySketch().quantile(0.5)).toBeNull();
  });
});
