import { describe, expect, it } from 'vitest';
import * as fx from '../../testing/fixtures.js';
import { testCatalog, testVectorStore } from '../../testing/index.js';
import { openSqliteBackend, type SqliteBackend } from './backend.js';
import { SCHEMA_VERSION } from './schema.js';
import { useSqliteBackends } from './test-support.js';

const tempFile = fx.tempFiles('reembed-sqlite-');

testVectorStore({
  name: 'sqlite',
  create: async () => {
    const backend = await openSqliteBackend({ path: tempFile() });
    return {
      store: backend.store,
      cleanup: () => backend.close(),
      // A row inserted with plain SQL (SQLite has no constraint on a record's fingerprint or vector
      // length), and the namespace's generation bumped so every search cache reloads.
      async plant(namespace, record) {
        backend.db
          .prepare(
            `INSERT INTO records (namespace, record_id, source_id, chunk_index, fingerprint, content_hash,
               source_version, embedded_at, tenant, metadata, text, vector)
             VALUES (?, ?, ?, 0, ?, 'planted', 1, ?, NULL, '{}', 'planted', ?)`,
          )
          .run(
            namespace,
            `${record.sourceId}#0`,
            record.sourceId,
            record.fingerprint,
            new Date().toISOString(),
            Buffer.from(record.vector.buffer, record.vector.byteOffset, record.vector.byteLength),
          );
        backend.db.prepare('UPDATE ns_meta SET generation = generation + 1 WHERE name = ?').run(namespace);
        return true;
      },
    };
  },
});

// The same suite with every namespace searched through its HNSW index (threshold 0, built by the first
// search itself), with the default background builds (searches exact until a build installs the index),
// and with exact search streamed from SQLite instead of the in-memory copy (no exact cache, no index).
testVectorStore({
  name: 'sqlite (HNSW index forced)',
  create: async () => {
    const backend = await openSqliteBackend({
      path: tempFile(),
      ann: { threshold: 0, buildOnSearch: 'inline' },
    });
    return { store: backend.store, cleanup: () => backend.close() };
  },
});

testVectorStore({
  name: 'sqlite (HNSW index built in the background)',
  create: async () => {
    const backend = await openSqliteBackend({ path: tempFile(), ann: { threshold: 0 } });
    return { store: backend.store, cleanup: () => backend.close() };
  },
});

testVectorStore({
  name: 'sqlite (exact search streamed from SQLite)',
  create: async () => {
    const backend = await openSqliteBackend({
      path: tempFile(),
      ann: { threshold: Number.POSITIVE_INFINITY, exactCacheBytes: 0 },
    });
    return { store: backend.store, cleanup: () => backend.close() };
  },
});

testCatalog({
  name: 'sqlite',
  create: async () => {
    const backend = await openSqliteBackend({ path: tempFile() });
    return { catalog: backend.catalog, sources: backend.sources, cleanup: () => backend.close() };
  },
});

const space = fx.testSpace('sq-v1');
const other = fx.testSpace('sq-v2');
const ns = fx.descriptorOf('docs', space);
/** Writes source `id` (version 1) as one chunk on `axis`. */
const put = (backend: SqliteBackend, id: string, axis: number) =>
  backend.store.write(ns.name, space.fingerprint, [
    fx.sourceWrite({ id, version: 1, vectors: [fx.axisVector(axis)] }),
  ]);
const search = (backend: SqliteBackend, k = 100, seed = 0) =>
  backend.store.search(ns.name, { vector: fx.axisVector(seed), fingerprint: space.fingerprint, k });

describe('sqlite backend specifics', () => {
  const openBackend = useSqliteBackends();
  /** Two connections to one fresh file (two processes, in production). */
  const twoConnections = async (): Promise<[SqliteBackend, SqliteBackend]> => {
    const path = tempFile();
    return [await openBackend(path), await openBackend(path)];
  };

  it('applies the schema idempotently, in WAL mode, and works in memory', async () => {
    const [first, second] = await twoConnections();
    expect(second.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(second.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(second.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(
      first.db.prepare("SELECT component, version FROM schema_version WHERE component = 'core'").all(),
    ).toEqual([{ component: 'core', version: SCHEMA_VERSION }]);
    const memory = await openBackend(':memory:');
    await memory.catalog.createCollection('docs', 'alice');
    expect((await memory.catalog.listCollections()).map((c) => c.name)).toEqual(['docs']);
  });

  it('reuses catalog reads only while nothing changed: another connection or a raw write is seen at once', async () => {
    const [a, b] = await twoConnections();
    await a.catalog.addSpace(space, 'alice');
    await a.catalog.createCollection('docs', 'alice');
    await a.catalog.addSpace(other, 'alice');
    const one = (await a.catalog.createNamespace({ collection: 'docs', space, state: 'active' }, 'alice'))
      .name;
    const two = (
      await a.catalog.createNamespace({ collection: 'docs', space: other, state: 'active' }, 'alice')
    ).name;
    const route = (namespace: string) => ({ kind: 'single' as const, namespace });
    await a.catalog.setAlias('docs', 'docs', route(one), 'alice');
    const first = await a.catalog.getAlias('docs');
    expect(await a.catalog.getAlias('docs')).toBe(first);
    // A cutover committed by another connection (another process, in production).
    await b.catalog.setAlias('docs', 'docs', route(two), 'bob');
    expect((await a.catalog.getAlias('docs')).routing).toEqual(route(two));
    // A write on this connection that bypasses the catalog (another repository sharing it).
    a.db
      .prepare("UPDATE aliases SET routing = ?, version = version + 1 WHERE name = 'docs'")
      .run(JSON.stringify(route(one)));
    expect((await a.catalog.getAlias('docs')).routing).toEqual(route(one));
    expect((await a.catalog.getNamespace(two)).state).toBe('active');
    a.db.prepare("UPDATE namespaces SET state = 'serving' WHERE name = ?").run(two);
    expect((await a.catalog.getNamespace(two)).state).toBe('serving');
  });

  it('refuses to update or delete audit rows at the storage level', async () => {
    const backend = await openBackend(tempFile());
    await backend.catalog.createCollection('docs', 'alice');
    expect(() => backend.db.prepare("UPDATE audit_log SET actor = 'mallory'").run()).toThrow(/append-only/);
    expect(() => backend.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect((await backend.catalog.listAudit()).map((e) => e.actor)).toEqual(['alice']);
  });

  it('enforces namespace states and one row per alias in the schema', async () => {
    const backend = await openBackend(tempFile());
    await backend.catalog.addSpace(space, 'alice');
    await backend.catalog.createCollection('docs', 'alice');
    await backend.catalog.createNamespace({ collection: 'docs', space, state: 'active' }, 'alice');
    expect(() => backend.db.prepare("UPDATE namespaces SET state = 'zombie'").run()).toThrow(/CHECK/);
    await backend.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: ns.name }, 'alice');
    const insertAlias = "INSERT INTO aliases VALUES ('docs', 'docs', '{}', 'docs@sq-v1', 1, 'now')";
    expect(() => backend.db.prepare(insertAlias).run()).toThrow(/UNIQUE/);
    const row = backend.db.prepare('SELECT serving_namespace FROM aliases').get();
    expect(row).toEqual({ serving_namespace: ns.name });
  });

  it('treats a tenant change as a change (it alters filtering) even when the content hash is equal', async () => {
    const backend = await openBackend(tempFile());
    await backend.catalog.createCollection('docs', 'alice');
    await backend.sources.upsert('docs', [{ id: 'a', text: 'x', tenant: 't1' }]);
    const moved = await backend.sources.upsert('docs', [{ id: 'a', text: 'x', tenant: 't2' }]);
    expect(moved.changed.map((d) => [d.tenant, d.version])).toEqual([['t2', 2]]);
  });

  it('sees writes and deletes committed by another connection to the same file', async () => {
    const [reader, writer] = await twoConnections();
    await writer.store.createNamespace(ns);
    await put(writer, 'a', 0);
    expect((await search(reader)).map((h) => h.sourceId)).toEqual(['a']);
    await put(writer, 'b', 1);
    expect((await search(reader, 100, 1)).map((h) => h.sourceId)).toEqual(['b', 'a']);
    await writer.store.delete(ns.name, [{ sourceId: 'b', sourceVersion: 2 }]);
    expect((await search(reader)).map((h) => h.sourceId)).toEqual(['a']);
    // The reader's own write after the other connection's writes must not be patched onto a stale cache.
    await put(writer, 'c', 2);
    await put(reader, 'd', 3);
    expect((await search(reader)).map((h) => h.sourceId).sort()).toEqual(['a', 'c', 'd']);
  });

  it('keeps the patched search cache identical to a fresh load through random writes and deletes', async () => {
    const path = tempFile();
    const warm = await openBackend(path);
    await warm.store.createNamespace(ns);
    const random = fx.prng(7);
    const versions = new Map<string, number>();
    await search(warm);
    for (let step = 0; step < 60; step++) {
      const id = `s${Math.floor(random() * 20)}`;
      const version = (versions.get(id) ?? 0) + 1;
      versions.set(id, version);
      if (random() < 0.3) await warm.store.delete(ns.name, [{ sourceId: id, sourceVersion: version }]);
      else {
        const chunks = 1 + Math.floor(random() * 3);
        const vectors = Array.from({ length: chunks }, () => fx.randomVector(random));
        await warm.store.write(ns.name, space.fingerprint, [
          fx.sourceWrite({ id, version, vectors, tenant: 't' }),
        ]);
      }
      if (step % 10 === 9) {
        const cold = await openBackend(path);
        for (const seed of [0, 3]) {
          const fromWarm = (await search(warm, 1000, seed)).map((h) => [h.chunkId, h.score.toFixed(5)]);
          const fromCold = (await search(cold, 1000, seed)).map((h) => [h.chunkId, h.score.toFixed(5)]);
          expect(fromWarm).toEqual(fromCold);
          const filtered = await warm.store.search(ns.name, {
            vector: fx.axisVector(seed),
            fingerprint: space.fingerprint,
            k: 1000,
            filter: { tenant: 't' },
          });
          expect(filtered.map((h) => h.chunkId)).toEqual(fromCold.map(([id]) => id));
        }
      }
    }
  });

  it('commits nothing, checkpoint included, when a statement fails inside the batch transaction', async () => {
    const backend = await openBackend(tempFile());
    await backend.store.createNamespace(ns);
    backend.db.exec(`CREATE TRIGGER fail_b BEFORE INSERT ON records WHEN NEW.source_id = 'b'
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    const writes = [
      fx.sourceWrite({ id: 'a', version: 1, vectors: [fx.axisVector(0)] }),
      fx.sourceWrite({ id: 'b', version: 1, vectors: [fx.axisVector(1)] }),
    ];
    const checkpoint = { jobId: 'job', cursor: 'b', processed: 2 };
    await fx.expectCode(
      backend.store.write(ns.name, space.fingerprint, writes, { checkpoint }),
      'STORE_FAILED',
    );
    expect(await backend.store.readCheckpoint('job')).toBeNull();
    expect((await backend.store.stats(ns.name)).records).toBe(0);
    expect((await backend.store.heads(ns.name, ['a'])).size).toBe(0);
  });

  it('joins a caller transaction, and a rollback leaves neither rows nor cached vectors', async () => {
    const [backend, other] = await twoConnections();
    await backend.store.createNamespace(ns);
    await put(backend, 'a', 0);
    await search(backend);
    let inside: Promise<{ sourceId: string }[]> | undefined;
    expect(() =>
      backend.db.transaction(() => {
        void put(backend, 'b', 1);
        inside = search(backend);
        throw new Error('caller aborts');
      })(),
    ).toThrow('caller aborts');
    expect((await inside)?.map((h) => h.sourceId).sort()).toEqual(['a', 'b']);
    // Another connection's write takes the generation the rolled-back write had reached: b must stay gone.
    await put(other, 'c', 2);
    expect((await search(backend)).map((h) => h.sourceId).sort()).toEqual(['a', 'c']);
  });

  it('counts a foreign-fingerprint record in stats but never compares a query with it', async () => {
    const backend = await openBackend(tempFile());
    await backend.store.createNamespace(ns);
    await put(backend, 'a', 0);
    backend.db
      .prepare(
        `INSERT INTO records (namespace, record_id, source_id, chunk_index, fingerprint, content_hash, source_version,
           embedded_at, tenant, metadata, text, vector) VALUES (?, 'x#0', 'x', 0, ?, 'h', 1, 'now', NULL, '{}', 'x', ?)`,
      )
      .run(ns.name, other.fingerprint, Buffer.from(new Float32Array(fx.DIM * 2).buffer));
    const stats = await backend.store.stats(ns.name);
    expect(stats.fingerprints).toEqual({ [space.fingerprint]: 1, [other.fingerprint]: 1 });
    expect(stats.dimensions).toEqual({ [String(fx.DIM)]: 1, [String(fx.DIM * 2)]: 1 });
    const fresh = await openBackend(backend.db.name);
    expect((await search(fresh)).map((h) => h.sourceId)).toEqual(['a']);
  });
});
