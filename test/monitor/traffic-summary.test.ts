import { describe, expect, it } from 'vitest';
import { LatencySketch } from '../../src/core/latency-sketch.js';
import { mergeTrafficBuckets, type TrafficBucket } from '../../src/core/traffic.js';
import { summarizeTraffic } from '../../src/monitor/traffic-summary.js';

function bucket(
  fields: Partial<TrafficBucket> & Pick<TrafficBucket, 'namespace' | 'role' | 'queries'>,
  ms = 2,
): TrafficBucket {
  const sketch = new LatencySketch();
  sketch.add(ms, fields.queries);
  return {
    minute: 100,
    alias: 'docs',
    collection: 'docs',
    mixed: 0,
    latencySumMs: ms * fields.queries,
    latencyMaxMs: ms,
    latency: sketch.toJSON(),
    lastAt: '2025-01-01T00:01:40.000Z',
    ...fields,
  };
}

describe('summarizeTraffic', () => {
  it('splits a collection’s responses between namespaces and keeps shadow reads apart', () => {
    const s = summarizeTraffic([
      bucket({ namespace: '', role: 'response', queries: 10 }),
      bucket({ namespace: 'docs@v1', role: 'served', queries: 7 }, 1),
      bucket({ namespace: 'docs@v2', role: 'served', queries: 3, mixed: 1 }, 8),
      bucket({ namespace: 'docs@v2', role: 'shadow', queries: 5 }, 100),
      bucket({
        minute: 101,
        namespace: 'docs@v1',
        role: 'served',
        queries: 0,
        lastAt: '2025-01-01T00:02:00.000Z',
      }),
    ]);
    expect(s.collections).toEqual({ docs: 10 });
    expect(s.namespaces['docs@v1']).toMatchObject({
      queries: 7,
      share: 0.7,
      mixedRate: 0,
      lastQueryAt: '2025-01-01T00:02:00.000Z',
    });
    const v2 = s.namespaces['docs@v2'];
    expect(v2).toMatchObject({ queries: 3, shadowReads: 5, share: 0.3, mixed: 1 });
    expect(v2?.mixedRate).toBeCloseTo(1 / 3, 12);
    // Shadow reads (100 ms) do not count toward the served latency (8 ms).
    expect(v2?.latency.max).toBe(8);
    expect(Math.abs((v2?.latency.p99 ?? 0) - 8) / 8).toBeLessThan(0.1);
    expect(s.aliases.docs).toMatchObject({ queries: 10, byNamespace: { 'docs@v1': 7, 'docs@v2': 3 } });
  });

  it('merges rows of one key by adding counts and sketches', () => {
    const a = bucket({ namespace: 'n', role: 'served', queries: 2 }, 1);
    const b = bucket(
      { namespace: 'n', role: 'served', queries: 3, mixed: 1, lastAt: '2025-01-01T00:01:59.000Z' },
      50,
    );
    const m = mergeTrafficBuckets(a, b);
    expect(m).toMatchObject({
      queries: 5,
      mixed: 1,
      latencySumMs: 152,
      latencyMaxMs: 50,
      lastAt: '2025-01-01T00:01:59.000Z',
    });
    expect(LatencySketch.from(m.latency).count).toBe(5);
  });
});
