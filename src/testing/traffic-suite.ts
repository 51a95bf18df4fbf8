import { expect, it } from 'vitest';
import { LatencySketch } from '../core/latency-sketch.js';
import type { TrafficBucket, TrafficRole } from '../core/traffic.js';
import type { TrafficRepository } from '../ports/traffic.js';
import { describeSuite, type SuiteOptions } from './suite.js';

export interface TrafficHarness {
  readonly traffic: TrafficRepository;
  /** A second repository over the same storage (another process's recorder). */
  readonly other?: () => Promise<TrafficRepository>;
  cleanup(): Promise<void>;
}

export type TrafficSuiteOptions = SuiteOptions<TrafficHarness>;

const T0 = Date.UTC(2026, 0, 5, 12, 0);
const minuteOf = (ms: number): number => Math.floor(ms / 60_000);

function bucket(
  fields: Partial<TrafficBucket> & { namespace: string; role: TrafficRole; queries: number },
  latencies: readonly number[] = [2],
): TrafficBucket {
  const sketch = new LatencySketch();
  for (const ms of latencies) sketch.add(ms, fields.queries / latencies.length);
  return {
    minute: minuteOf(T0),
    alias: 'docs',
    collection: 'docs',
    mixed: 0,
    latencySumMs: latencies.reduce((a, b) => a + b, 0),
    latencyMaxMs: Math.max(...latencies),
    latency: sketch.toJSON(),
    lastAt: new Date(T0 + 1_000).toISOString(),
    ...fields,
  };
}

/**
 * The conformance suite of traffic repositories: rows of one key merge (counts and sketches add, maxima
 * and last times take the larger), recorders in two processes add up, reads filter by time and
 * collection in key order, and pruning drops old minutes only.
 */
export function testTrafficRepository(options: TrafficSuiteOptions): void {
  describeSuite('Traffic repository', options, (h) => {
    it('stores rows as given and merges rows of the same key', async () => {
      const first = bucket({ namespace: 'docs@v1', role: 'served', queries: 4, mixed: 1 }, [2, 8]);
      await h.traffic.record([first, bucket({ namespace: '', role: 'response', queries: 4 })]);
      expect(await h.traffic.read()).toEqual([
        bucket({ namespace: '', role: 'response', queries: 4 }),
        first,
      ]);
      const later = bucket(
        {
          namespace: 'docs@v1',
          role: 'served',
          queries: 2,
          mixed: 2,
          lastAt: new Date(T0 + 30_000).toISOString(),
        },
        [40],
      );
      await h.traffic.record([later]);
      const [, merged] = await h.traffic.read();
      expect(merged).toMatchObject({ queries: 6, mixed: 3, latencySumMs: 50, latencyMaxMs: 40 });
      expect(merged?.lastAt).toBe(new Date(T0 + 30_000).toISOString());
      const sketch = LatencySketch.from(merged?.latency ?? {});
      expect(sketch.count).toBe(6);
      // An older last time does not move the row's last time back.
      await h.traffic.record([bucket({ namespace: 'docs@v1', role: 'served', queries: 1 })]);
      expect((await h.traffic.read())[1]?.lastAt).toBe(new Date(T0 + 30_000).toISOString());
    });

    it('adds up recorders of two processes flushing the same minute at once', async () => {
      if (!h.other) return;
      const other = await h.other();
      const rows = (n: number) =>
        Array.from({ length: 5 }, (_, i) => bucket({ namespace: `docs@v${i}`, role: 'served', queries: n }));
      await Promise.all([
        h.traffic.record(rows(1)),
        other.record(rows(2)),
        h.traffic.record([...rows(3)].reverse()),
      ]);
      const read = await h.traffic.read();
      expect(read).toHaveLength(5);
      for (const r of read) expect(r.queries).toBe(6);
    });

    it('reads by time and collection in key order and prunes old minutes', async () => {
      const m = minuteOf(T0);
      await h.traffic.record([
        bucket({ minute: m + 2, namespace: 'docs@v2', role: 'shadow', queries: 1 }),
        bucket({ minute: m, namespace: 'docs@v1', role: 'served', queries: 1 }),
        bucket({
          minute: m + 1,
          collection: 'faq',
          alias: 'faq',
          namespace: 'faq@v1',
          role: 'fused',
          queries: 1,
        }),
      ]);
      expect((await h.traffic.read()).map((r) => [r.minute - m, r.namespace])).toEqual([
        [0, 'docs@v1'],
        [1, 'faq@v1'],
        [2, 'docs@v2'],
      ]);
      expect((await h.traffic.read({ collection: 'docs' })).map((r) => r.namespace)).toEqual([
        'docs@v1',
        'docs@v2',
      ]);
      const since = new Date((m + 1) * 60_000 + 5_000);
      expect((await h.traffic.read({ since })).map((r) => r.namespace)).toEqual(['faq@v1', 'docs@v2']);
      expect(await h.traffic.prune(new Date((m + 2) * 60_000))).toBe(2);
      expect((await h.traffic.read()).map((r) => r.namespace)).toEqual(['docs@v2']);
      expect(await h.traffic.prune(new Date((m + 2) * 60_000))).toBe(0);
    });
  });
}
