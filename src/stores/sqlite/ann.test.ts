import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import type { SourceWrite } from '../../core/records.js';
import {
  descriptorOf,
  prng,
  referenceScore,
  sourceWrite,
  tempFiles,
  testSpace,
} from '../../testing/index.js';
import type { SqliteAnnOptions } from './ann-config.js';
import { type AnnCandidates, AnnIndex } from './ann-index.js';
import { openSqliteBackend, type SqliteBackend } from './backend.js';
import { applySchema, SCHEMA_VERSION } from './schema.js';
import { useSqliteBackends } from './test-support.js';

const tempFile = tempFiles('reembed-ann-');

const D = 24;
const space = testSpace('ann-v1', { dimension: D });
const other = testSpace('ann-v2', { dimension: D });
const ns = descriptorOf('docs', space);

/** Vectors around 40 random centres (real data is clustered; uniform noise would make HNSW look bad). */
function clustered(n: number, seed: number): Float32Array[] {
  const random = prng(seed);
  const centres = Array.from({ length: 40 }, () => Float32Array.from({ length: D }, () => random() * 2 - 1));
  return Array.from({ length: n }, () => {
    const c = centres[Math.floor(random() * centres.length)] as Float32Array;
    return Float32Array.from(c, (x) => x + (random() * 2 - 1) * 0.35);
  });
}

function writesOf(vectors: readonly Float32Array[], from = 0, version = 1): SourceWrite[] {
  return vectors.map((v, i) =>
    sourceWrite({
      id: `d${from + i}`,
      version,
      vectors: [v],
      tenant: (from + i) % 10 === 0 ? 'rare' : 'common',
    }),
  );
}

async function fill(backend: SqliteBackend, vectors: readonly Float32Array[], from = 0, version = 1) {
  for (let i = 0; i < vectors.length; i += 500)
    await backend.store.write(
      ns.name,
      space.fingerprint,
      writesOf(vectors.slice(i, i + 500), from + i, version),
    );
}

const search = (backend: SqliteBackend, vector: Float32Array, k = 10, extra: object = {}) =>
  backend.store.search(ns.name, { vector, fingerprint: space.fingerprint, k, ...extra });

/**
 * The real index's answers, changed by `change` (a graph with unreachable nodes: usearch cannot be made to
 * strand nodes on demand): a fault injected into a real store, not a stand-in index. Restore the spy after.
 */
/** Records the candidate count of every graph search into `asked` (the searches still run); restore after. */
function countIndexSearches(asked: number[]) {
  const real = AnnIndex.prototype.search;
  return vi.spyOn(AnnIndex.prototype, 'search').mockImplementation(function (this: AnnIndex, query, count) {
    asked.push(count);
    return real.call(this, query, count);
  });
}

/** The keys held by the namespace's installed index (through a saved file's key list: `flush` saves it). */
function indexKeysOf(backend: SqliteBackend): Float64Array {
  const row = backend.db
    .prepare('SELECT keys FROM ann_indexes WHERE namespace = ?')
    .pluck()
    .get(ns.name) as Buffer;
  return new Float64Array(row.buffer.slice(row.byteOffset, row.byteOffset + row.byteLength));
}

function graphAnswers(change: (found: AnnCandidates) => AnnCandidates) {
  const real = AnnIndex.prototype.search;
  return vi.spyOn(AnnIndex.prototype, 'search').mockImplementation(function (this: AnnIndex, query, count) {
    return change(real.call(this, query, count));
  });
}

describe('sqlite store: HNSW index for large namespaces', () => {
  const openBackend = useSqliteBackends({ ann: { threshold: 200 } });

  /**
   * A backend on `path` (a fresh file by default) holding the first `upTo` of `n` clustered vectors (of
   * `seed`) in `ns`, indexed unless `build` is false; `ann` undefined keeps the describe's defaults.
   */
  async function filled(
    ann: SqliteAnnOptions | undefined,
    n: number,
    seed: number,
    { build = true, path = tempFile(), upTo = n }: { build?: boolean; path?: string; upTo?: number } = {},
  ) {
    const backend = await openBackend(path, ann);
    await backend.store.createNamespace(ns);
    const vectors = clustered(n, seed);
    await fill(backend, upTo === n ? vectors : vectors.slice(0, upTo));
    if (build) await backend.store.buildIndex(ns.name);
    return { backend, vectors };
  }

  it('is selected above the threshold, persisted beside the file, and reused by the next process', async () => {
    const path = tempFile();
    const { backend: a, vectors } = await filled(undefined, 400, 1, { path, upTo: 150, build: false });
    await search(a, vectors[0] as Float32Array);
    expect((await a.store.describeIndex(ns.name)).mode).toBe('exact');
    expect((await a.store.describeIndex(ns.name)).index).toBeNull();
    await fill(a, vectors.slice(150), 150);
    // Above the threshold the first search starts a build in the background and is answered exactly: no
    // search holds the event loop for a build.
    const hits = await search(a, vectors[0] as Float32Array);
    expect(hits).toEqual(await search(a, vectors[0] as Float32Array, 10, { exact: true }));
    expect(hits[0]?.sourceId).toBe('d0');
    expect(await a.store.describeIndex(ns.name)).toMatchObject({ mode: 'hnsw', building: true, index: null });
    await a.store.buildIndex(ns.name); // joins the build the search started
    const info = await a.store.describeIndex(ns.name);
    expect(info).toMatchObject({
      mode: 'hnsw',
      records: 400,
      index: { origin: 'built', size: 400, quantization: 'i8' },
    });
    expect(readdirSync(`${path}.ann`).filter((f) => f.endsWith('.usearch'))).toHaveLength(1);
    // The same graph answers the same: the next process must give exactly this answer from the file. (Not
    // "d7 finds itself": usearch's multi-threaded insertion leaves ~0.03-0.3% of nodes unreachable, so a
    // given record can be missed by any index built in parallel — measured, see BENCHMARKS "ANN".)
    const answers = await Promise.all([7, 42, 301].map((i) => search(a, vectors[i] as Float32Array)));
    await a.close();

    const b = await openBackend(path);
    for (const [j, i] of [7, 42, 301].entries())
      expect(await search(b, vectors[i] as Float32Array)).toEqual(answers[j]);
    expect((await b.store.describeIndex(ns.name)).index).toMatchObject({ origin: 'file', size: 400 });
  });

  it('finds the exact top 10 for most queries on clustered data, with exact scores', async () => {
    const { backend, vectors } = await filled({ threshold: 0, minCandidates: 10, oversample: 1 }, 3_000, 2);
    const queries = clustered(50, 3);
    let found = 0;
    for (const q of queries) {
      const ann = await search(backend, q);
      const exact = await search(backend, q, 10, { exact: true });
      const truth = new Set(exact.map((h) => h.sourceId));
      found += ann.filter((h) => truth.has(h.sourceId)).length;
      for (const h of ann) {
        const v = vectors[Number(h.sourceId.slice(1))] as Float32Array;
        expect(h.score).toBeCloseTo(referenceScore('cosine', q, v), 5);
      }
    }
    expect(found / (queries.length * 10)).toBeGreaterThan(0.9);
    expect((await backend.store.describeIndex(ns.name)).index?.origin).toBe('built');
  });

  it('inserts serially with buildThreads 1: every record finds itself through the index', async () => {
    // Concurrent insertion (the default) strands ~0.03-0.3% of nodes, so about one in two builds of these
    // 2,000 vectors misses at least one record; serial insertion missed none in every build measured.
    const { backend, vectors } = await filled({ threshold: 0, buildThreads: 1 }, 2_000, 4);
    const missed: number[] = [];
    for (const [i, v] of vectors.entries())
      if ((await search(backend, v, 1))[0]?.sourceId !== `d${i}`) missed.push(i);
    expect(missed).toEqual([]);
    expect((await backend.store.describeIndex(ns.name)).mode).toBe('hnsw');
    await expect(openSqliteBackend({ path: tempFile(), ann: { buildThreads: -1 } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('never returns a deleted or replaced record, whichever connection changed it', async () => {
    const path = tempFile();
    const a = await openBackend(path);
    const b = await openBackend(path);
    await a.store.createNamespace(ns);
    const vectors = clustered(600, 4);
    await fill(a, vectors);
    await a.store.buildIndex(ns.name);
    // Deleted through this connection (replayed on the index) and through another one (caught up).
    await a.store.delete(ns.name, [{ sourceId: 'd1', sourceVersion: 2 }]);
    await b.store.delete(ns.name, [{ sourceId: 'd2', sourceVersion: 2 }]);
    const moved = Float32Array.from(vectors[500] as Float32Array, (x) => -x);
    await b.store.write(ns.name, space.fingerprint, [
      sourceWrite({ id: 'd3', version: 2, vectors: [moved] }),
    ]);
    for (const id of [1, 2]) {
      const hits = await search(a, vectors[id] as Float32Array, 50);
      expect(hits.map((h) => h.sourceId)).not.toContain(`d${id}`);
    }
    // Searched with its old vector, d3 is scored by its new one (it now points the other way).
    const old = (await search(a, vectors[3] as Float32Array, 600)).find((h) => h.sourceId === 'd3');
    expect(old?.score ?? -1).toBeCloseTo(referenceScore('cosine', vectors[3] as Float32Array, moved), 5);
    const d3 = (await search(a, moved, 1))[0];
    expect(d3?.sourceId).toBe('d3');
    expect(d3?.provenance.sourceVersion).toBe(2);
    expect(d3?.score).toBeCloseTo(1, 5);
    expect((await a.store.describeIndex(ns.name)).index?.size).toBe(598);
  });

  it('keeps the index equal to the records when one call writes a source twice', async () => {
    const { backend } = await filled({ threshold: 0 }, 300, 15);
    const [a, b] = clustered(2, 16) as [Float32Array, Float32Array];
    await backend.store.write(ns.name, space.fingerprint, [
      sourceWrite({ id: 'd1', version: 2, vectors: [a] }),
      sourceWrite({ id: 'twice', version: 1, vectors: [a] }),
      sourceWrite({ id: 'd1', version: 3, vectors: [b] }),
      sourceWrite({ id: 'twice', version: 2, vectors: [b] }),
    ]);
    expect((await backend.store.describeIndex(ns.name)).index?.size).toBe(301);
    const keys = backend.db.prepare('SELECT key FROM records ORDER BY key').pluck().all() as number[];
    await backend.close();
    // The saved index holds exactly the records' keys.
    const reopened = await openBackend(backend.db.name, { threshold: 0 });
    const row = reopened.db.prepare('SELECT keys FROM ann_indexes').pluck().get() as Buffer;
    const saved = Array.from(
      new Float64Array(row.buffer.slice(row.byteOffset, row.byteOffset + row.byteLength)),
    );
    expect(saved).toEqual(keys);
  });

  it('releases the index and matrix of a namespace, and reloads them caught up on the next search', async () => {
    const path = tempFile();
    const a = await openBackend(path, { threshold: 200, exactCacheBytes: Number.POSITIVE_INFINITY });
    await a.store.createNamespace(ns);
    const vectors = clustered(700, 9);
    await fill(a, vectors.slice(0, 500));
    await a.store.buildIndex(ns.name);
    // Changes after the index was saved: the reloaded file must be caught up with them.
    await fill(a, vectors.slice(500), 500);
    await a.store.delete(ns.name, [{ sourceId: 'd3', sourceVersion: 5 }]);
    const query = vectors[600] as Float32Array;
    const approximate = await search(a, query);
    const exact = await search(a, query, 10, { exact: true });
    expect(await a.store.describeIndex(ns.name)).toMatchObject({ exactLoaded: true, index: { size: 699 } });
    await a.store.releaseIndex(ns.name);
    expect(await a.store.describeIndex(ns.name)).toMatchObject({ exactLoaded: false, index: null });
    expect(await search(a, query)).toEqual(approximate);
    // Reloaded from its file, not rebuilt; the writes and the delete made after the save hold.
    expect((await a.store.describeIndex(ns.name)).index).toMatchObject({ origin: 'file', size: 699 });
    expect(await search(a, query, 10, { exact: true })).toEqual(exact);
    expect((await search(a, vectors[3] as Float32Array, 30)).map((h) => h.sourceId)).not.toContain('d3');
    await a.store.releaseIndex('no-such-namespace');
  });

  it('keeps the exact matrices of all namespaces within one budget, least recently used evicted', async () => {
    const vectors = clustered(100, 4);
    // Room for two matrices of 100 x 24 floats, not three.
    const a = await openBackend(tempFile(), { threshold: 10_000, exactCacheBytes: 2 * 100 * D * 4 });
    const names = ['one', 'two', 'three'].map((c) => descriptorOf(c, space));
    for (const d of names) {
      await a.store.createNamespace(d);
      await a.store.write(d.name, space.fingerprint, writesOf(vectors));
    }
    const loaded = async () =>
      Promise.all(names.map(async (d) => (await a.store.describeIndex(d.name)).exactLoaded));
    const find = (d: (typeof names)[number]) =>
      a.store.search(d.name, { vector: vectors[5] as Float32Array, fingerprint: space.fingerprint, k: 3 });
    const first = await find(names[0] as (typeof names)[number]);
    await find(names[1] as (typeof names)[number]);
    expect(await loaded()).toEqual([true, true, false]);
    await find(names[0] as (typeof names)[number]); // one is now the most recently used
    await find(names[2] as (typeof names)[number]);
    expect(await loaded()).toEqual([true, false, true]);
    expect(await find(names[0] as (typeof names)[number])).toEqual(first);
    // A write that grows a cached matrix past the budget evicts the least recently used other one.
    await a.store.write(names[2]!.name, space.fingerprint, writesOf(clustered(20, 5), 100));
    await find(names[2] as (typeof names)[number]);
    expect(await loaded()).toEqual([false, false, true]);
  });

  it('catches up a saved file with writes and deletes made after it was saved', async () => {
    const path = tempFile();
    const { backend: a, vectors } = await filled(undefined, 700, 5, { path, upTo: 500 });
    await a.close();
    const writer = await openBackend(path, { threshold: Number.POSITIVE_INFINITY });
    await fill(writer, vectors.slice(500), 500);
    await writer.store.delete(
      ns.name,
      [10, 20, 30].map((i) => ({ sourceId: `d${i}`, sourceVersion: 5 })),
    );
    const b = await openBackend(path);
    expect((await search(b, vectors[650] as Float32Array))[0]?.sourceId).toBe('d650');
    const gone = await search(b, vectors[20] as Float32Array, 30);
    expect(gone.map((h) => h.sourceId)).not.toContain('d20');
    expect((await b.store.describeIndex(ns.name)).index).toMatchObject({ origin: 'file', size: 697 });
  });

  it('builds in slices that yield: the process serves exactly meanwhile, and writes during the build reach the index', async () => {
    const { backend, vectors } = await filled({ threshold: 200, buildThreads: 1 }, 3_000, 21, {
      upTo: 2_500,
      build: false,
    });
    let settled = false;
    const building = backend.store.buildIndex(ns.name).then((info) => {
      settled = true;
      return info;
    });
    // The first slices leave the event loop free: timers fire, searches are answered (exactly, by the
    // float32 rows: no second build runs inside the search), writes and deletes commit.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(settled).toBe(false);
    expect(await backend.store.describeIndex(ns.name)).toMatchObject({ building: true, index: null });
    const q = vectors[7] as Float32Array;
    expect(await search(backend, q)).toEqual(await search(backend, q, 10, { exact: true }));
    expect((await backend.store.describeIndex(ns.name)).index).toBeNull();
    await fill(backend, vectors.slice(2_500), 2_500);
    await backend.store.delete(
      ns.name,
      [5, 6, 2_600].map((i) => ({ sourceId: `d${i}`, sourceVersion: 9 })),
    );
    expect(settled).toBe(false);
    const again = backend.store.buildIndex(ns.name); // joins the running build
    const info = await building;
    await again;
    expect(info).toMatchObject({ mode: 'hnsw', building: false, index: { origin: 'built', size: 2_997 } });
    // The installed index holds exactly the records: none deleted during the build, all written during it.
    const keys = backend.db.prepare('SELECT key FROM records ORDER BY key').pluck().all() as number[];
    expect(Array.from(indexKeysOf(backend))).toEqual(keys);
    for (const id of [5, 6, 2_600]) {
      const hits = await search(backend, vectors[id] as Float32Array, 20);
      expect(hits.map((h) => h.sourceId)).not.toContain(`d${id}`);
    }
    expect((await search(backend, vectors[2_900] as Float32Array, 1))[0]?.sourceId).toBe('d2900');
  });

  it('rebuilds a graph full of tombstones in the background while the old graph serves', async () => {
    const { backend, vectors } = await filled({ threshold: 0, minCandidates: 50 }, 1_300, 23);
    await backend.store.delete(
      ns.name,
      Array.from({ length: 1_200 }, (_, i) => ({ sourceId: `d${i}`, sourceVersion: 9 })),
    );
    const asked: number[] = [];
    const spy = countIndexSearches(asked);
    try {
      const hits = await search(backend, vectors[1_250] as Float32Array);
      expect(asked.length).toBeGreaterThan(0); // the held graph answered
      expect(hits[0]?.sourceId).toBe('d1250');
      expect(hits.every((h) => Number(h.sourceId.slice(1)) >= 1_200)).toBe(true);
    } finally {
      spy.mockRestore();
    }
    expect((await backend.store.describeIndex(ns.name)).building).toBe(true);
    await backend.store.buildIndex(ns.name);
    expect(await backend.store.describeIndex(ns.name)).toMatchObject({
      building: false,
      index: { origin: 'built', size: 100 },
    });
    expect(Array.from(indexKeysOf(backend))).toEqual(
      backend.db.prepare('SELECT key FROM records ORDER BY key').pluck().all(),
    );
  });

  it('builds inside the first search with buildOnSearch inline, and refuses other values', async () => {
    const { backend, vectors } = await filled({ threshold: 0, buildOnSearch: 'inline' }, 500, 24, {
      build: false,
    });
    await search(backend, vectors[3] as Float32Array);
    expect(await backend.store.describeIndex(ns.name)).toMatchObject({
      building: false,
      index: { origin: 'built', size: 500 },
    });
    await expect(
      openSqliteBackend({
        path: tempFile(),
        ann: { buildOnSearch: 'later' as unknown as 'inline' },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/buildOnSearch/) });
  });

  it('stops a build in slices when the store closes, and the next process builds it again', async () => {
    const path = tempFile();
    const { backend: a } = await filled({ threshold: 200 }, 2_000, 22, { path, build: false });
    const building = a.store.buildIndex(ns.name);
    await new Promise((resolve) => setTimeout(resolve, 0));
    await a.close();
    expect(await building).toMatchObject({ building: false, index: null });
    expect(
      existsSync(`${path}.ann`) ? readdirSync(`${path}.ann`).filter((f) => f.endsWith('.usearch')) : [],
    ).toEqual([]);
    const b = await openBackend(path, { threshold: 200 });
    expect(await b.store.buildIndex(ns.name)).toMatchObject({ index: { origin: 'built', size: 2_000 } });
  });

  it('rebuilds instead of trusting a torn, foreign or differently built file', async () => {
    const path = tempFile();
    const { backend: a, vectors } = await filled(undefined, 400, 6, { path });
    await a.close();
    const file = (): string => {
      const name = readdirSync(`${path}.ann`).find((f) => f.endsWith('.usearch')) as string;
      return join(`${path}.ann`, name);
    };
    truncateSync(file(), Math.floor(statSync(file()).size / 2));
    const b = await openBackend(path);
    expect((await search(b, vectors[3] as Float32Array))[0]?.sourceId).toBe('d3');
    await b.store.buildIndex(ns.name);
    expect((await b.store.describeIndex(ns.name)).index?.origin).toBe('built');
    await b.close();

    // Same size, other content: the index of another namespace of the same shape, copied over this one's.
    const twin = descriptorOf('twin', space);
    const c = await openBackend(path);
    await c.store.createNamespace(twin);
    await c.store.write(twin.name, space.fingerprint, writesOf(clustered(400, 7)));
    await c.store.buildIndex(twin.name);
    await c.close();
    const names = readdirSync(`${path}.ann`).filter((f) => f.endsWith('.usearch'));
    const mine = names.find((f) => f.startsWith('docs')) as string;
    const theirs = names.find((f) => f.startsWith('twin')) as string;
    writeFileSync(join(`${path}.ann`, mine), readFileSync(join(`${path}.ann`, theirs)));
    const d = await openBackend(path);
    // Make the row agree with the copied file's size, so only the content gives it away.
    d.db
      .prepare('UPDATE ann_indexes SET bytes = ? WHERE namespace = ?')
      .run(statSync(join(`${path}.ann`, mine)).size, ns.name);
    for (const i of [0, 100, 200, 300]) {
      const hits = await search(d, vectors[i] as Float32Array);
      expect(hits[0]?.sourceId).toBe(`d${i}`);
      expect(hits.every((h) => h.provenance.fingerprint === space.fingerprint)).toBe(true);
    }
    // The first search found the file's keys pointing at the twin's records, answered exactly and forgot
    // the file; the next one started a build in the background (answered exactly meanwhile).
    await d.store.buildIndex(ns.name);
    expect((await d.store.describeIndex(ns.name)).index?.origin).toBe('built');
    for (const i of [0, 100, 200, 300])
      expect((await search(d, vectors[i] as Float32Array))[0]?.sourceId).toBe(`d${i}`);
    await d.close();

    const f = await openBackend(path, { threshold: 200, connectivity: 8 });
    await search(f, vectors[0] as Float32Array);
    await f.store.buildIndex(ns.name);
    expect((await f.store.describeIndex(ns.name)).index).toMatchObject({ origin: 'built', connectivity: 8 });
  });

  it('keeps a foreign-fingerprint row out of every result', async () => {
    const { backend, vectors } = await filled({ threshold: 0 }, 300, 8, { build: false });
    const query = vectors[5] as Float32Array;
    backend.db
      .prepare(
        `INSERT INTO records (namespace, record_id, source_id, chunk_index, fingerprint, content_hash, source_version,
           embedded_at, tenant, metadata, text, vector) VALUES (?, 'x#0', 'x', 0, ?, 'h', 1, 'now', NULL, '{}', 'x', ?)`,
      )
      .run(ns.name, other.fingerprint, Buffer.from(Float32Array.from(query).buffer));
    // The foreign row bumps nothing: the index catches it up only through a generation change.
    await backend.store.write(ns.name, space.fingerprint, writesOf(clustered(1, 9), 300));
    for (const exact of [false, true]) {
      const hits = await search(backend, query, 20, { exact });
      expect(hits[0]?.sourceId).toBe('d5');
      expect(hits.map((h) => h.sourceId)).not.toContain('x');
    }
  });

  it('answers filters from the index while enough candidates pass, exactly when the filter is selective', async () => {
    const { backend } = await filled({ threshold: 0, maxCandidates: 256 }, 3_000, 10, { build: false });
    const queries = clustered(20, 11);
    for (const filter of [{ tenant: 'common' }, { tenant: 'rare' }, { tenant: 'nobody' }]) {
      for (const q of queries) {
        const ann = await search(backend, q, 10, { filter });
        const exact = await search(backend, q, 10, { filter, exact: true });
        expect(ann.every((h) => h.tenant === filter.tenant)).toBe(true);
        expect(ann.length).toBe(exact.length);
        const truth = new Set(exact.map((h) => h.sourceId));
        expect(ann.filter((h) => truth.has(h.sourceId)).length).toBeGreaterThanOrEqual(
          Math.min(8, exact.length),
        );
      }
    }
  });

  it('chooses the path of a filtered search by the share of records that pass, before asking the index', async () => {
    // 5,000 records: tenant t0..t99 (1% each), metadata h 0/1 (50% each), independent of the vectors.
    const path = tempFile();
    const backend = await openBackend(path, { threshold: 0 });
    await backend.store.createNamespace(ns);
    const vectors = clustered(5_000, 21);
    await backend.store.write(
      ns.name,
      space.fingerprint,
      vectors.map((v, i) =>
        sourceWrite({ id: `d${i}`, version: 1, vectors: [v], tenant: `t${i % 100}`, metadata: { h: i % 2 } }),
      ),
    );
    await backend.store.buildIndex(ns.name);
    const queries = clustered(8, 22);
    const selective = { tenant: 't7' };
    const wide = { metadata: { h: 0 } };
    // Exact answers first: they put the namespace's float32 copy in memory, so an exact scan is cheap.
    const exact = new Map<object, string[][]>();
    for (const filter of [selective, wide])
      exact.set(
        filter,
        await Promise.all(
          queries.map(async (q) =>
            (await search(backend, q, 10, { filter, exact: true })).map((h) => h.sourceId),
          ),
        ),
      );
    expect((await backend.store.describeIndex(ns.name)).exactCached).toBe(true);
    const asked: number[] = [];
    const counting = countIndexSearches(asked);
    try {
      // 1% pass: answered by the exact scan of the in-memory copy; the index is not asked at all.
      for (const [i, q] of queries.entries()) {
        const hits = await search(backend, q, 10, { filter: selective });
        expect(hits.map((h) => h.sourceId)).toEqual(exact.get(selective)?.[i]);
      }
      expect(asked).toEqual([]);
      // 50% pass: through the index.
      for (const [i, q] of queries.entries()) {
        const hits = await search(backend, q, 10, { filter: wide });
        expect(hits).toHaveLength(10);
        const truth = new Set(exact.get(wide)?.[i]);
        expect(hits.filter((h) => truth.has(h.sourceId)).length).toBeGreaterThanOrEqual(8);
      }
      expect(asked.length).toBeGreaterThanOrEqual(queries.length);
    } finally {
      counting.mockRestore();
    }
    // Without the copy in memory (an exact scan would stream every row from SQLite), the same 1% filter
    // escalates through the index instead.
    const streaming = await openBackend(path, { threshold: 0, exactCacheBytes: 0 });
    asked.length = 0;
    const again = countIndexSearches(asked);
    try {
      const q = queries[0] as Float32Array;
      const hits = await streaming.store.search(ns.name, {
        vector: q,
        fingerprint: space.fingerprint,
        k: 10,
        filter: selective,
      });
      expect(hits.every((h) => h.tenant === 't7')).toBe(true);
      expect(asked.length).toBeGreaterThan(0);
    } finally {
      again.mockRestore();
    }
  });

  it('scans exactly when the graph returns fewer keys than asked and too few pass (stranded nodes)', async () => {
    // No float32 copy in memory: with one, a 10% filter on 60 records would be scanned before any round.
    const { backend } = await filled({ threshold: 0, exactCacheBytes: 0 }, 60, 12);
    const q = clustered(1, 13)[0] as Float32Array;
    const filter = { tenant: 'rare' };
    const exact = await search(backend, q, 10, { filter, exact: true });
    expect(exact).toHaveLength(6);
    const spy = graphAnswers((found) => {
      const keep = Math.floor(found.keys.length / 3);
      return { keys: found.keys.slice(0, keep), distances: found.distances.slice(0, keep) };
    });
    try {
      const ann = await search(backend, q, 10, { filter });
      expect(spy).toHaveBeenCalled();
      expect(ann.map((h) => h.sourceId)).toEqual(exact.map((h) => h.sourceId));
    } finally {
      spy.mockRestore();
    }
  });

  it('scans exactly when an unreachable record is the best match, though enough others passed', async () => {
    const { backend, vectors } = await filled({ threshold: 0 }, 60, 14);
    const q = vectors[5] as Float32Array;
    const exact = await search(backend, q, 5, { exact: true });
    expect(exact[0]?.sourceId).toBe('d5');
    // The graph leaves out the query's own record (unreachable), and returns every other one.
    const spy = graphAnswers((found) => ({ keys: found.keys.slice(1), distances: found.distances.slice(1) }));
    try {
      const ann = await search(backend, q, 5);
      expect(spy).toHaveBeenCalled();
      expect(ann.map((h) => h.sourceId)).toEqual(exact.map((h) => h.sourceId));
    } finally {
      spy.mockRestore();
    }
  });

  it('follows a caller transaction only once it commits', async () => {
    const path = tempFile();
    const { backend, vectors } = await filled({ threshold: 0 }, 300, 12, { path, build: false });
    await search(backend, vectors[0] as Float32Array);
    const fresh = Float32Array.from(vectors[0] as Float32Array, (x) => -x);
    expect(() =>
      backend.db.transaction(() => {
        void backend.store.write(ns.name, space.fingerprint, [
          sourceWrite({ id: 'new', version: 1, vectors: [fresh] }),
        ]);
        void backend.store.delete(ns.name, [{ sourceId: 'd0', sourceVersion: 2 }]);
        throw new Error('caller aborts');
      })(),
    ).toThrow('caller aborts');
    expect((await search(backend, fresh, 1))[0]?.sourceId).not.toBe('new');
    expect((await search(backend, vectors[0] as Float32Array, 1))[0]?.sourceId).toBe('d0');
    backend.db.transaction(() => {
      void backend.store.write(ns.name, space.fingerprint, [
        sourceWrite({ id: 'new', version: 1, vectors: [fresh] }),
      ]);
      void backend.store.delete(ns.name, [{ sourceId: 'd0', sourceVersion: 2 }]);
    })();
    expect((await search(backend, fresh, 1))[0]?.sourceId).toBe('new');
    expect((await search(backend, vectors[0] as Float32Array, 5)).map((h) => h.sourceId)).not.toContain('d0');
  });

  it('drops the index file with its namespace, and keeps in-memory databases in memory', async () => {
    const path = tempFile();
    const backend = await openBackend(path, { threshold: 0 });
    await backend.store.createNamespace(ns);
    await fill(backend, clustered(100, 13));
    await backend.store.buildIndex(ns.name);
    expect(readdirSync(`${path}.ann`).filter((f) => f.endsWith('.usearch'))).toHaveLength(1);
    await backend.store.dropNamespace(ns.name);
    expect(readdirSync(`${path}.ann`).filter((f) => f.endsWith('.usearch'))).toHaveLength(0);
    expect(backend.db.prepare('SELECT COUNT(*) AS n FROM ann_indexes').get()).toEqual({ n: 0 });

    const memory = await openBackend(':memory:', { threshold: 0 });
    await memory.store.createNamespace(ns);
    const vectors = clustered(100, 14);
    await fill(memory, vectors);
    expect((await search(memory, vectors[9] as Float32Array))[0]?.sourceId).toBe('d9');
    expect(existsSync(':memory:.ann')).toBe(false);
  });
});

describe('sqlite schema 1 → 2 (records get their stable key)', () => {
  it('copies the records of a schema-1 file, in their old order, and searches them', async () => {
    const path = tempFile();
    const db = new Database(path);
    applySchema(db, new Date().toISOString());
    // Turn the fresh file back into what schema 1 wrote: records keyed by the implicit rowid.
    db.exec(`DROP TABLE records; DROP TABLE ann_indexes; ALTER TABLE ns_meta DROP COLUMN removed;
      CREATE TABLE records (
        namespace TEXT NOT NULL REFERENCES ns_meta(name), record_id TEXT NOT NULL, source_id TEXT NOT NULL,
        chunk_index INTEGER NOT NULL, fingerprint TEXT NOT NULL, content_hash TEXT NOT NULL,
        source_version INTEGER NOT NULL, embedded_at TEXT NOT NULL, tenant TEXT,
        metadata TEXT NOT NULL DEFAULT '{}', text TEXT NOT NULL, vector BLOB NOT NULL,
        PRIMARY KEY (namespace, record_id));
      CREATE INDEX records_by_source ON records(namespace, source_id);
      UPDATE schema_version SET version = 1 WHERE component = 'core';`);
    db.prepare(
      `INSERT INTO ns_meta (name, fingerprint, space_name, dimension, metric, generation, created_at)
       VALUES (?, ?, ?, ?, 'cosine', 3, 'then')`,
    ).run(ns.name, space.fingerprint, space.name, D);
    const vectors = clustered(5, 20);
    const insert = db.prepare(
      `INSERT INTO records (namespace, record_id, source_id, chunk_index, fingerprint, content_hash, source_version,
         embedded_at, tenant, metadata, text, vector) VALUES (?, ?, ?, 0, ?, 'h', 1, 'then', NULL, '{}', 't', ?)`,
    );
    for (const i of [4, 2, 0, 1, 3])
      insert.run(
        ns.name,
        `d${i}#0`,
        `d${i}`,
        space.fingerprint,
        Buffer.from((vectors[i] as Float32Array).buffer),
      );
    db.close();

    const backend = await openSqliteBackend({ path, ann: { threshold: 0 } });
    try {
      expect(
        backend.db.prepare("SELECT version FROM schema_version WHERE component = 'core'").pluck().get(),
      ).toBe(SCHEMA_VERSION);
      expect(backend.db.prepare('SELECT key, source_id FROM records ORDER BY key').all()).toEqual(
        [4, 2, 0, 1, 3].map((i, j) => ({ key: j + 1, source_id: `d${i}` })),
      );
      for (const [i, v] of vectors.entries())
        expect((await search(backend, v, 1))[0]?.sourceId).toBe(`d${i}`);
      await backend.store.write(ns.name, space.fingerprint, writesOf(clustered(1, 21), 5));
      expect(backend.db.prepare('SELECT MAX(key) FROM records').pluck().get()).toBe(6);
    } finally {
      await backend.close();
    }
  });
});
