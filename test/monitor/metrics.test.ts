import { describe, expect, it } from 'vitest';
import { bucketIndex, bucketUpper, LatencySketch } from '../../src/core/latency-sketch.js';
import { quantileSorted } from '../../src/core/metrics.js';
import { seededRandom } from '../../src/core/significance.js';
import { MetricsRegistry } from '../../src/monitor/metrics-registry.js';

describe('MetricsRegistry', () => {
  it('exposes counters, gauges and histograms in Prometheus text format', () => {
    const r = new MetricsRegistry();
    const c = r.counter('reembed_queries_total', 'Responses served.', ['alias']);
    c.inc({ alias: 'docs' });
    c.inc({ alias: 'docs' }, 2);
    c.inc({ alias: 'we"ird\\\n' });
    r.gauge('reembed_up', 'Up.').set({}, 1);
    const h = r.histogram('lat_seconds', 'Latency.', ['ns'], [0.1, 1]);
    h.observe({ ns: 'a' }, 0.05);
    h.observe({ ns: 'a' }, 0.5);
    h.observe({ ns: 'a' }, 5);
    expect(r.expose()).toBe(
      [
        '# HELP reembed_queries_total Responses served.',
        '# TYPE reembed_queries_total counter',
        'reembed_queries_total{alias="docs"} 3',
        'reembed_queries_total{alias="we\\"ird\\\\\\n"} 1',
        '# HELP reembed_up Up.',
        '# TYPE reembed_up gauge',
        'reembed_up 1',
        '# HELP lat_seconds Latency.',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{ns="a",le="0.1"} 1',
        'lat_seconds_bucket{ns="a",le="1"} 2',
        'lat_seconds_bucket{ns="a",le="+Inf"} 3',
        'lat_seconds_sum{ns="a"} 5.55',
        'lat_seconds_count{ns="a"} 3',
        '',
      ].join('\n'),
    );
  });

  it('returns the same family for the same name and refuses conflicts and bad input', () => {
    const r = new MetricsRegistry();
    expect(r.counter('x_total', 'X.', ['a'])).toBe(r.counter('x_total', 'X.', ['a']));
    expect(() => r.gauge('x_total', 'X.', ['a'])).toThrow(/already registered as a counter/);
    expect(() => r.counter('x_total', 'X.', ['b'])).toThrow(/already registered/);
    expect(() => r.counter('bad-name', 'X.')).toThrow(/not a valid metric name/);
    expect(() => r.counter('y_total', 'Y.', ['le'])).toThrow(/not a valid label name/);
    expect(() => r.counter('x_total', 'X.', ['a']).inc({ b: '1' })).toThrow(/takes labels \[a\]/);
    expect(() => r.counter('x_total', 'X.', ['a']).inc({ a: '1' }, -1)).toThrow(/cannot go down/);
  });
});

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
