import { describe, expect, it } from 'vitest';
import { METRICS } from '../../core/space.js';
import type { SearchRequest } from '../../ports/vector-store.js';
import * as fx from '../../testing/fixtures.js';
import { describePgWriteSpecifics, storeOn } from './pg-write-cases.js';
import type { PgQueryable } from './pool.js';
import { exactCandidates } from './search-many.js';
import * as R from './sql-records.js';
import { tableNameOf } from './sql-records.js';
import { buildNamespaceIndex, hnswGraphBytes } from './store-namespaces.js';
import type { MetaRow } from './store-rows.js';
import { plantRecord, useTestBackend, v1, v2 } from './test-support.js';
import { unitCopy } from './write-plan.js';

/**
 * Vector-store behaviour only the Postgres backend has: invariants enforced by the table definition,
 * HNSW against exact search, and concurrent writers. Registered by pg.test.ts when REEMBED_PG_URL is set.
 */
export function describePgStoreSpecifics(): void {
  describe('pg store specifics', () => {
    const open = useTestBackend();

    it('concurrent versioned writes of one source converge on the newest version', async () => {
      const b = await open({ poolMax: 6 });
      const ns = fx.descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      const versions = [3, 9, 1, 7, 5, 8, 2, 6, 4, 10];
      await Promise.all(
        versions.map((version) =>
          b.store.write(ns.name, v1.fingerprint, [
            fx.sourceWrite({ id: 'a', version, vectors: [fx.axisVector(version)] }),
          ]),
        ),
      );
      expect((await b.store.heads(ns.name, ['a'])).get('a')?.sourceVersion).toBe(10);
      const hits = await b.store.search(ns.name, {
        vector: fx.axisVector(0),
        fingerprint: v1.fingerprint,
        k: 10,
      });
      expect(hits.map((h) => [h.chunkId, h.provenance.sourceVersion])).toEqual([['a#0', 10]]);
    });

    for (const metric of METRICS)
      it(`a batch of exact searches reads the namespace once, in pages, and answers each as search does (${metric})`, async () => {
        const b = await open();
        const s = fx.testSpace(`pages-${metric}`, { dimension: 8, metric });
        const ns = fx.descriptorOf('pages', s);
        await b.store.createNamespace(ns);
        // A small seeded generator: half the sources of integer components (ties at every rank, which
        // fall back to a scan of their own), half of fractional ones (settled by the candidates).
        let seed = 7 + metric.length;
        const next = () => {
          seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
          return seed / 2 ** 31;
        };
        const vectorOf = (i: number) =>
          Float32Array.from({ length: 8 }, () => (i % 2 === 0 ? Math.round(4 * next() - 2) : 4 * next() - 2));
        await b.store.write(
          ns.name,
          s.fingerprint,
          Array.from({ length: 300 }, (_, i) =>
            fx.sourceWrite({
              id: `s${String(i).padStart(3, '0')}`,
              version: 1,
              vectors: i % 7 === 0 ? [vectorOf(i), vectorOf(i + 1)] : [vectorOf(i)],
            }),
          ),
        );
        const requests: SearchRequest[] = Array.from({ length: 24 }, (_, i) => ({
          vector: vectorOf(i),
          fingerprint: s.fingerprint,
          k: [1, 3, 10, 40][i % 4] as number,
          exact: true,
        }));
        // Fractional queries on fractional data (no duplicates yet) have no ties at the cut: every one is
        // settled by its candidates, none falls back to a scan of its own.
        const fractional = requests.filter((_, i) => i % 2 === 1);
        const candidates = await exactCandidates(
          b.pool,
          { schema: b.config.schema, namespace: ns.name },
          { fingerprint: s.fingerprint, dimension: 8, metric },
          fractional.map((r) => ({
            vector: metric === 'cosine' ? unitCopy(r.vector as Float32Array) : (r.vector as Float32Array),
            k: r.k,
          })),
          1,
        );
        expect(candidates.every((c) => c !== null && c.sourceIds.length > 0)).toBe(true);
        // Inside the exact-search settings (index scans off, as the store's batch transaction has them)
        // every page still reads through the primary key, and the caller's setting is back afterwards.
        const client = await b.pool.connect();
        try {
          await client.query('BEGIN');
          await client.query("SELECT set_config('enable_indexscan', 'off', true)");
          const during: string[] = [];
          const watched = watchQueries(client, async (sql) => {
            if (!sql.includes('vector_send')) return;
            const { rows } = await client.query<{ s: string }>(
              "SELECT current_setting('enable_indexscan') AS s",
            );
            during.push(rows[0]?.s ?? '');
          });
          await exactCandidates(
            watched,
            { schema: b.config.schema, namespace: ns.name },
            { fingerprint: s.fingerprint, dimension: 8, metric },
            [{ vector: unitCopy(fractional[0]?.vector as Float32Array), k: 3 }],
            1,
          );
          expect(during.length).toBeGreaterThan(10);
          expect(new Set(during)).toEqual(new Set(['on']));
          const { rows } = await client.query<{ s: string }>(
            "SELECT current_setting('enable_indexscan') AS s",
          );
          expect(rows[0]?.s).toBe('off');
        } finally {
          await client.query('ROLLBACK');
          client.release();
        }
        // 60 copies of one vector: a tie of 60 rows at the cut, which only PostgreSQL's tie-break by record
        // id settles — and the ids (u, u!, u!!, …) sort one way as source ids (the pages' order) and the
        // other way as record ids (u!!#0 < u!#0 < u#0).
        const twin = vectorOf(1);
        await b.store.write(
          ns.name,
          s.fingerprint,
          Array.from({ length: 60 }, (_, i) =>
            fx.sourceWrite({ id: `u${'!'.repeat(i)}`, version: 1, vectors: [twin] }),
          ),
        );
        await b.store.delete(ns.name, [{ sourceId: 's005', sourceVersion: 2 }]);
        requests[23] = { ...(requests[23] as SearchRequest), vector: twin, k: 3 };
        const each = [];
        for (const request of requests) each.push(await b.store.search(ns.name, request));
        // 16 rows a page (the smallest): the batch crosses about 21 pages.
        const paged = await storeOn(b, b.pool, { batchPageBytes: 1 });
        expect(await paged.searchMany(ns.name, requests)).toEqual(each);
        expect(await b.store.searchMany(ns.name, requests)).toEqual(each);
      });

    it('a bulk HNSW build sizes maintenance_work_mem to the graph, never below the session setting', async () => {
      const b = await open({ hnsw: { deferred: true } });
      const ns = fx.descriptorOf('docs', v1);
      await b.store.createNamespace(ns);
      await b.store.write(
        ns.name,
        v1.fingerprint,
        Array.from({ length: 40 }, (_, i) =>
          fx.sourceWrite({ id: `d${i}`, version: 1, vectors: [fx.axisVector(i % fx.DIM)] }),
        ),
      );
      const { rows } = await b.pool.query<MetaRow>(R.metaSql(b.config.schema), [ns.name]);
      const meta = rows[0] as MetaRow;
      const buildWith = async (session: string | null, ceilingMB: number): Promise<string[]> => {
        const client = await b.pool.connect();
        const asked: string[] = [];
        try {
          await client.query('BEGIN');
          if (session) await client.query(`SET LOCAL maintenance_work_mem = '${session}'`);
          const watched = watchQueries(client, (sql, values) => {
            if (sql.includes("'maintenance_work_mem'") && values) asked.push(String(values[0]));
          });
          await buildNamespaceIndex(watched, b.config.schema, meta, ceilingMB);
        } finally {
          await client.query('ROLLBACK');
          client.release();
        }
        return asked;
      };
      // 40 rows: the graph is tiny, so the floor of 64 MB; an operator's 300 MB is kept; a 1 MB session
      // setting is raised to the floor.
      expect(await buildWith(null, 4096)).toEqual(['64MB']);
      expect(await buildWith('300MB', 4096)).toEqual(['300MB']);
      expect(await buildWith('1MB', 4096)).toEqual(['64MB']);
      expect(hnswGraphBytes(1_000_000, fx.DIM, 16)).toBeGreaterThan(64 * 2 ** 20);
    });

    it('the table itself refuses records of another fingerprint or dimension', async () => {
      const b = await open();
      const ns = fx.descriptorOf('docs', v1);
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
      await expect(insert(v2.fingerprint, fx.DIM)).rejects.toThrow(/check constraint/);
      await expect(insert(v1.fingerprint, fx.DIM + 1)).rejects.toThrow(/dimensions/);
      await insert(v1.fingerprint, fx.DIM);
      expect((await b.store.stats(ns.name)).fingerprints).toEqual({ [v1.fingerprint]: 1 });
    });

    it('a drop racing in-flight writes waits for them instead of deadlocking', async () => {
      const b = await open({ poolMax: 8 });
      const ns = fx.descriptorOf('docs', v1);
      for (let round = 0; round < 3; round++) {
        await b.store.createNamespace(ns);
        const writes = Array.from({ length: 6 }, (_, i) =>
          b.store.write(ns.name, v1.fingerprint, [
            fx.sourceWrite({ id: `s${i}`, version: 1, vectors: [fx.axisVector(i)] }),
          ]),
        );
        const outcomes = await Promise.allSettled([...writes, b.store.dropNamespace(ns.name)]);
        for (const o of outcomes) {
          // A write either committed before the drop or found the namespace gone; never a deadlock.
          if (o.status === 'rejected') expect((o.reason as { code?: string }).code).toBe('NOT_FOUND');
        }
        expect(await b.store.describeNamespace(ns.name)).toBeNull();
      }
    });

    it('refuses a namespace beyond the HNSW dimension limit', async () => {
      const b = await open();
      const wide = { ...fx.descriptorOf('docs', v1), dimension: 2001 };
      await fx.expectCode(b.store.createNamespace(wide), 'INVALID_INPUT');
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
        const space = fx.testSpace(`pg-hnsw-${metric}`, { metric, dimension: dim });
        const ns = fx.descriptorOf('docs', space);
        await b.store.createNamespace(ns);
        const random = fx.prng(42);
        const writes = Array.from({ length: 2000 }, (_, i) =>
          fx.sourceWrite({ id: `d${i}`, version: 1, vectors: [fx.randomVector(random, dim)] }),
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
        const query = fx.randomVector(random, dim);
        expect(await b.store.explainSearch(ns.name, request(query, false))).toMatch(
          /Index Scan using \S+_hnsw/,
        );
        expect(await b.store.explainSearch(ns.name, request(query, true))).not.toMatch(/Index Scan/);
        for (let q = 0; q < 20; q++) {
          const vector = fx.randomVector(random, dim);
          const [ann] = await b.store.search(ns.name, request(vector, false));
          const [exact] = await b.store.search(ns.name, request(vector, true));
          expect(ann?.chunkId).toBe(exact?.chunkId);
          expect(ann?.score).toBeCloseTo(exact?.score as number, 5);
        }
      });
    }
  });
  describe('pg store: invariant 2 in code', () => {
    const open = useTestBackend();
    it('skips rows of a foreign fingerprint at any rank while the HNSW index still serves the query', async () => {
      const b = await open();
      const dim = 32;
      const space = fx.testSpace('pg-guard', { dimension: dim });
      const foreign = fx.testSpace('pg-guard-foreign', { dimension: dim });
      const ns = fx.descriptorOf('docs', space);
      await b.store.createNamespace(ns);
      const random = fx.prng(7);
      const writes = Array.from({ length: 2000 }, (_, i) =>
        fx.sourceWrite({
          id: `d${String(i).padStart(4, '0')}`,
          version: 1,
          vectors: [fx.randomVector(random, dim)],
        }),
      );
      await b.store.write(ns.name, space.fingerprint, writes);
      await b.pool.query(`ANALYZE "${b.config.schema}"."${tableNameOf(ns.name)}"`);
      const query = fx.randomVector(random, dim);
      const request = { vector: query, fingerprint: space.fingerprint, k: 5 };
      const before = await b.store.search(ns.name, request);
      // Eight copies of the query itself, of another space: without the guard they take ranks 1-8.
      for (let i = 0; i < 8; i++)
        await plantRecord(b, ns.name, {
          sourceId: `rogue${i}`,
          fingerprint: foreign.fingerprint,
          vector: query,
        });
      expect(await b.store.explainSearch(ns.name, request)).toMatch(/Index Scan using \S+_hnsw/);
      const exact = await b.store.search(ns.name, { ...request, exact: true });
      expect(exact.map((h) => h.sourceId)).toEqual(before.map((h) => h.sourceId));
      const ann = await b.store.search(ns.name, request);
      expect(ann).toHaveLength(5);
      expect(ann.every((h) => h.provenance.fingerprint === space.fingerprint)).toBe(true);
      expect(ann[0]?.sourceId).toBe(exact[0]?.sourceId);
      expect((await b.store.stats(ns.name)).fingerprints[foreign.fingerprint]).toBe(8);
    });
  });
  describePgWriteSpecifics();
}

/** `client`, with `before` called (and awaited) ahead of every statement it is asked to run. */
function watchQueries(
  client: PgQueryable,
  before: (sql: string, values: readonly unknown[] | undefined) => void | Promise<void>,
): PgQueryable {
  return {
    query: async (text, values) => {
      await before(typeof text === 'string' ? text : text.text, values);
      return client.query(text, values);
    },
  };
}
