import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentChunks, sourceChunkTexts } from '../core/pipeline.js';
import type { SourceDocument } from '../core/records.js';
import { defineSpace } from '../core/space.js';
import type { SourceRepository } from '../ports/sources.js';
import { openSqliteBackend, type SqliteBackend } from '../stores/sqlite/backend.js';
import { decodePage, encodePage, type WireChunks } from '../stores/sqlite/reader-protocol.js';
import { readerThreadsFor } from '../stores/sqlite/reader-thread.js';
import { type ReaderThreadEvent, SourcePages } from './source-pages.js';

const dir = mkdtempSync(join(tmpdir(), 'reembed-pages-'));
let backend: SqliteBackend;
const space = defineSpace('pages', {
  provider: 'hashing',
  model: 'fnv1a',
  dimension: 8,
  chunker: { kind: 'chars', size: 40, overlap: 5 },
});
const pipeline = space.spec;
const N = 230;

beforeAll(async () => {
  backend = await openSqliteBackend({ path: join(dir, 'pages.db') });
  await backend.catalog.createCollection('docs', 'test');
  await backend.sources.upsert(
    'docs',
    Array.from({ length: N }, (_, i) => ({
      id: `d${String(i).padStart(4, '0')}`,
      // Every kind of text the pipeline treats differently: clean ASCII, whitespace to collapse,
      // non-ASCII to normalise, and texts long enough for several chunks.
      text: [
        `plain text ${i}`,
        `  spaced\t${i}  `,
        `Ｆｕｌｌ ${i} ﬁne`,
        `long ${'word '.repeat(i % 30)}${i}`,
      ][i % 4] as string,
      metadata: i % 5 === 0 ? { n: i, tag: 'x' } : {},
      tenant: i % 3 === 0 ? 't' : null,
    })),
  );
  await backend.sources.delete('docs', ['d0007', 'd0100']);
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The repository's methods bound to it, so they can be spread into a wrapper. */
function bound(repo: SourceRepository): SourceRepository {
  const proto = Object.getPrototypeOf(repo) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(proto)) {
    const value = (repo as unknown as Record<string, unknown>)[key];
    if (key !== 'constructor' && typeof value === 'function') out[key] = value.bind(repo);
  }
  return out as unknown as SourceRepository;
}

async function readAll(pages: SourcePages): Promise<SourceDocument[][]> {
  const out: SourceDocument[][] = [];
  for (;;) {
    const page = await pages.next();
    if (page.length === 0) return out;
    out.push([...page]);
  }
}

const options = { collection: 'docs', pageSize: 32, after: '' };

describe('SourcePages', () => {
  it('reads pages here from a small first page doubling to the page size, each requested when the one before arrives', async () => {
    const limits: number[] = [];
    const counting: SourceRepository = {
      ...bound(backend.sources),
      readerThreads: undefined,
      scan: (collection, o) => {
        limits.push(o.limit);
        return backend.sources.scan(collection, o);
      },
    };
    const reference = (
      await readAll(new SourcePages(backend.sources, { ...options, threadPipeline: null }))
    ).flat();
    const pages = new SourcePages(counting, {
      ...options,
      pageSize: 64,
      firstPageSize: 8,
      threadPipeline: null,
    });
    const first = await pages.next();
    expect(first).toHaveLength(8);
    await new Promise((resolve) => setImmediate(resolve));
    // The second page is being read before the caller asks for it.
    expect(limits).toEqual([8, 16]);
    const second = await pages.next();
    expect(second).toHaveLength(16);
    // A suspended pass keeps the page read ahead: nothing is skipped or read twice.
    pages.suspend();
    const rest = await readAll(pages);
    expect(rest.map((p) => p.length).slice(0, 3)).toEqual([32, 64, 64]);
    expect(limits.slice(0, 5)).toEqual([8, 16, 32, 64, 64]);
    expect([first, second, ...rest].flat()).toEqual(reference);
  });

  it('a reader thread yields the pages read here, with the chunks the pipeline produces', async () => {
    const here = await readAll(new SourcePages(backend.sources, { ...options, threadPipeline: null }));
    const events: ReaderThreadEvent[] = [];
    const threaded = new SourcePages(backend.sources, {
      ...options,
      threadPipeline: pipeline,
      threadWaitMs: 30_000,
      onThread: (e) => events.push(e),
    });
    const first = await threaded.next();
    expect(threaded.threaded).toBe(true);
    const there = [[...first], ...(await readAll(threaded))];
    expect(events).toEqual([{ state: 'started', after: '' }]);
    expect(there.map((p) => p.map((d) => d.id))).toEqual(here.map((p) => p.map((d) => d.id)));
    expect(there.flat()).toEqual(here.flat());
    for (const doc of there.flat()) {
      expect(Object.isFrozen(doc) && Object.isFrozen(doc.metadata)).toBe(true);
      if (doc.deleted) continue;
      expect(sourceChunkTexts(pipeline, doc)).toEqual(
        documentChunks(pipeline, doc.id, doc.text).map((c) => c.text),
      );
    }
    expect(await threaded.next()).toEqual([]);
  });

  it('resumes after a cursor, and a suspended thread is replaced where the last page ended', async () => {
    const all = (
      await readAll(new SourcePages(backend.sources, { ...options, threadPipeline: null }))
    ).flat();
    const pages = new SourcePages(backend.sources, {
      ...options,
      after: 'd0050',
      threadPipeline: pipeline,
      threadWaitMs: 30_000,
    });
    const first = await pages.next();
    pages.suspend();
    expect(pages.threaded).toBe(false);
    const rest = await readAll(pages);
    expect([...first, ...rest.flat()].map((d) => d.id)).toEqual(
      all.filter((d) => d.id > 'd0050').map((d) => d.id),
    );
  });

  it('falls back to reading here when the thread cannot open its reader', async () => {
    // SourcePages uses `scan` and `readerThreads` only.
    const threads = readerThreadsFor({
      module: new URL('../stores/sqlite/reader-protocol.ts', import.meta.url).href,
      exportName: 'noSuchExport',
      args: null,
    });
    const broken = {
      scan: (collection, scan) => backend.sources.scan(collection, scan),
      readerThreads: () => threads,
    } as Pick<SourceRepository, 'scan' | 'readerThreads'> as SourceRepository;
    const events: ReaderThreadEvent[] = [];
    const pages = new SourcePages(broken, {
      ...options,
      threadPipeline: pipeline,
      threadWaitMs: 30_000,
      onThread: (e) => events.push(e),
    });
    const read = (await readAll(pages)).flat();
    expect(read.length).toBe(N);
    expect(pages.threaded).toBe(false);
    expect(events).toEqual([expect.objectContaining({ state: 'failed', after: '' })]);
  });
});

describe('reader protocol', () => {
  it('packs and rebuilds documents field for field, attaching chunks for the same pipeline only', async () => {
    const docs = await backend.sources.scan('docs', { limit: 20, includeDeleted: true });
    const chunks: WireChunks[] = docs.map((d, i) => (d.deleted ? null : i % 2 ? 0 : ['one', 'two']));
    const rebuilt = decodePage(structuredClone(encodePage(docs, chunks)), pipeline);
    expect(rebuilt).toEqual(docs);
    rebuilt.forEach((doc, i) => {
      const wire = chunks[i];
      const expected =
        wire === 0 ? [doc.text] : (wire ?? documentChunks(pipeline, doc.id, doc.text).map((c) => c.text));
      expect(sourceChunkTexts(pipeline, doc)).toEqual(expected);
      // Another pipeline, or a copy of the document, computes its chunks afresh.
      expect(sourceChunkTexts({ ...pipeline, preprocessing: 'raw' }, doc)).toEqual(
        documentChunks({ ...pipeline, preprocessing: 'raw' }, doc.id, doc.text).map((c) => c.text),
      );
      expect(sourceChunkTexts(pipeline, { ...doc })).toEqual(
        documentChunks(pipeline, doc.id, doc.text).map((c) => c.text),
      );
    });
  });
});
