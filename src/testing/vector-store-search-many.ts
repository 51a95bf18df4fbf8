import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SearchFilter } from '../core/records.js';
import { METRICS } from '../core/space.js';
import { searchMany } from '../ports/search-many.js';
import type { SearchRequest } from '../ports/vector-store.js';
import { axisVector, descriptorOf, expectCode, sourceWrite, testSpace } from './fixtures.js';
import type { StoreContext } from './vector-store-suite.js';

const DIM = 4;

interface BatchCase {
  readonly sources: readonly {
    readonly vectors: readonly number[][];
    readonly tenant: 'a' | 'b' | null;
    readonly group: number;
    readonly deleted: boolean;
  }[];
  readonly queries: readonly {
    readonly vector: readonly number[];
    readonly k: number;
    readonly filter: number;
    readonly exact: boolean;
  }[];
}

// Components from a few small integers: equal vectors and equal scores are common, so ties at the k-th
// place (and their order by chunk id) are exercised, not just distinct scores.
const component = fc.integer({ min: -2, max: 2 });
const vector = fc.array(component, { minLength: DIM, maxLength: DIM });
const batchCase: fc.Arbitrary<BatchCase> = fc.record({
  sources: fc.array(
    fc.record({
      vectors: fc.array(vector, { minLength: 1, maxLength: 2 }),
      tenant: fc.constantFrom('a' as const, 'b' as const, null),
      group: fc.integer({ min: 0, max: 2 }),
      deleted: fc.boolean(),
    }),
    { minLength: 1, maxLength: 30 },
  ),
  queries: fc.array(
    fc.record({
      vector,
      k: fc.integer({ min: 0, max: 14 }),
      filter: fc.integer({ min: 0, max: 4 }),
      exact: fc.boolean(),
    }),
    { minLength: 1, maxLength: 8 },
  ),
});

/** None, a tenant, metadata equality, `$in`, and a tenant with metadata. */
function filterOf(choice: number): SearchFilter | undefined {
  return [
    undefined,
    { tenant: 'a' },
    { metadata: { group: 1 } },
    { metadata: { group: { $in: [0, 2] } } },
    { tenant: 'b', metadata: { group: 0 } },
  ][choice];
}

export function describeStoreSearchMany(ctx: StoreContext): void {
  describe('searchMany', () => {
    for (const metric of METRICS) {
      it(`answers each request exactly as search does: hits, scores, tie order, filters, deletes (${metric})`, async () => {
        const s = testSpace(`conf-many-${metric}`, { metric, dimension: DIM });
        let run = 0;
        await fc.assert(
          fc.asyncProperty(batchCase, async (c) => {
            const d = descriptorOf(`many${run++}`, s);
            await ctx.store.createNamespace(d);
            await ctx.store.write(
              d.name,
              s.fingerprint,
              c.sources.map((src, i) =>
                sourceWrite({
                  id: `s${i}`,
                  version: 1,
                  vectors: src.vectors.map((v) => Float32Array.from(v)),
                  tenant: src.tenant,
                  metadata: { group: src.group },
                }),
              ),
            );
            const deleted = c.sources.flatMap((src, i) => (src.deleted ? [`s${i}`] : []));
            if (deleted.length > 0)
              await ctx.store.delete(
                d.name,
                deleted.map((sourceId) => ({ sourceId, sourceVersion: 2 })),
              );
            const requests: SearchRequest[] = c.queries.map((q) => {
              const filter = filterOf(q.filter);
              return {
                vector: Float32Array.from(q.vector),
                fingerprint: s.fingerprint,
                k: q.k,
                exact: q.exact,
                ...(filter ? { filter } : {}),
              };
            });
            const each = [];
            for (const request of requests) each.push(await ctx.store.search(d.name, request));
            const batched = await searchMany(ctx.store, d.name, requests);
            expect(batched).toEqual(each);
            const gone = new Set(deleted);
            for (const hits of batched) expect(hits.filter((h) => gone.has(h.sourceId))).toEqual([]);
            await ctx.store.dropNamespace(d.name);
          }),
          { numRuns: 20, seed: 20_261_206 + metric.length },
        );
      });
    }

    it('refuses the whole batch when one request is of another space or malformed', async () => {
      const s = testSpace('conf-many-guard', { dimension: DIM });
      const d = descriptorOf('guard', s);
      await ctx.store.createNamespace(d);
      await ctx.store.write(d.name, s.fingerprint, [
        sourceWrite({ id: 'x', version: 1, vectors: [axisVector(0, DIM)] }),
      ]);
      const good: SearchRequest = { vector: axisVector(0, DIM), fingerprint: s.fingerprint, k: 3 };
      const other = testSpace('conf-many-other', { dimension: DIM });
      await expectCode(
        searchMany(ctx.store, d.name, [good, { ...good, fingerprint: other.fingerprint }]),
        'SPACE_MISMATCH',
      );
      await expectCode(searchMany(ctx.store, d.name, [good, { ...good, k: -1 }]), 'INVALID_INPUT');
      await expectCode(
        searchMany(ctx.store, d.name, [good, { ...good, vector: axisVector(0, DIM + 1) }]),
        'DIMENSION_MISMATCH',
      );
      expect(await searchMany(ctx.store, d.name, [])).toEqual([]);
    });

    it('never returns a record of another fingerprint planted behind its back (invariant 2)', async (test) => {
      if (!ctx.plant) return test.skip();
      const s = testSpace('conf-many-plant', { dimension: DIM });
      const d = descriptorOf('plant', s);
      await ctx.store.createNamespace(d);
      await ctx.store.write(
        d.name,
        s.fingerprint,
        Array.from({ length: 6 }, (_, i) =>
          sourceWrite({ id: `ok${i}`, version: 1, vectors: [axisVector(i % DIM, DIM)] }),
        ),
      );
      const query = axisVector(0, DIM);
      const foreign = testSpace('conf-many-foreign', { dimension: DIM });
      expect(
        await ctx.plant(d.name, { sourceId: 'rogue', fingerprint: foreign.fingerprint, vector: query }),
      ).toBe(true);
      const request: SearchRequest = { vector: query, fingerprint: s.fingerprint, k: 10, exact: true };
      const results = await searchMany(ctx.store, d.name, [request, { ...request, exact: false }]);
      for (const hits of results) {
        expect(hits.map((h) => h.sourceId).sort()).toEqual(['ok0', 'ok1', 'ok2', 'ok3', 'ok4', 'ok5']);
        expect(hits.every((h) => h.provenance.fingerprint === s.fingerprint)).toBe(true);
      }
    });
  });
}
