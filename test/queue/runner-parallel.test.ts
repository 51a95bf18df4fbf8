import { describe, expect, it } from 'vitest';
import { embedSources } from '../../src/app/embed-sources.js';
import { createHashingEmbedder } from '../../src/embedders/hashing.js';
import { BackfillRunner } from '../../src/jobs/backfill.js';
import { jittered } from '../migration/helpers.js';
import { assertNamespaceMatchesSource, PG_URL, SKIP_LINE, seedBackfill, usePgApp } from './helpers.js';

/**
 * The single-process BackfillRunner on Postgres commits up to `concurrency` batches at once (the store
 * has `concurrentWrites`). Each commit's checkpoint covers only batches committed before it started plus
 * its own, and the store never moves a checkpoint backwards, so a stopped pass resumes without a gap.
 */
const openApp = usePgApp();

const N = 600;

describe.skipIf(!PG_URL)('BackfillRunner on Postgres: parallel commits', () => {
  it('writes concurrently, keeps the checkpoint contiguous and monotonic, and resumes without a gap', async () => {
    const ctx = await openApp();
    const { app, backend } = ctx;
    const { v2 } = await seedBackfill(app, N);
    let inFlight = 0;
    let maxInFlight = 0;
    const store = backend.store;
    const write = store.write.bind(store);
    store.write = async (...args: Parameters<typeof store.write>) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await write(...args);
      } finally {
        inFlight--;
      }
    };
    const make = (): BackfillRunner =>
      new BackfillRunner(
        {
          store,
          sources: backend.sources,
          jobs: backend.jobs,
          embedder: jittered(createHashingEmbedder(v2), 6, 11),
          encode: embedSources,
        },
        { collection: 'docs', namespace: 'docs@v2', settings: { batchSize: 10, concurrency: 4 } },
      );
    const first = make();
    const stop = new AbortController();
    const checkpoints: number[] = [];
    let batches = 0;
    first.on('batch', () => {
      if (++batches === 25) stop.abort();
    });
    first.on('progress', () => {
      void store.readCheckpoint('backfill:docs@v2#0').then((c) => {
        if (c) checkpoints.push(c.processed);
      });
    });
    const aborted = await first.run({ signal: stop.signal });
    expect(aborted.status).toBe('aborted');
    expect(maxInFlight).toBeGreaterThan(1);
    const saved = await store.readCheckpoint('backfill:docs@v2#0');
    expect(saved).not.toBeNull();
    // Every source up to the checkpoint's cursor is in the namespace: the checkpoint skipped no batch.
    const after = (saved?.cursor ?? '').replace(/^scan:/, '');
    const below = (await backend.sources.scan('docs', { limit: N })).filter((d) => d.id <= after);
    expect(below.length).toBe(saved?.processed);
    const heads = await store.heads(
      'docs@v2',
      below.map((d) => d.id),
    );
    expect(below.filter((d) => !heads.has(d.id))).toEqual([]);
    // Never backwards (the reads above race the writes, so they see a non-decreasing sequence).
    const sorted = [...checkpoints].sort((a, b) => a - b);
    expect(checkpoints.at(-1)).toBe(sorted.at(-1));

    const resumed = await make().run();
    expect(resumed.status).toBe('done');
    expect(aborted.written + resumed.written).toBeGreaterThanOrEqual(N);
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });

  it('never moves a checkpoint backwards when writes commit out of order', async () => {
    const ctx = await openApp();
    const { app, backend } = ctx;
    const { v2 } = await seedBackfill(app, 20);
    const docs = await backend.sources.scan('docs', { limit: 20 });
    const writes = await embedSources(createHashingEmbedder(v2), docs);
    const key = 'manual#0';
    await backend.store.write('docs@v2', v2.fingerprint, writes.slice(0, 10), {
      checkpoint: { jobId: key, cursor: 'scan:b', processed: 10 },
    });
    // A write whose checkpoint was computed earlier commits later: the saved one stays.
    await backend.store.write('docs@v2', v2.fingerprint, writes.slice(10), {
      checkpoint: { jobId: key, cursor: 'scan:a', processed: 5 },
    });
    expect(await backend.store.readCheckpoint(key)).toMatchObject({ cursor: 'scan:b', processed: 10 });
  });
});

if (!PG_URL) console.log(SKIP_LINE);
