import { afterEach, describe, expect, it } from 'vitest';
import { isReembedError } from '../../core/errors.js';
import { systemClock } from '../../ports/clock.js';
import {
  axisVector,
  DIM,
  descriptorOf,
  expectCode,
  prng,
  randomVector,
  sourceWrite,
  testSpace,
} from '../../testing/fixtures.js';
import { testCatalog, testVectorStore } from '../../testing/index.js';
import { openPgBackend, type PgBackend } from './backend.js';
import { PgCatalog } from './catalog.js';
import { catalogSql } from './sql-catalog.js';
import { instrumentPool, openTestBackend, PG_SKIP_LINE, PG_URL } from './test-support.js';

/**
 * The Postgres backend against a real PostgreSQL 15 + pgvector: the shared conformance suites, then what
 * only this backend has (storage-enforced invariants, HNSW vs exact, concurrency across connections).
 */
describe('pg backend preflight', () => {
  it('names the server, hides the password and says how to provision when it cannot connect', async () => {
    const error = await expectCode(
      openPgBackend({ url: 'postgres://reembed:secret@127.0.0.1:1/reembed', schema: 't_never' }),
      'STORE_FAILED',
    );
    expect(error.message).toContain('127.0.0.1:1');
    expect(error.message).not.toContain('secret');
    expect(error.message).toContain('scripts/provision-postgres.sh');
  });
});

if (!PG_URL) {
  it.skip(PG_SKIP_LINE, () => undefined);
} else {
  testVectorStore({
    name: 'pg',
    create: async () => {
      const backend = await openTestBackend();
      return { store: backend.store, cleanup: () => backend.close() };
    },
  });

  testCatalog({
    name: 'pg',
    create: async () => {
      const backend = await openTestBackend();
      return { catalog: backend.catalog, sources: backend.sources, cleanup: () => backend.close() };
    },
  });

  describe('pg backend specifics', () => {
    let backend: PgBackend | undefined;
    const open = async (options: Parameters<typeof openTestBackend>[0] = {}): Promise<PgBackend> => {
      backend = await openTestBackend(options);
      return backend;
    };
    afterEach(async () => {
      await backend?.close();
      backend = undefined;
    });

    const v1 = testSpace('pg-v1');
    const v2 = testSpace('pg-v2');

    async function seedCatalog(b: PgBackend): Promise<void> {
      await b.catalog.addSpace(v1, 'alice');
      await b.catalog.addSpace(v2, 'alice');
      await b.catalog.createCollection('docs', 'alice');
      await b.catalog.createNamespace({ collection: 'docs', space: v1, state: 'serving' }, 'alice');
      await b.catalog.createNamespace({ collection: 'docs', space: v2, state: 'building' }, 'alice');
      await b.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@pg-v1' }, 'alice');
    }

    it('reopens an existing schema (idempotent DDL), with two backends starting at once', async () => {
      const b = await open();
      await seedCatalog(b);
      const again = await Promise.all([
        openPgBackend({ url: b.config.url, schema: b.config.schema }),
        openPgBackend({ url: b.config.url, schema: b.config.schema }),
      ]);
      for (const other of again) expect((await other.catalog.getAlias('docs')).version).toBe(1);
      await Promise.all(again.map((x) => x.close()));
      expect(b.vectorVersion).toMatch(/^\d+\.\d+/);
    });

    it('the audit log refuses UPDATE, DELETE and TRUNCATE (a trigger, not only the API)', async () => {
      const b = await open();
      await seedCatalog(b);
      const table = `"${b.config.schema}".audit_log`;
      for (const sql of [
        `UPDATE ${table} SET actor = 'mallory'`,
        `DELETE FROM ${table}`,
        `TRUNCATE ${table}`,
      ]) {
        await expect(b.pool.query(sql)).rejects.toThrow(/append-only/);
      }
      expect((await b.catalog.listAudit()).every((e) => e.actor === 'alice')).toBe(true);
    });

    it('one row per alias name is a storage rule (unique index)', async () => {
      const b = await open();
      await seedCatalog(b);
      const sql = `INSERT INTO "${b.config.schema}".aliases (name, collection, routing, serving_namespace, version, updated_at)
        VALUES ('docs', 'docs', '{}', 'docs@pg-v2', 9, now())`;
      await expect(b.pool.query(sql)).rejects.toThrow(/aliases_one_row_per_name/);
    });

    it('cutover: the alias row and its audit line commit in one transaction, or neither does', async () => {
      const b = await open();
      await seedCatalog(b);
      const log = instrumentPool(b.pool);
      const observed = new PgCatalog(log, catalogSql(b.config.schema), systemClock);
      const cut = await observed.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@pg-v2' }, 'bob');
      expect(cut.version).toBe(2);
      const client = log.entries.find(
        (e) => e.text.startsWith('UPDATE') && e.text.includes('aliases'),
      )?.client;
      const tx = log.entries
        .filter((e) => e.client === client)
        .map((e) => e.text.split(/\s+/).slice(0, 3).join(' '));
      expect(tx[0]).toBe('BEGIN');
      expect(tx.at(-1)).toBe('COMMIT');
      expect(tx.filter((t) => t.startsWith('UPDATE')).length).toBe(1);
      expect(tx.some((t) => t.startsWith('INSERT INTO') && t.includes('audit_log'))).toBe(true);

      // A crash after the alias UPDATE, before its audit line: the cutover must not be visible.
      const failing = instrumentPool(b.pool, {
        fail: (text) => text.includes('audit_log') && text.startsWith('INSERT'),
      });
      const crashing = new PgCatalog(failing, catalogSql(b.config.schema), systemClock);
      await expect(
        crashing.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@pg-v1' }, 'eve', {
          expectedVersion: 2,
        }),
      ).rejects.toThrow();
      expect(failing.entries.some((e) => e.text.startsWith('UPDATE') && e.text.includes('aliases'))).toBe(
        true,
      );
      expect(await b.catalog.getAlias('docs')).toEqual(cut);
      expect(
        (await b.catalog.listAudit({ subject: 'docs', action: 'alias.set' })).map((e) => e.actor),
      ).toEqual(['alice', 'bob']);
    });

    it('cutover under contention: one compare-and-set winner, readers never see a mixed row', async () => {
      const b = await open({ poolMax: 8 });
      await seedCatalog(b);
      const attempts = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          b.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@pg-v2' }, `w${i}`, {
            expectedVersion: 1,
          }),
        ),
      );
      expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      for (const a of attempts)
        if (a.status === 'rejected') expect(isReembedError(a.reason, 'CONFLICT')).toBe(true);
      // Flip back and forth while readers check that routing, serving_namespace and version agree.
      let flipping = true;
      const reads: Promise<void>[] = [];
      const reader = async (): Promise<void> => {
        while (flipping) {
          const { rows } = await b.pool.query<{
            routing: { namespace: string };
            serving_namespace: string;
            version: number;
          }>(
            `SELECT routing, serving_namespace, version FROM "${b.config.schema}".aliases WHERE name = 'docs'`,
          );
          const row = rows[0];
          expect(row?.routing.namespace).toBe(row?.serving_namespace);
          expect(row?.serving_namespace).toBe(row && row.version % 2 === 0 ? 'docs@pg-v2' : 'docs@pg-v1');
        }
      };
      for (let i = 0; i < 3; i++) reads.push(reader());
      for (let version = 2; version < 22; version++) {
        const next = version % 2 === 0 ? 'docs@pg-v1' : 'docs@pg-v2';
        await b.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: next }, 'flipper', {
          expectedVersion: version,
        });
      }
      flipping = false;
      await Promise.all(reads);
      expect((await b.catalog.getAlias('docs')).version).toBe(22);
    });

    it('concurrent upserts take distinct, gap-free versions (row lock on the collection counter)', async () => {
      const b = await open({ poolMax: 6 });
      await b.catalog.createCollection('docs', 'alice');
      const batches = Array.from({ length: 6 }, (_, i) =>
        [0, 1, 2].map((j) => ({ id: `b${i}-${j}`, text: `t ${i} ${j}` })),
      );
      const outcomes = await Promise.all(batches.map((docs) => b.sources.upsert('docs', docs)));
      const versions = outcomes.flatMap((o) => o.changed.map((d) => d.version)).sort((x, y) => x - y);
      expect(versions).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
      for (const o of outcomes) {
        const own = o.changed.map((d) => d.version);
        expect(own).toEqual([own[0], (own[0] as number) + 1, (own[0] as number) + 2]);
      }
    });

    it('concurrent versioned writes of one source converge on the newest version', async () => {
      const b = await open({ poolMax: 6 });
      const ns = descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      const versions = [3, 9, 1, 7, 5, 8, 2, 6, 4, 10];
      await Promise.all(
        versions.map((version) =>
          b.store.write(ns.name, v1.fingerprint, [
            sourceWrite({ id: 'a', version, vectors: [axisVector(version)] }),
          ]),
        ),
      );
      expect((await b.store.heads(ns.name, ['a'])).get('a')?.sourceVersion).toBe(10);
      const hits = await b.store.search(ns.name, {
        vector: axisVector(0),
        fingerprint: v1.fingerprint,
        k: 10,
      });
      expect(hits.map((h) => [h.chunkId, h.provenance.sourceVersion])).toEqual([['a#0', 10]]);
    });

    it('the table itself refuses records of another fingerprint or dimension', async () => {
      const b = await open();
      const ns = descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      const { rows } = await b.pool.query<{ table_name: string }>(
        `SELECT table_name FROM "${b.config.schema}".ns_meta WHERE name = $1`,
        [ns.name],
      );
      const table = `"${b.config.schema}"."${rows[0]?.table_name}"`;
      const insert = (fingerprint: string, dims: number) =>
        b.pool.query(
          `INSERT INTO ${table} (source_id, chunk_index, record_id, fingerprint, content_hash, source_version, embedded_at, text, embedding)
           VALUES ('x', 0, 'x#0', $1, 'h', 1, now(), 't', $2::vector)`,
          [fingerprint, `[${new Array(dims).fill(0.5).join(',')}]`],
        );
      await expect(insert(v2.fingerprint, DIM)).rejects.toThrow(/check constraint/);
      await expect(insert(v1.fingerprint, DIM + 1)).rejects.toThrow(/dimensions/);
      await insert(v1.fingerprint, DIM);
      expect((await b.store.stats(ns.name)).fingerprints).toEqual({ [v1.fingerprint]: 1 });
    });

    it('refuses a namespace beyond the HNSW dimension limit', async () => {
      const b = await open();
      const wide = { ...descriptorOf('docs', v1), dimension: 2001 };
      await expectCode(b.store.createNamespace(wide), 'INVALID_INPUT');
      expect(b.store.capabilities).toMatchObject({
        annIndex: true,
        maxDimension: 2000,
        sharedCatalogTransaction: true,
      });
    });

    for (const metric of ['cosine', 'dot', 'l2'] as const) {
      it(`HNSW search returns the exact top-1 on small data, and uses the index (${metric})`, async () => {
        const b = await open({ hnsw: { deferred: true } });
        const dim = 32;
        const space = testSpace(`pg-hnsw-${metric}`, { metric, dimension: dim });
        const ns = descriptorOf('docs', space);
        await b.store.createNamespace(ns);
        const random = prng(42);
        const writes = Array.from({ length: 2000 }, (_, i) =>
          sourceWrite({ id: `d${i}`, version: 1, vectors: [randomVector(random, dim)] }),
        );
        expect((await b.store.write(ns.name, space.fingerprint, writes)).records).toBe(2000);
        expect(await b.store.hasIndex(ns.name)).toBe(false);
        await b.store.buildIndex(ns.name);
        expect(await b.store.hasIndex(ns.name)).toBe(true);
        const request = (vector: Float32Array, exact: boolean) => ({
          vector,
          fingerprint: space.fingerprint,
          k: 5,
          exact,
        });
        const query = randomVector(random, dim);
        expect(await b.store.explainSearch(ns.name, request(query, false))).toMatch(
          /Index Scan using \S+_hnsw/,
        );
        expect(await b.store.explainSearch(ns.name, request(query, true))).not.toMatch(/Index Scan/);
        for (let q = 0; q < 20; q++) {
          const vector = randomVector(random, dim);
          const [ann] = await b.store.search(ns.name, request(vector, false));
          const [exact] = await b.store.search(ns.name, request(vector, true));
          expect(ann?.chunkId).toBe(exact?.chunkId);
          expect(ann?.score).toBeCloseTo(exact?.score as number, 5);
        }
      });
    }
  });
}
