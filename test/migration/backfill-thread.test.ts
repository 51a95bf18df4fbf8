import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embedSources } from '../../src/app/embed-sources.js';
import type { Reembed } from '../../src/app/reembed.js';
import { createHashingEmbedder } from '../../src/embedders/hashing.js';
import { type BackfillOptions, BackfillRunner, type ReaderThreadEvent } from '../../src/jobs/backfill.js';
import { prewarmReaderThread } from '../../src/jobs/source-pages.js';
import type { Embedder } from '../../src/ports/embedder.js';
import type { JobRepository } from '../../src/ports/jobs.js';
import { ReaderThread } from '../../src/stores/sqlite/reader-thread.js';
import { assertNamespaceMatchesSource, corpus, hashing, jittered, tempApp } from './helpers.js';

/**
 * The runner with its reader thread (`readerThread: 'on'`): the same results as reading on the calling
 * thread — every source exactly once, resumable, tombstones applied, current sources skipped.
 */
let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
const v1 = hashing('v1', 1);
const v2 = hashing('v2', 2);
const N = 300;

beforeEach(async () => {
  ctx = await tempApp();
  app = ctx.app;
  await app.addSpace(v1);
  await app.addSpace(v2);
  await app.createCollection('docs', 'v1');
  await app.ingest('docs', corpus(N));
  await app.createNamespace('docs', v2, 'active', 'docs@v1');
});
afterEach(async () => ctx.cleanup());

function runner(embedder: Embedder, options: Partial<BackfillOptions> = {}): BackfillRunner {
  return new BackfillRunner(
    {
      store: app.backend.store,
      sources: app.backend.sources,
      jobs: app.backend.jobs as JobRepository,
      embedder,
      encode: embedSources,
    },
    {
      collection: 'docs',
      namespace: 'docs@v2',
      pageSize: 16,
      readerThread: 'on',
      settings: { batchSize: 8, concurrency: 4 },
      ...options,
    },
  );
}

/** The hashing embedder of v2 after a deterministic pseudo-random delay, so batches finish out of order. */
const jitteredV2 = (maxMs: number): Embedder => jittered(createHashingEmbedder(v2), maxMs, 7);

describe('BackfillRunner with a reader thread', () => {
  it('writes what reading on the calling thread writes: stale, missing and deleted sources', async () => {
    const events: ReaderThreadEvent[] = [];
    const r = runner(jitteredV2(4));
    r.on('reader-thread', (e: ReaderThreadEvent) => events.push(e));
    expect(await r.run()).toMatchObject({ status: 'done', written: N });
    expect(events.map((e) => e.state)).toEqual(['started']);
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
    // Source changes whose dual-writes never happened: the next pass regenerates and tombstones them,
    // and finds everything else current.
    await app.backend.sources.upsert('docs', [{ id: 'doc-00003', text: 'changed at the source only' }]);
    await app.backend.sources.delete('docs', ['doc-00004', 'doc-00250']);
    const pass = await runner(jitteredV2(4)).run();
    expect(pass).toMatchObject({ status: 'done', written: 3, skipped: N - 3 });
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });

  it('resumes after an abort and after a pause, writing every source exactly once', async () => {
    const embedder = jitteredV2(6);
    const first = runner(embedder);
    const stop = new AbortController();
    let batches = 0;
    first.on('batch', () => {
      if (++batches === 9) stop.abort();
    });
    const aborted = await first.run({ signal: stop.signal });
    expect(aborted.status).toBe('aborted');
    const second = runner(embedder);
    const paused = await second.run({ maxBatches: 6 });
    expect(paused.status).toBe('paused');
    // The same runner carries on: its reader thread was released at the pause and is started again.
    const events: ReaderThreadEvent[] = [];
    second.on('reader-thread', (e: ReaderThreadEvent) => events.push(e));
    const done = await second.run();
    expect(done.status).toBe('done');
    expect(events.map((e) => e.state)).toEqual(['started']);
    expect(aborted.written + done.written).toBe(N);
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });

  it('prewarms a reader thread when a namespace to backfill is created over a large collection', async () => {
    // Small: no thread (a pass of fewer than THREAD_MIN_PAGES pages reads on the calling thread).
    expect(await prewarmReaderThread(app.backend.sources, 'docs')).toBe(false);
    await app.ingest('docs', corpus(1_000, 3, 'more'));
    const v3 = hashing('v3', 3);
    await app.addSpace(v3);
    // Taking the idle thread empties the pool, so that the prewarm below starts a new one.
    app.backend.sources
      .readerThreads?.()
      ?.open({
        collection: 'docs',
        pageSize: 16,
        depth: 1,
        pipeline: v3.spec,
      })
      ?.close();
    await app.createNamespace('docs', v3, 'building', 'docs@v1');
    const idle = ReaderThread.idleThread();
    expect(idle).not.toBeNull();
    await expect.poll(() => ReaderThread.idleThread()?.loaded, { timeout: 20_000 }).toBe(true);
    const events: ReaderThreadEvent[] = [];
    const r = new BackfillRunner(
      {
        store: app.backend.store,
        sources: app.backend.sources,
        jobs: app.backend.jobs as JobRepository,
        embedder: createHashingEmbedder(v3),
        encode: embedSources,
      },
      // Small pages make a long pass (~100 pages): the prewarmed thread takes over at the first page
      // boundary after it has opened its reader, which on a loaded CI machine took longer than a pass of
      // 25 pages of 64.
      { collection: 'docs', namespace: 'docs@v3', pageSize: 16, readerThread: 'auto' },
    );
    r.on('reader-thread', (e: ReaderThreadEvent) => events.push(e));
    expect(await r.run()).toMatchObject({ status: 'done', written: N + 1_000 });
    expect(events.map((e) => e.state)).toEqual(['started']);
    expect(await assertNamespaceMatchesSource(app, 'docs@v3')).toEqual([]);
  });
});
