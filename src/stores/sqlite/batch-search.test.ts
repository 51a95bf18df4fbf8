import { describe, expect, it } from 'vitest';
import { METRICS, type Metric } from '../../core/space.js';
import type { SearchRequest } from '../../ports/vector-store.js';
import * as fx from '../../testing/fixtures.js';
import { compileFilter } from '../shared/filter.js';
import { scanExact, scanExactMany } from './exact-scan.js';
import { prepareQuery } from './row-scorer.js';
import { STORE_SQL } from './sql.js';
import type { MetaRow } from './store-rows.js';
import { useSqliteBackends } from './test-support.js';

const tempFile = fx.tempFiles('reembed-batch-');
const DIM = 32;
const ROWS = 2_600; // more than two blocks of BLOCK_ROWS, the last one partial

/**
 * Rows with exact ties (duplicated vectors, so the k-th place is often shared), near ties (a copy nudged
 * in its last bit), zero vectors, two tenants and a metadata group; some sources deleted afterwards.
 */
function corpus(seed: number): { vectors: Float32Array[]; tenant: string; group: number }[] {
  const random = fx.prng(seed);
  const out: { vectors: Float32Array[]; tenant: string; group: number }[] = [];
  for (let i = 0; i < ROWS; i++) {
    let v = fx.randomVector(random, DIM);
    const previous = out[Math.floor(random() * out.length)]?.vectors[0];
    if (previous && i % 7 === 0) v = Float32Array.from(previous);
    if (previous && i % 11 === 0) {
      v = Float32Array.from(previous);
      v[0] = Math.fround((v[0] as number) * (1 + 2 ** -23));
    }
    if (i % 97 === 0) v = new Float32Array(DIM);
    out.push({ vectors: [v], tenant: i % 3 === 0 ? 'a' : 'b', group: i % 4 });
  }
  return out;
}

function queries(seed: number, fingerprint: string, rows: { vectors: Float32Array[] }[]): SearchRequest[] {
  const random = fx.prng(seed);
  return Array.from({ length: 41 }, (_, i) => {
    // Half the queries are stored vectors: their own row and its duplicates tie at the top.
    const vector =
      i % 2 === 0
        ? ((rows[Math.floor(random() * rows.length)] as { vectors: Float32Array[] })
            .vectors[0] as Float32Array)
        : fx.randomVector(random, DIM);
    const filter =
      i % 5 === 0 ? { tenant: 'a' } : i % 5 === 1 ? { metadata: { group: { $in: [1, 2] } } } : undefined;
    return {
      vector,
      fingerprint,
      k: [1, 10, 25, 0][i % 4] as number,
      exact: true,
      ...(filter ? { filter } : {}),
    };
  });
}

describe('sqlite store: batched exact search', () => {
  const open = useSqliteBackends();

  async function seeded(metric: Metric, ann: { exactCacheBytes?: number }) {
    const backend = await open(tempFile(), { threshold: Number.POSITIVE_INFINITY, ...ann });
    const space = fx.testSpace(`batch-${metric}`, { metric, dimension: DIM });
    const d = fx.descriptorOf('batch', space);
    const rows = corpus(metric.length);
    await backend.store.createNamespace(d);
    await backend.store.write(
      d.name,
      space.fingerprint,
      rows.map((r, i) =>
        fx.sourceWrite({
          id: `s${i}`,
          version: 1,
          vectors: r.vectors,
          tenant: r.tenant,
          metadata: { group: r.group },
        }),
      ),
    );
    await backend.store.delete(
      d.name,
      rows.flatMap((_, i) => (i % 13 === 5 ? [{ sourceId: `s${i}`, sourceVersion: 2 }] : [])),
    );
    return { backend, d, space, rows };
  }

  for (const metric of METRICS) {
    it(`one streamed pass answers every request exactly as a scan per request does (${metric})`, async () => {
      const { backend, d, space, rows } = await seeded(metric, { exactCacheBytes: 0 });
      const requests = queries(7, space.fingerprint, rows);
      const sql = backend.statements;
      const { each, many } = sql.read('test', () => {
        const meta = sql.get(STORE_SQL.meta).get(d.name) as MetaRow;
        const items = requests.map((r) => ({
          query: prepareQuery(Float32Array.from(r.vector), metric),
          k: r.k,
          predicate: compileFilter(r.filter),
        }));
        return {
          each: items.map((item) => scanExact(sql, meta, item.query, item.k, item.predicate)),
          many: scanExactMany(sql, meta, items),
        };
      });
      // Same keys in the same order with the same scores, ties at the k-th place included.
      expect(many).toEqual(each);
      expect(many.some((hits) => hits.length > 0)).toBe(true);
    });

    it(`the in-memory batch and the streamed batch agree with a brute-force reference (${metric})`, async () => {
      const cached = await seeded(metric, {});
      const streamed = await seeded(metric, { exactCacheBytes: 0 });
      const requests = queries(11, cached.space.fingerprint, cached.rows);
      const fromMemory = await cached.backend.store.searchMany(cached.d.name, requests);
      const fromSqlite = await streamed.backend.store.searchMany(streamed.d.name, requests);
      expect((await cached.backend.store.describeIndex(cached.d.name)).exactCached).toBe(true);
      const live = cached.rows.map((r, i) => ({ ...r, id: `s${i}#0` })).filter((_, i) => i % 13 !== 5);
      requests.forEach((request, q) => {
        const query = Float32Array.from(request.vector);
        const passes = (r: { tenant: string; group: number }) =>
          request.filter?.tenant
            ? r.tenant === request.filter.tenant
            : request.filter?.metadata
              ? r.group === 1 || r.group === 2
              : true;
        const reference = live
          .filter(passes)
          .map((r) => fx.referenceScore(metric, query, r.vectors[0] as Float32Array))
          .sort((a, b) => b - a)
          .slice(0, request.k);
        const memory = (fromMemory[q] ?? []).map((h) => h.score);
        const sqlite = (fromSqlite[q] ?? []).map((h) => h.score);
        expect(memory.length).toBe(reference.length);
        expect(sqlite.length).toBe(reference.length);
        reference.forEach((score, i) => {
          const tolerance = 1e-5 * Math.max(1, Math.abs(score));
          expect(Math.abs((memory[i] as number) - score)).toBeLessThan(tolerance);
          expect(Math.abs((sqlite[i] as number) - score)).toBeLessThan(tolerance);
        });
      });
      // One request alone is answered as it is in the batch.
      for (const q of [0, 3, 6, 9]) {
        const request = requests[q] as SearchRequest;
        expect(await cached.backend.store.search(cached.d.name, request)).toEqual(fromMemory[q]);
        expect(await streamed.backend.store.search(streamed.d.name, request)).toEqual(fromSqlite[q]);
      }
    });
  }
});
