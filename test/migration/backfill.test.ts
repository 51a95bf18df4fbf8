import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embedSources } from '../../src/app/embed-sources.js';
import { openReembed } from '../../src/app/open.js';
import type { Reembed } from '../../src/app/reembed.js';
import { createHashingEmbedder } from '../../src/embedders/hashing.js';
import { type BackfillOptions, type BackfillProgress, BackfillRunner } from '../../src/jobs/backfill.js';
import type { Embedder } from '../../src/ports/embedder.js';
import type { JobRepository } from '../../src/ports/jobs.js';
import type { SourceRepository } from '../../src/ports/sources.js';
import type { VectorStore } from '../../src/ports/vector-store.js';
import { assertNamespaceMatchesSource, corpus, hashing, jittered, TestClock, tempApp } from './helpers.js';

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
const v1 = hashing('v1', 1);
const v2 = hashing('v2', 2);
const N = 400;

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

function runner(
  embedder: Embedder,
  options: Partial<BackfillOptions> = {},
  clock?: TestClock,
  on: Reembed = app,
): BackfillRunner {
  return new BackfillRunner(
    {
      store: on.backend.store,
      sources: on.backend.sources,
      jobs: on.backend.jobs as JobRepository,
      embedder,
      encode: embedSources,
      ...(clock ? { clock } : {}),
    },
    { collection: 'docs', namespace: 'docs@v2', ...options },
  );
}

describe('BackfillRunner', () => {
  it('resumes after an abort from the contiguous checkpoint, writing every source exactly once', async () => {
    const embedder = jittered(createHashingEmbedder(v2), 8);
    const first = runner(embedder, { settings: { batchSize: 10, concurrency: 4 } });
    const progress: BackfillProgress[] = [];
    first.on('progress', (p: BackfillProgress) => progress.push(p));
    const stop = new AbortController();
    // Halfway by documents, not by the number of progress events: batches that finish together commit
    // as one group with one event, so a loaded machine may send fewer events than there are batches.
    first.on('batch', () => {
      if ((progress.at(-1)?.done ?? 0) >= N / 2) stop.abort();
    });
    const aborted = await first.run({ signal: stop.signal });
    expect(aborted.status).toBe('aborted');
    expect(aborted.written).toBeGreaterThan(0);
    expect(aborted.written).toBeLessThan(N);
    expect(progress.every((p, i) => i === 0 || p.done >= (progress[i - 1] as BackfillProgress).done)).toBe(
      true,
    );
    expect(progress.at(-1)).toMatchObject({ total: N, jobId: 'backfill:docs@v2' });
    expect(progress.at(-1)?.rate).toBeGreaterThan(0);
    expect(progress.at(-1)?.etaSeconds).toBeGreaterThan(0);

    const resumed = await runner(embedder, { settings: { batchSize: 10, concurrency: 4 } }).run();
    expect(resumed.status).toBe('done');
    // Only the batches in flight at the abort are looked at again.
    expect(resumed.skipped).toBeLessThanOrEqual(4 * 10);
    expect(aborted.written + resumed.written).toBe(N);
    const job = await app.backend.jobs?.getJob('backfill:docs@v2');
    expect(job).toMatchObject({ state: 'done', pass: 1, counters: { written: N } });
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);

    // A finished job run again starts a fresh pass that finds everything current.
    const again = await runner(embedder).run();
    expect(again).toMatchObject({ status: 'done', written: 0, skipped: N, pass: 1 });
  });

  it('commits batches that finish together as one group, with the contiguous checkpoint', async () => {
    // A zero-latency embedder: batches finish while the previous commit runs, and join the next one.
    const r = runner(createHashingEmbedder(v2), {
      settings: { batchSize: 10, concurrency: 4 },
      readerThread: 'off',
    });
    const groups: number[] = [];
    let docs = 0;
    r.on('batch', (e: { batches: number; docs: number }) => {
      groups.push(e.batches);
      docs += e.docs;
    });
    const report = await r.run();
    expect(report).toMatchObject({ status: 'done', written: N, done: N });
    expect(docs).toBe(N);
    expect(groups.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(N / 10);
    expect(Math.max(...groups)).toBeGreaterThan(1);
    expect(groups.length).toBeLessThan(N / 10);
    const saved = await (app.backend.jobs as JobRepository).checkpoint('backfill:docs@v2#0');
    expect(saved?.processed).toBe(N);
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });

  it('never overwrites a newer dual-write (invariant 4) and never resurrects a delete (invariant 5)', async () => {
    const waiting: (() => void)[] = [];
    const base = createHashingEmbedder(v2);
    const held: Embedder = {
      ...base,
      embed: async (t, o) => {
        await new Promise<void>((r) => waiting.push(r));
        return base.embed(t, o);
      },
    };
    const r = runner(held, { settings: { batchSize: 5, concurrency: 1 } });
    const tick = r.tick(); // reads doc-00000..4 at version 1.., then waits inside the embedder
    while (waiting.length === 0) await new Promise((x) => setTimeout(x, 1));
    await app.ingest('docs', [{ id: 'doc-00001', text: 'rewritten while the backfill held the old text' }]);
    await app.delete('docs', ['doc-00002']);
    waiting.shift()?.();
    await tick;
    const heads = await app.backend.store.heads('docs@v2', ['doc-00000', 'doc-00001', 'doc-00002']);
    const sources = await app.backend.sources.getMany('docs', ['doc-00001', 'doc-00002']);
    expect(heads.get('doc-00001')?.sourceVersion).toBe(sources.get('doc-00001')?.version);
    expect(heads.get('doc-00001')?.contentHash).toBe(sources.get('doc-00001')?.contentHash);
    expect(heads.get('doc-00002')?.deleted).toBe(true);
    expect(heads.get('doc-00000')?.deleted).toBe(false);
  });

  it('regenerates stale records and applies tombstones the namespace missed (a crash after the source commit)', async () => {
    const r = runner(createHashingEmbedder(v2), { settings: { batchSize: 50 } });
    await r.run();
    // Source changes whose dual-writes never happened.
    await app.backend.sources.upsert('docs', [{ id: 'doc-00010', text: 'changed at the source only' }]);
    await app.backend.sources.delete('docs', ['doc-00011']);
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).not.toEqual([]);
    const pass = await runner(createHashingEmbedder(v2)).run();
    expect(pass).toMatchObject({ status: 'done', written: 2 });
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });

  it('batches by tokens as well as by count, and honours the request rate limit', async () => {
    const clock = new TestClock();
    const calls: number[] = [];
    const base = createHashingEmbedder(v2);
    const counting: Embedder = {
      ...base,
      embed: async (t, o) => {
        calls.push(t.length);
        return base.embed(t, o);
      },
    };
    const start = clock.ms;
    const report = await runner(
      counting,
      { settings: { batchSize: 100, maxBatchTokens: 60, concurrency: 2, requestsPerMinute: 600 } },
      clock,
    ).run();
    expect(report.written).toBe(N);
    // Documents hold 9-20 tokens: a 60-token budget closes a batch after a handful of them.
    expect(Math.max(...calls)).toBeLessThanOrEqual(6);
    expect(calls.length).toBeGreaterThan(N / 6);
    // 600 requests/min = 10/s with a one-second burst.
    const seconds = (clock.ms - start) / 1000;
    expect(seconds).toBeGreaterThanOrEqual((calls.length - 10) / 10 - 0.5);
  });

  describe('the source count at the start of a pass', () => {
    /** The app's sources with `count` replaced, and `readerThreads` hidden when `networked` (as Postgres has none). */
    function sourcesWith(
      count: SourceRepository['count'],
      networked: boolean,
      scans: number[],
    ): SourceRepository {
      const real = app.backend.sources;
      return new Proxy(real, {
        get(target, key) {
          if (key === 'count') return count;
          if (key === 'readerThreads' && networked) return () => null;
          if (key === 'scan')
            return (...args: Parameters<SourceRepository['scan']>) => {
              scans.push(performance.now());
              return target.scan(...args);
            };
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    }
    function runnerOver(sources: SourceRepository): BackfillRunner {
      return new BackfillRunner(
        {
          store: app.backend.store,
          sources,
          jobs: app.backend.jobs as JobRepository,
          embedder: createHashingEmbedder(v2),
          encode: embedSources,
        },
        { collection: 'docs', namespace: 'docs@v2', settings: { batchSize: 50, concurrency: 2 } },
      );
    }

    it('does not hold back the first page of a pass without a reader thread, and reports its total from the first batch', async () => {
      const scans: number[] = [];
      const real = app.backend.sources;
      // The count answers only once the pass has read a page: a pass that waited for it would never start.
      const count: SourceRepository['count'] = async (collection) => {
        while (scans.length === 0) await new Promise((r) => setTimeout(r, 2));
        return real.count(collection);
      };
      const r = runnerOver(sourcesWith(count, true, scans));
      const totals: number[] = [];
      r.on('progress', (p: BackfillProgress) => totals.push(p.total));
      const report = await r.run();
      expect(report).toMatchObject({ status: 'done', written: N, total: N });
      expect(totals.length).toBeGreaterThan(0);
      expect(totals.every((t) => t === N)).toBe(true);
    });

    it('waits for the count where it decides whether an `auto` pass takes a reader thread', async () => {
      const scans: number[] = [];
      const real = app.backend.sources;
      let countedAt = Number.POSITIVE_INFINITY;
      const count: SourceRepository['count'] = async (collection) => {
        await new Promise((r) => setTimeout(r, 20));
        const counts = await real.count(collection);
        countedAt = performance.now();
        return counts;
      };
      const report = await runnerOver(sourcesWith(count, false, scans)).run();
      expect(report).toMatchObject({ status: 'done', written: N, total: N });
      expect(scans[0] ?? 0).toBeGreaterThanOrEqual(countedAt);
    });

    it('fails the run with the error of a count that failed while the pass was reading', async () => {
      const count: SourceRepository['count'] = async () => {
        await new Promise((r) => setTimeout(r, 5));
        throw new Error('count went away');
      };
      const report = await runnerOver(sourcesWith(count, true, [])).run();
      expect(report.status).toBe('failed');
      expect(report.error?.message).toContain('count went away');
    });
  });

  it('keeps an embedded batch per worker ready behind the commits in flight, and no more', async () => {
    // A store that may commit two batches at once and holds every commit until released.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let writesStarted = 0;
    const real = app.backend.store;
    const store = new Proxy(real, {
      get(target, key) {
        if (key === 'capabilities') return { ...target.capabilities, concurrentWrites: true };
        if (key === 'write')
          return async (...args: Parameters<VectorStore['write']>) => {
            writesStarted++;
            await gate;
            return target.write(...args);
          };
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const base = createHashingEmbedder(v2);
    let embedCalls = 0;
    const embedder: Embedder = {
      ...base,
      embed: (texts, options) => {
        embedCalls++;
        return base.embed(texts, options);
      },
    };
    const concurrency = 2;
    const r = new BackfillRunner(
      {
        store,
        sources: app.backend.sources,
        jobs: app.backend.jobs as JobRepository,
        embedder,
        encode: embedSources,
      },
      { collection: 'docs', namespace: 'docs@v2', settings: { batchSize: 20, concurrency } },
    );
    const run = r.run();
    // Let the workers go as far as they may while the first commits hang.
    let seen = -1;
    while (seen !== embedCalls) {
      seen = embedCalls;
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(writesStarted).toBe(concurrency); // two commits in flight
    // Beyond them, each worker has a batch ready for the next free commit slot (so a slot is refilled
    // at once, not after an embedding call) — and memory stays bounded: nothing more is embedded.
    expect(embedCalls - writesStarted).toBeGreaterThanOrEqual(concurrency);
    expect(embedCalls).toBeLessThanOrEqual(3 * concurrency);
    release();
    expect(await run).toMatchObject({ status: 'done', written: N });
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });
});

describe('BackfillRunner: a completed pass readies the namespace for serving (VectorStore.afterBackfill)', () => {
  /** `docs` on v1 with 150 documents, and the empty target docs@v2, in an app of the test's own. */
  const seed = async (a: Reembed): Promise<void> => {
    await a.addSpace(v1);
    await a.addSpace(v2);
    await a.createCollection('docs', 'v1');
    await a.ingest('docs', corpus(150));
    await a.createNamespace('docs', v2, 'active', 'docs@v1');
  };
  it('SQLite: the HNSW index of a namespace above the threshold is built and persisted by the pass, not by the first search', async () => {
    const own = await tempApp({ ann: { threshold: 100 } });
    try {
      const a = own.app;
      await seed(a);
      const pass = runner(createHashingEmbedder(v2), { settings: { batchSize: 50 } }, undefined, a);
      const stopped = new AbortController();
      stopped.abort();
      expect((await pass.run({ signal: stopped.signal })).status).toBe('aborted');
      const store = a.backend.store as unknown as {
        describeIndex(ns: string): Promise<{ mode: string; index: { origin: string } | null }>;
      };
      expect((await store.describeIndex('docs@v2')).index).toBeNull(); // an unfinished pass builds nothing
      expect((await pass.run()).status).toBe('done');
      expect(await store.describeIndex('docs@v2')).toMatchObject({
        mode: 'hnsw',
        index: { origin: 'built' },
      });
    } finally {
      await own.cleanup();
    }
  });
  it('LanceDB: the fragments the batches left are compacted when the pass completes', async () => {
    const own = await tempApp();
    const lance = join(own.dir, 'lance');
    await own.app.close();
    const a = await openReembed({ db: own.db, lancedb: lance, actor: 'test' });
    try {
      await seed(a);
      const pass = runner(createHashingEmbedder(v2), { settings: { batchSize: 10 } }, undefined, a);
      expect((await pass.run()).status).toBe('done');
      const lancedb = await import('@lancedb/lancedb');
      const db = await lancedb.connect(lance);
      const name = (await db.tableNames()).find((t) => t.startsWith('ns_docs_v2'));
      const table = await db.openTable(name as string);
      // The batches' commits left several fragments (3 here without compaction); compaction leaves one.
      expect((await table.stats()).fragmentStats.numFragments).toBe(1);
      expect((await a.search('docs', { text: 'anything', k: 3 })).hits).toHaveLength(3);
      db.close();
    } finally {
      await a.close();
      rmSync(own.dir, { recursive: true, force: true });
    }
  });
});
