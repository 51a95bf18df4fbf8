import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as fx from '../../testing/fixtures.js';
import { testVectorStore } from '../../testing/index.js';
import type { LanceTableLike } from './lance-types.js';
import { openLanceDbStore } from './open.js';
import { type PlanItem, planWrite } from './plan.js';
import { readSourceState } from './read.js';
import { DESCRIPTOR_TABLE } from './schema.js';
import type { LanceDbVectorStore } from './store.js';
import { commitPlan } from './versioned-commit.js';

const root = mkdtempSync(join(tmpdir(), 'reembed-lancedb-'));
let counter = 0;
const tempDir = (): string => join(root, `db${++counter}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

testVectorStore({
  name: 'lancedb',
  create: async () => {
    const uri = tempDir();
    const store = await openLanceDbStore({ uri });
    return {
      store,
      cleanup: async () => {
        await store.close();
        rmSync(uri, { recursive: true, force: true });
      },
      // A chunk row added to the namespace's table with LanceDB's own client. The vector column is a
      // fixed-size list, so the table cannot hold a vector of another dimension (LanceDB pads a short
      // one to the column's size): such a record is not plantable.
      async plant(namespace, record) {
        const lancedb = await import('@lancedb/lancedb');
        const db = await lancedb.connect(uri);
        try {
          const descriptors = await db.openTable(DESCRIPTOR_TABLE);
          const [row] = await descriptors.query().where(`name = '${namespace}'`).toArray();
          if (Number(row?.dimension) !== record.vector.length) return false;
          const table = await db.openTable(String(row?.table_name));
          await table.add([
            {
              key: JSON.stringify([record.sourceId, `${record.sourceId}#0`]),
              kind: 'chunk',
              source_id: record.sourceId,
              record_id: `${record.sourceId}#0`,
              chunk_index: 0,
              fingerprint: record.fingerprint,
              content_hash: 'planted',
              source_version: 1,
              embedded_at: new Date().toISOString(),
              tenant: null,
              metadata: '{}',
              meta_kv: [],
              text: 'planted',
              deleted: false,
              chunk_count: 0,
              vector: Array.from(record.vector),
            },
          ]);
          return true;
        } finally {
          db.close();
        }
      },
    };
  },
});

const space = fx.testSpace('lance-v1');
const ns = fx.descriptorOf('docs', space);
const fp = space.fingerprint;

describe('lancedb store specifics', () => {
  const open: LanceDbVectorStore[] = [];
  const openStore = async (uri: string, optimizeEvery?: number): Promise<LanceDbVectorStore> => {
    const store = await openLanceDbStore(optimizeEvery ? { uri, optimizeEvery } : { uri });
    open.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });
  const ids = async (store: LanceDbVectorStore, k = 1000) =>
    (await store.search(ns.name, { vector: fx.axisVector(0), fingerprint: fp, k }))
      .map((h) => h.chunkId)
      .sort();

  it('sees writes and deletes committed by another store on the same directory', async () => {
    const uri = tempDir();
    const writer = await openStore(uri);
    const reader = await openStore(uri);
    await writer.createNamespace(ns);
    expect(await reader.describeNamespace(ns.name)).toEqual(ns);
    await writer.write(ns.name, fp, [fx.sourceWrite({ id: 'a', version: 1, vectors: [fx.axisVector(0)] })]);
    expect(await ids(reader)).toEqual(['a#0']);
    await writer.delete(ns.name, [{ sourceId: 'a', sourceVersion: 2 }]);
    expect(await ids(reader)).toEqual([]);
    expect((await reader.heads(ns.name, ['a'])).get('a')?.deleted).toBe(true);
  });

  it('reuses a batch-search snapshot only while the table version holds (own and other stores’ commits)', async () => {
    const uri = tempDir();
    const writer = await openStore(uri);
    const reader = await openStore(uri);
    await writer.createNamespace(ns);
    await writer.write(ns.name, fp, [
      fx.sourceWrite({ id: 'a', version: 1, vectors: [fx.axisVector(0)] }),
      fx.sourceWrite({ id: 'b', version: 1, vectors: [fx.axisVector(1)] }),
    ]);
    const batch = async (store: LanceDbVectorStore) =>
      (
        await store.searchMany(ns.name, [
          { vector: fx.axisVector(0), fingerprint: fp, k: 10, exact: true },
          { vector: fx.axisVector(1), fingerprint: fp, k: 10, exact: true },
        ])
      ).map((hits) => hits.map((h) => `${h.chunkId}:${h.provenance.sourceVersion}`).sort());
    expect(await batch(reader)).toEqual([
      ['a#0:1', 'b#0:1'],
      ['a#0:1', 'b#0:1'],
    ]);
    // Another process commits: the reader's held snapshot is of an older table version.
    await writer.write(ns.name, fp, [fx.sourceWrite({ id: 'c', version: 1, vectors: [fx.axisVector(0)] })]);
    await writer.delete(ns.name, [{ sourceId: 'a', sourceVersion: 2 }]);
    expect(await batch(reader)).toEqual([
      ['b#0:1', 'c#0:1'],
      ['b#0:1', 'c#0:1'],
    ]);
    // Its own commit too.
    await reader.write(ns.name, fp, [fx.sourceWrite({ id: 'b', version: 2, vectors: [fx.axisVector(2)] })]);
    expect(await batch(reader)).toEqual([
      ['b#0:2', 'c#0:1'],
      ['b#0:2', 'c#0:1'],
    ]);
  });

  it("follows another store's drop and re-creation of a namespace in another space (no stale descriptor)", async () => {
    const uri = tempDir();
    const owner = await openStore(uri);
    const reader = await openStore(uri);
    await owner.createNamespace(ns);
    await owner.write(ns.name, fp, [fx.sourceWrite({ id: 'a', version: 1, vectors: [fx.axisVector(0)] })]);
    expect(await ids(reader)).toEqual(['a#0']); // the reader has now read (and cached) the descriptor
    await owner.dropNamespace(ns.name);
    await expect(ids(reader)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const other = fx.testSpace('lance-v2');
    await owner.createNamespace({ ...fx.descriptorOf('docs', other), name: ns.name });
    await expect(ids(reader)).rejects.toMatchObject({ code: 'SPACE_MISMATCH' });
    expect(await reader.describeNamespace(ns.name)).toMatchObject({ fingerprint: other.fingerprint });
  });

  it('keeps the newest version when two stores (two processes) race on the same sources', async () => {
    const uri = tempDir();
    const a = await openStore(uri);
    const b = await openStore(uri);
    await a.createNamespace(ns);
    const random = fx.prng(11);
    for (let round = 1; round <= 4; round++) {
      const newer = round * 10;
      const older = newer - 5;
      const batch = (version: number, chunks: number) =>
        ['x', 'y', "o'q"].map((id) =>
          fx.sourceWrite({
            id,
            version,
            vectors: Array.from({ length: chunks }, () => fx.randomVector(random)),
          }),
        );
      await Promise.all([a.write(ns.name, fp, batch(newer, 1)), b.write(ns.name, fp, batch(older, 3))]);
      const hits = await a.search(ns.name, { vector: fx.axisVector(0), fingerprint: fp, k: 100 });
      expect(hits.map((h) => h.chunkId).sort()).toEqual(["o'q#0", 'x#0', 'y#0']);
      expect(new Set(hits.map((h) => h.provenance.sourceVersion))).toEqual(new Set([newer]));
      const heads = await b.heads(ns.name, ['x', 'y', "o'q"]);
      expect([...heads.values()].map((h) => h.sourceVersion)).toEqual([newer, newer, newer]);
      expect((await b.stats(ns.name)).records).toBe(3);
    }
  });

  it('round-trips source ids, tenants and metadata keys that need SQL escaping', async () => {
    const store = await openStore(tempDir());
    await store.createNamespace(ns);
    const awkward = ["it's", 'back\\slash', 'new\nline', 'unicodé 😀', "'; DROP TABLE x; --"];
    await store.write(
      ns.name,
      fp,
      awkward.map((id, i) =>
        fx.sourceWrite({
          id,
          version: 1,
          vectors: [fx.axisVector(i)],
          tenant: id,
          metadata: { [id]: id, n: i },
        }),
      ),
    );
    expect([...(await store.heads(ns.name, awkward)).keys()].sort()).toEqual([...awkward].sort());
    for (const [i, id] of awkward.entries()) {
      const byTenant = await store.search(ns.name, {
        vector: fx.axisVector(0),
        fingerprint: fp,
        k: 10,
        filter: { tenant: id },
      });
      expect(byTenant.map((h) => h.sourceId)).toEqual([id]);
      const byMeta = await store.search(ns.name, {
        vector: fx.axisVector(0),
        fingerprint: fp,
        k: 10,
        filter: { metadata: { [id]: id, n: { $in: [i, 99] } } },
      });
      expect(byMeta.map((h) => h.sourceId)).toEqual([id]);
    }
    await store.delete(
      ns.name,
      awkward.map((sourceId) => ({ sourceId, sourceVersion: 2 })),
    );
    expect(await ids(store)).toEqual([]);
    expect((await store.stats(ns.name)).tombstones).toBe(awkward.length);
  });

  it('keeps metadata types apart in filters ("3" is not 3, "true" is not true)', async () => {
    const store = await openStore(tempDir());
    await store.createNamespace(ns);
    await store.write(ns.name, fp, [
      fx.sourceWrite({ id: 'num', version: 1, vectors: [fx.axisVector(0)], metadata: { v: 3, b: true } }),
      fx.sourceWrite({ id: 'str', version: 1, vectors: [fx.axisVector(1)], metadata: { v: '3', b: 'true' } }),
      fx.sourceWrite({
        id: 'nested',
        version: 1,
        vectors: [fx.axisVector(2)],
        metadata: { v: [3], b: { x: 1 } },
      }),
    ]);
    const only = async (metadata: Record<string, string | number | boolean>) =>
      (
        await store.search(ns.name, {
          vector: fx.axisVector(0),
          fingerprint: fp,
          k: 10,
          filter: { metadata },
        })
      ).map((h) => h.sourceId);
    expect(await only({ v: 3 })).toEqual(['num']);
    expect(await only({ v: '3' })).toEqual(['str']);
    expect(await only({ b: true })).toEqual(['num']);
    expect(await only({ b: 'true' })).toEqual(['str']);
    const none = await store.search(ns.name, {
      vector: fx.axisVector(0),
      fingerprint: fp,
      k: 10,
      filter: { metadata: { v: { $in: [] } } },
    });
    expect(none).toEqual([]);
  });

  it('returns the exact filtered top-k when few rows match a large namespace', async () => {
    const store = await openStore(tempDir());
    const dim = 32;
    const s = fx.testSpace('lance-big', { dimension: dim, metric: 'l2' });
    const d = fx.descriptorOf('big', s);
    await store.createNamespace(d);
    const random = fx.prng(5);
    const vectors = Array.from({ length: 3000 }, () => fx.randomVector(random, dim));
    for (let start = 0; start < vectors.length; start += 1000) {
      await store.write(
        d.name,
        s.fingerprint,
        vectors.slice(start, start + 1000).map((v, j) => {
          const i = start + j;
          return fx.sourceWrite({ id: `r${i}`, version: 1, vectors: [v], metadata: { rare: i % 397 === 0 } });
        }),
      );
    }
    const query = fx.randomVector(random, dim);
    const expected = vectors
      .map((v, i) => ({ id: `r${i}`, score: fx.referenceScore('l2', query, v), rare: i % 397 === 0 }))
      .filter((r) => r.rare)
      .sort((x, y) => y.score - x.score)
      .slice(0, 5);
    const hits = await store.search(d.name, {
      vector: query,
      fingerprint: s.fingerprint,
      k: 5,
      filter: { metadata: { rare: true } },
    });
    expect(hits.map((h) => h.sourceId)).toEqual(expected.map((e) => e.id));
    const unfiltered = await store.search(d.name, { vector: query, fingerprint: s.fingerprint, k: 20 });
    const truth = vectors
      .map((v, i) => ({ id: `r${i}`, score: fx.referenceScore('l2', query, v) }))
      .sort((x, y) => y.score - x.score);
    expect(unfiltered.map((h) => h.sourceId)).toEqual(truth.slice(0, 20).map((t) => t.id));
  });

  it('includes zero vectors in cosine search with score 0, like the reference', async () => {
    const store = await openStore(tempDir());
    await store.createNamespace(ns);
    await store.write(ns.name, fp, [
      fx.sourceWrite({ id: 'zero', version: 1, vectors: [new Float32Array(fx.DIM)] }),
      fx.sourceWrite({ id: 'neg', version: 1, vectors: [fx.axisVector(0, fx.DIM, -1)] }),
    ]);
    const hits = await store.search(ns.name, { vector: fx.axisVector(0), fingerprint: fp, k: 5 });
    expect(hits.map((h) => [h.sourceId, Number(h.score.toFixed(4))])).toEqual([
      ['zero', 0],
      ['neg', Number(fx.referenceScore('cosine', fx.axisVector(0), fx.axisVector(0, fx.DIM, -1)).toFixed(4))],
    ]);
  });

  it('recovers from a crash between the atomic merge and the cleanup of retired chunks', async () => {
    const uri = tempDir();
    const store = await openStore(uri);
    await store.createNamespace(ns);
    await store.write(ns.name, fp, [
      fx.sourceWrite({ id: 'a', version: 1, vectors: [0, 1, 2].map((i) => fx.axisVector(i)) }),
    ]);
    const db = await (await import('@lancedb/lancedb')).connect(uri, { readConsistencyInterval: 0 });
    const name = (await db.tableNames()).find((n) => n.startsWith('ns_docs'));
    const real = (await db.openTable(name as string)) as unknown as LanceTableLike;
    const crashing = new Proxy(real, {
      get: (target, prop, receiver) =>
        prop === 'delete'
          ? () => Promise.reject(new Error('simulated crash'))
          : (Reflect.get(target, prop, receiver) as unknown),
    }) as LanceTableLike;
    const v2 = fx.sourceWrite({ id: 'a', version: 2, vectors: [fx.axisVector(4)] });
    const items: PlanItem[] = [{ op: 'write', checked: { write: v2, vectors: [fx.axisVector(4)] } }];
    const arrow = await import('apache-arrow');
    const { rowsToArrow } = await import('./batch.js');
    const { recordsSchema } = await import('./schema.js');
    await expect(
      commitPlan(
        crashing,
        ['a'],
        (state) => planWrite(items, state, fp, new Date().toISOString()),
        (plan) => rowsToArrow(arrow, recordsSchema(arrow, fx.DIM), fx.DIM, plan.rows),
      ),
    ).rejects.toThrow('simulated crash');
    expect((await real.countRows("kind = 'retired'")) > 0).toBe(true);
    const fresh = await openStore(uri);
    expect(await ids(fresh)).toEqual(['a#0']);
    expect(await fresh.stats(ns.name)).toMatchObject({ records: 1, sources: 1 });
    expect((await fresh.heads(ns.name, ['a'])).get('a')?.sourceVersion).toBe(2);
    expect((await readSourceState(real, ['a'])).sources.get('a')?.chunkKeys).toHaveLength(1);
    await fresh.write(ns.name, fp, [fx.sourceWrite({ id: 'a', version: 3, vectors: [fx.axisVector(1)] })]);
    expect(await ids(fresh)).toEqual(['a#0']);
    await fresh.optimize(ns.name);
    expect(await real.countRows("kind = 'retired'")).toBe(0);
    db.close();
  });

  it('drops a namespace into a new physical table on re-create, and sweeps orphaned tables', async () => {
    const uri = tempDir();
    const store = await openStore(uri);
    await store.createNamespace(ns);
    await store.write(ns.name, fp, [fx.sourceWrite({ id: 'a', version: 1, vectors: [fx.axisVector(0)] })]);
    const lancedb = await import('@lancedb/lancedb');
    const db = await lancedb.connect(uri);
    const orphan = (await db.tableNames()).find((n) => n.startsWith('ns_docs')) as string;
    await db.createTable(`${orphan.slice(0, -8)}deadbeef`, [{ x: 1 }]);
    await store.dropNamespace(ns.name);
    expect((await db.tableNames()).filter((n) => n.startsWith('ns_'))).toEqual([]);
    const wide = { ...ns, dimension: fx.DIM * 2 };
    await store.createNamespace(wide);
    await store.write(ns.name, fp, [
      fx.sourceWrite({ id: 'a', version: 1, vectors: [new Float32Array(fx.DIM * 2).fill(1)] }),
    ]);
    expect((await store.stats(ns.name)).dimensions).toEqual({ [String(fx.DIM * 2)]: 1 });
    db.close();
  });

  it('gives the same answers after compaction, which runs every optimizeEvery commits', async () => {
    const uri = tempDir();
    const store = await openStore(uri, 3);
    await store.createNamespace(ns);
    const random = fx.prng(3);
    for (let i = 0; i < 8; i++) {
      await store.write(ns.name, fp, [
        fx.sourceWrite({
          id: `s${i % 5}`,
          version: i + 1,
          vectors: [fx.randomVector(random), fx.randomVector(random)],
        }),
      ]);
    }
    const before = await store.search(ns.name, { vector: fx.axisVector(2), fingerprint: fp, k: 100 });
    await store.optimize(ns.name);
    const after = await store.search(ns.name, { vector: fx.axisVector(2), fingerprint: fp, k: 100 });
    expect(after.map((h) => [h.chunkId, h.score])).toEqual(before.map((h) => [h.chunkId, h.score]));
    expect(await store.stats(ns.name)).toMatchObject({ records: 10, sources: 5 });
    const db = await (await import('@lancedb/lancedb')).connect(uri);
    const table = await db.openTable((await db.tableNames()).find((n) => n.startsWith('ns_docs')) as string);
    const indexed = (await table.listIndices()).flatMap((i) => i.columns).sort();
    expect(indexed).toEqual(['key', 'kind', 'source_id']);
    db.close();
  });

  it('refuses a checkpoint (it cannot commit with the batch) and declares so in its capabilities', async () => {
    const store = await openStore(tempDir());
    await store.createNamespace(ns);
    expect(store.capabilities).toMatchObject({
      sharedCatalogTransaction: false,
      transactions: true,
      filters: true,
    });
    const write = fx.sourceWrite({ id: 'a', version: 1, vectors: [fx.axisVector(0)] });
    const checkpoint = { jobId: 'j', cursor: 'a', processed: 1 };
    await fx.expectCode(store.write(ns.name, fp, [write], { checkpoint }), 'UNSUPPORTED');
    expect((await store.stats(ns.name)).records).toBe(0);
  });

  it('validates options and fails closed calls with INVALID_STATE', async () => {
    await expect(openLanceDbStore({ uri: '' })).rejects.toMatchObject({ code: 'INVALID_SPEC' });
    const store = await openLanceDbStore({ uri: tempDir() });
    await store.close();
    await fx.expectCode(store.stats(ns.name), 'INVALID_STATE');
  });

  it('loads the LanceDB SDK and Arrow lazily: only type imports outside open.ts', () => {
    const dir = new URL('.', import.meta.url).pathname;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      const eager = source.match(/^import (?!type )[^;]*from '(@lancedb\/lancedb|apache-arrow)'/gm) ?? [];
      expect(eager, file).toEqual([]);
    }
  });
});
