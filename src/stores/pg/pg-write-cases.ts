import { describe, expect, it } from 'vitest';
import { type SourceDocument, type SourceWrite, sourceWriteOf } from '../../core/records.js';
import { systemClock } from '../../ports/clock.js';
import { axisVector, descriptorOf, expectCode, sourceWrite } from '../../testing/fixtures.js';
import type { PgBackend } from './backend.js';
import type { PgPoolLike } from './pool.js';
import { headsTable, namespaceTable, qualified } from './sql.js';
import { type PgStoreSettings, PgVectorStore } from './store.js';
import { instrumentPool, useTestBackend, v1, v2 } from './test-support.js';

/**
 * The one-statement versioned write of the Postgres store: what it sends, and the three ways it hands
 * over to the transactional write (a stale descriptor, dropped tables, a concurrent writer of the same
 * source). Registered by `describePgStoreSpecifics`.
 */
export function describePgWriteSpecifics(): void {
  describe('pg one-statement write', () => {
    const open = useTestBackend();

    it('writes a batch, its heads and its checkpoint in one statement, and replaces in one too', async () => {
      const b = await open();
      const ns = descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      const log = instrumentPool(b.pool);
      const store = await storeOn(b, log);
      await store.heads(ns.name, []); // caches the descriptor
      log.entries.length = 0;
      const checkpoint = { jobId: 'job-1', cursor: 'b', processed: 2 };
      const first = [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0), axisVector(1)] }),
        sourceWrite({ id: 'b', version: 1, vectors: [axisVector(2)] }),
      ];
      expect(await store.write(ns.name, v1.fingerprint, first, { checkpoint })).toEqual({
        written: 2,
        skipped: 0,
        records: 3,
      });
      expect(log.entries.map((e) => e.text.slice(0, 10))).toEqual(['WITH guard']);
      expect(await store.readCheckpoint('job-1')).toEqual(checkpoint);
      // A newer version of `a` with fewer chunks and a stale `b`: one statement again.
      const second = [
        sourceWrite({ id: 'a', version: 2, vectors: [axisVector(3)] }),
        sourceWrite({ id: 'b', version: 1, vectors: [axisVector(4)] }),
      ];
      expect(await store.write(ns.name, v1.fingerprint, second)).toEqual({
        written: 1,
        skipped: 1,
        records: 1,
      });
      expect(log.entries.filter((e) => e.text.startsWith('WITH guard'))).toHaveLength(2);
      expect(log.entries.some((e) => e.text === 'BEGIN')).toBe(false);
      expect(await recordsOf(b, ns.name)).toEqual(['a#0 v2', 'b#0 v1']);
      // A batch with nothing to write still commits its checkpoint, in the same single statement.
      const next = { jobId: 'job-1', cursor: 'c', processed: 3 };
      expect(await store.write(ns.name, v1.fingerprint, [], { checkpoint: next })).toEqual({
        written: 0,
        skipped: 0,
        records: 0,
      });
      expect(await store.readCheckpoint('job-1')).toEqual(next);
      // Unicode text, metadata and tenant round-trip through the binary arrays.
      const tagged = {
        ...sourceWrite({ id: 'é€😀', version: 1, vectors: [axisVector(5)] }),
        tenant: 'ténant',
        metadata: { lang: 'ελ', n: 1 },
      };
      await store.write(ns.name, v1.fingerprint, [tagged]);
      const [hit] = await store.search(ns.name, { vector: axisVector(5), fingerprint: v1.fingerprint, k: 1 });
      expect(hit).toMatchObject({
        sourceId: 'é€😀',
        text: tagged.chunks[0]?.text,
        tenant: 'ténant',
        metadata: { lang: 'ελ', n: 1 },
      });
    });

    it('a failing statement surfaces as STORE_FAILED and writes nothing', async () => {
      const b = await open();
      const ns = descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      const failing = await storeOn(
        b,
        instrumentPool(b.pool, { fail: (text) => text.startsWith('WITH guard') }),
      );
      const write = sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] });
      await expectCode(failing.write(ns.name, v1.fingerprint, [write]), 'STORE_FAILED');
      expect((await b.store.stats(ns.name)).records).toBe(0);
    });

    it('a writer that raced a concurrent commit of the same source retries in a transaction', async () => {
      const b = await open({ poolMax: 6 });
      const ns = descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      await b.store.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] }),
      ]);
      const log = instrumentPool(b.pool);
      const store = await storeOn(b, log);
      await store.heads(ns.name, []);
      // Another writer replaces `a` by version 5 with two chunks and holds its head until we commit it.
      const other = await b.pool.connect();
      const heads = qualified(b.config.schema, headsTable(ns.name));
      const records = qualified(b.config.schema, namespaceTable(ns.name));
      await other.query('BEGIN');
      await other.query(`UPDATE ${heads} SET source_version = 5, content_hash = 'h5' WHERE source_id = 'a'`);
      await other.query(`DELETE FROM ${records} WHERE source_id = 'a'`);
      for (const chunk of [0, 1]) {
        await other.query(
          `INSERT INTO ${records} (source_id, chunk_index, record_id, fingerprint, content_hash, source_version, embedded_at, text, embedding)
           VALUES ('a', $1, $2, $3, 'h5', 5, now(), 'v5', $4::vector)`,
          [chunk, `a#${chunk}`, v1.fingerprint, `[${axisVector(chunk).join(',')}]`],
        );
      }
      // Version 9 starts (and takes its snapshot) while version 5 is uncommitted, then waits for its lock.
      const writing = store.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 9, vectors: [axisVector(7)] }),
      ]);
      await waitForLockWait(b.pool);
      await other.query('COMMIT');
      other.release();
      expect(await writing).toEqual({ written: 1, skipped: 0, records: 1 });
      // Version 5's records, invisible to the statement's snapshot, are gone: only version 9 is left.
      expect(await recordsOf(b, ns.name)).toEqual(['a#0 v9']);
      expect(log.entries.map((e) => e.text.slice(0, 10))).toContain('BEGIN');
    });

    it('copies a source-text record from its source row instead of receiving the text again', async () => {
      const b = await open();
      await b.catalog.createCollection('docs', 'alice');
      const [doc] = (await b.sources.upsert('docs', [{ id: 'a', text: 'the source text of a' }])).changed;
      const ns = descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      const log = instrumentPool(b.pool);
      const store = await storeOn(b, log);
      const write = sourceOfDoc(doc as SourceDocument);
      expect(await store.write(ns.name, v1.fingerprint, [write])).toEqual({
        written: 1,
        skipped: 0,
        records: 1,
      });
      const statements = log.entries.filter((e) => e.text.startsWith('WITH guard'));
      expect(statements).toHaveLength(1);
      expect(statements[0]?.text).toContain('coalesce(c.text, (SELECT s.text FROM');
      // The client sent no text: the texts array holds a NULL, and the text came from the source row.
      const sent = Buffer.concat(
        (statements[0]?.values ?? []).filter((v): v is Buffer => Buffer.isBuffer(v)),
      );
      expect(sent.includes(Buffer.from('the source text of a'))).toBe(false);
      expect(await textsOf(b, ns.name)).toEqual(['a: the source text of a']);
      // A chunk text that is not the source's (preprocessed) is sent and stored as it is: the plain path.
      await store.write(ns.name, v1.fingerprint, [
        { ...sourceOfDoc(doc as SourceDocument, 'The Source Text Of A'), sourceVersion: 2 },
      ]);
      expect(await textsOf(b, ns.name)).toEqual(['a: The Source Text Of A']);
    });

    it('sends the text when the source row has moved on since it was read (re-ingested or deleted)', async () => {
      const b = await open();
      await b.catalog.createCollection('docs', 'alice');
      const [a1, c1] = (
        await b.sources.upsert('docs', [
          { id: 'a', text: 'a, version one' },
          { id: 'c', text: 'c, version one' },
        ])
      ).changed as SourceDocument[];
      await b.sources.upsert('docs', [{ id: 'a', text: 'a, version two' }]);
      await b.sources.delete('docs', ['c']);
      const ns = descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      const log = instrumentPool(b.pool);
      const store = await storeOn(b, log);
      const writes = [sourceOfDoc(a1 as SourceDocument), sourceOfDoc(c1 as SourceDocument)];
      expect(await store.write(ns.name, v1.fingerprint, writes)).toEqual({
        written: 2,
        skipped: 0,
        records: 2,
      });
      // The copying statement found no row at the written versions and wrote nothing; the same write
      // then went with its texts (the newer version and the tombstone reach the namespace as usual).
      const statements = log.entries.filter((e) => e.text.startsWith('WITH guard'));
      expect(statements.map((e) => e.text.includes('coalesce(c.text'))).toEqual([true, false]);
      expect(await textsOf(b, ns.name)).toEqual(['a: a, version one', 'c: c, version one']);
    });

    it('concurrent writers of overlapping sources leave exactly the newest version of each', async () => {
      const b = await open({ poolMax: 8 });
      const ns = descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      const ids = ['a', 'b', 'c'];
      const chunks = (version: number) => 1 + (version % 3); // each version replaces a different chunk count
      const batch = (versions: number[]) =>
        ids.map((id, i) =>
          sourceWrite({
            id,
            version: versions[i] as number,
            vectors: Array.from({ length: chunks(versions[i] as number) }, (_, j) => axisVector(j)),
          }),
        );
      const calls = Array.from({ length: 16 }, (_, k) =>
        batch(ids.map((_, i) => 1 + ((k * 7 + i * 5) % 16))),
      );
      await Promise.all(calls.map((writes) => b.store.write(ns.name, v1.fingerprint, writes)));
      const heads = await b.store.heads(ns.name, ids);
      const expected = ids.flatMap((id) => {
        const version = heads.get(id)?.sourceVersion as number;
        return Array.from({ length: chunks(version) }, (_, j) => `${id}#${j} v${version}`);
      });
      expect([...heads.values()].map((h) => h.sourceVersion)).toEqual([16, 16, 16]);
      expect(await recordsOf(b, ns.name)).toEqual(expected.sort());
    });

    it('a cached descriptor that went stale refuses the write without writing (re-created or dropped)', async () => {
      const b = await open();
      const ns = descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      const cached = await storeOn(b, b.pool);
      await cached.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] }),
      ]);
      // Another process drops the namespace and creates it again under the same name for another space.
      await b.store.dropNamespace(ns.name);
      await b.store.createNamespace({ ...descriptorOf('docs', v2), name: ns.name });
      const late = [sourceWrite({ id: 'late', version: 2, vectors: [axisVector(1)] })];
      await expectCode(cached.write(ns.name, v1.fingerprint, late), 'SPACE_MISMATCH');
      expect(await b.store.heads(ns.name, ['late'])).toEqual(new Map());
      expect((await b.store.stats(ns.name)).records).toBe(0);
      // Re-created for the same space: the write goes through against the new tables.
      await b.store.dropNamespace(ns.name);
      await b.store.createNamespace(ns);
      await cached.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] }),
      ]);
      expect(await cached.write(ns.name, v1.fingerprint, late)).toEqual({
        written: 1,
        skipped: 0,
        records: 1,
      });
      // Dropped for good: NOT_FOUND.
      await b.store.dropNamespace(ns.name);
      await expectCode(cached.write(ns.name, v1.fingerprint, late), 'NOT_FOUND');
    });
  });
}

/** A second store on the backend's database (its own descriptor cache), over `pool`. */
export async function storeOn(
  b: PgBackend,
  pool: PgPoolLike,
  overrides: Partial<PgStoreSettings> = {},
): Promise<PgVectorStore> {
  const { rows } = await b.pool.query<{ oid: number }>("SELECT to_regtype('vector')::oid AS oid");
  return new PgVectorStore(
    pool,
    {
      schema: b.config.schema,
      hnsw: b.config.hnsw,
      efSearch: b.config.efSearch,
      vectorOid: Number(rows[0]?.oid),
      iterativeScan: false,
      textFromSources: true,
      ...overrides,
    },
    systemClock,
  );
}

/** A write of `doc` as `embedSources` makes it: one chunk, by default its text the source's. */
function sourceOfDoc(doc: SourceDocument, text = doc.text): SourceWrite {
  return sourceWriteOf(doc, [{ chunkId: `${doc.id}#0`, index: 0, text, vector: axisVector(0) }]);
}

async function textsOf(b: PgBackend, namespace: string): Promise<string[]> {
  const { rows } = await b.pool.query<{ t: string }>(
    `SELECT source_id || ': ' || text AS t FROM ${qualified(b.config.schema, namespaceTable(namespace))} ORDER BY 1`,
  );
  return rows.map((row) => row.t);
}

async function recordsOf(b: PgBackend, namespace: string): Promise<string[]> {
  const { rows } = await b.pool.query<{ r: string }>(
    `SELECT record_id || ' v' || source_version AS r FROM ${qualified(b.config.schema, namespaceTable(namespace))} ORDER BY 1`,
  );
  return rows.map((row) => row.r);
}

/** Until a `WITH guard` write statement of this database waits for a lock. */
async function waitForLockWait(pool: PgPoolLike): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH guard%' AND datname = current_database()",
    );
    if (Number(rows[0]?.n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the write statement never waited for the lock');
}
