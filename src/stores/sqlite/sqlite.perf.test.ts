import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceWrite } from '../../core/records.js';
import { descriptorOf, prng, randomVector, testSpace } from '../../testing/index.js';
import { openSqliteBackend } from './backend.js';

/**
 * Performance targets of the embedded store, on 100,000 x 384 records: writes well over 50k records/s,
 * loading the search matrix in under 2 s, exact search well under 40 ms median. Opt-in (REEMBED_PERF=1)
 * because it needs ~1 GB of memory and a quiet machine to mean anything.
 */
const enabled = process.env.REEMBED_PERF === '1';
const N = 100_000;
const D = 384;

describe.skipIf(!enabled)(
  'sqlite store performance (skipped unless REEMBED_PERF=1: large and timing-sensitive)',
  () => {
    it('writes, loads and searches 100k x 384 within the targets', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'reembed-perf-'));
      const backend = await openSqliteBackend({ path: join(dir, 'perf.db') });
      try {
        const space = testSpace('perf', { dimension: D });
        const ns = descriptorOf('docs', space);
        await backend.store.createNamespace(ns);
        const random = prng(1);
        const batches: SourceWrite[][] = [];
        for (let start = 0; start < N; start += 1000) {
          batches.push(
            Array.from({ length: 1000 }, (_, i) => ({
              sourceId: `d${start + i}`,
              sourceVersion: 1,
              contentHash: 'h'.repeat(32),
              tenant: (start + i) % 2 ? 'a' : 'b',
              metadata: { lang: (start + i) % 3 ? 'en' : 'de' },
              chunks: [
                {
                  chunkId: `d${start + i}#0`,
                  index: 0,
                  text: `chunk ${start + i}`,
                  vector: randomVector(random, D),
                },
              ],
            })),
          );
        }
        let t = performance.now();
        for (const batch of batches) await backend.store.write(ns.name, space.fingerprint, batch);
        const perSecond = N / ((performance.now() - t) / 1000);

        const reader = await openSqliteBackend({ path: join(dir, 'perf.db') });
        const query = { vector: randomVector(random, D), fingerprint: space.fingerprint, k: 10, exact: true };
        t = performance.now();
        await reader.store.search(ns.name, query);
        const loadMs = performance.now() - t;
        const times: number[] = [];
        for (let i = 0; i < 30; i++) {
          t = performance.now();
          await reader.store.search(ns.name, { ...query, vector: randomVector(random, D) });
          times.push(performance.now() - t);
        }
        const median = times.sort((a, b) => a - b)[15] as number;
        await reader.close();
        console.info({
          writesPerSecond: Math.round(perSecond),
          loadMs: Math.round(loadMs),
          searchMedianMs: median,
        });
        expect(perSecond).toBeGreaterThan(50_000);
        expect(loadMs).toBeLessThan(2_000);
        expect(median).toBeLessThan(40);
      } finally {
        await backend.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
