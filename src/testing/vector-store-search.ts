import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SearchFilter } from '../core/records.js';
import { METRICS, type Metric } from '../core/space.js';
import type { VectorStore } from '../ports/vector-store.js';
import { axisVector, DIM, descriptorOf, referenceScore, sourceWrite, testSpace } from './fixtures.js';
import type { StoreContext } from './vector-store-suite.js';

const space = testSpace('conf-search');
const ns = descriptorOf('docs', space);

/** Six sources on distinct axes with tenants and metadata to filter on. */
async function seedFiltered(store: VectorStore): Promise<void> {
  await store.createNamespace(ns);
  const docs = [
    { id: 'd0', tenant: 'acme', metadata: { lang: 'en', year: 2020, public: true } },
    { id: 'd1', tenant: 'acme', metadata: { lang: 'de', year: 2021, public: false } },
    { id: 'd2', tenant: 'globex', metadata: { lang: 'en', year: 2022, public: true } },
    { id: 'd3', tenant: 'globex', metadata: { lang: 'fr', year: 2020, public: false } },
    { id: 'd4', tenant: null, metadata: { lang: 'en' } },
    { id: 'd5', tenant: 'acme', metadata: {} },
  ];
  await store.write(
    ns.name,
    space.fingerprint,
    docs.map((d, i) =>
      sourceWrite({ id: d.id, version: 1, vectors: [axisVector(i)], tenant: d.tenant, metadata: d.metadata }),
    ),
  );
}

async function idsFor(store: VectorStore, filter: SearchFilter, k = 10): Promise<string[]> {
  const hits = await store.search(ns.name, {
    vector: axisVector(0),
    fingerprint: space.fingerprint,
    k,
    filter,
  });
  return hits.map((h) => h.sourceId).sort();
}

interface PropertyCase {
  readonly vectors: number[][];
  readonly tenants: boolean[];
  readonly query: number[];
  readonly k: number;
  readonly filtered: boolean;
}

const component = fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true });
const propertyCase = (dim: number): fc.Arbitrary<PropertyCase> =>
  fc.integer({ min: 1, max: 40 }).chain((n) =>
    fc.record({
      vectors: fc.array(fc.array(component, { minLength: dim, maxLength: dim }), {
        minLength: n,
        maxLength: n,
      }),
      tenants: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      query: fc.array(component, { minLength: dim, maxLength: dim }),
      k: fc.integer({ min: 1, max: 12 }),
      filtered: fc.boolean(),
    }),
  );

export function describeStoreSearch(ctx: StoreContext): void {
  describe('search', () => {
    it('never returns a record of another fingerprint or dimension planted behind its back (invariant 2)', async (test) => {
      if (!ctx.plant) return test.skip();
      const { store } = ctx;
      await store.createNamespace(ns);
      await store.write(
        ns.name,
        space.fingerprint,
        Array.from({ length: 12 }, (_, i) =>
          sourceWrite({ id: `ok${i}`, version: 1, vectors: [axisVector(i % DIM)] }),
        ),
      );
      const foreign = testSpace('conf-foreign');
      const query = axisVector(0);
      // The planted rows are the query itself: without a guard they would rank first.
      const planted = [
        await ctx.plant(ns.name, {
          sourceId: 'rogue-print',
          fingerprint: foreign.fingerprint,
          vector: query,
        }),
      ];
      const short = new Float32Array(Math.max(1, DIM / 2)).fill(0);
      short[0] = 1;
      planted.push(
        await ctx.plant(ns.name, { sourceId: 'rogue-dim', fingerprint: space.fingerprint, vector: short }),
      );
      expect(planted[0]).toBe(true);
      for (const exact of [false, true]) {
        const hits = await store.search(ns.name, {
          vector: query,
          fingerprint: space.fingerprint,
          k: 5,
          exact,
        });
        expect(hits).toHaveLength(5);
        expect(hits.every((h) => h.provenance.fingerprint === space.fingerprint)).toBe(true);
        expect(hits.map((h) => h.sourceId)).not.toContain('rogue-print');
        expect(hits.map((h) => h.sourceId)).not.toContain('rogue-dim');
        expect(hits[0]?.sourceId).toMatch(/^ok/);
        expect(hits[0]?.score).toBeCloseTo(1, 5);
      }
      const all = await store.search(ns.name, { vector: query, fingerprint: space.fingerprint, k: 50 });
      expect(all.map((h) => h.sourceId).sort()).toEqual(
        Array.from({ length: 12 }, (_, i) => `ok${i}`).sort(),
      );
    });

    it('returns nothing from an empty namespace', async () => {
      await ctx.store.createNamespace(ns);
      expect(
        await ctx.store.search(ns.name, { vector: axisVector(0), fingerprint: space.fingerprint, k: 5 }),
      ).toEqual([]);
    });

    it('returns every record, best first, when k exceeds the count', async () => {
      await seedFiltered(ctx.store);
      const hits = await ctx.store.search(ns.name, {
        vector: axisVector(2),
        fingerprint: space.fingerprint,
        k: 100,
      });
      expect(hits).toHaveLength(6);
      expect(hits[0]?.sourceId).toBe('d2');
      const scores = hits.map((h) => h.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    });

    it('filters by tenant, metadata equality, $in, and their conjunction', async () => {
      await seedFiltered(ctx.store);
      expect(await idsFor(ctx.store, { tenant: 'acme' })).toEqual(['d0', 'd1', 'd5']);
      expect(await idsFor(ctx.store, { metadata: { lang: 'en' } })).toEqual(['d0', 'd2', 'd4']);
      expect(await idsFor(ctx.store, { metadata: { lang: { $in: ['de', 'fr'] } } })).toEqual(['d1', 'd3']);
      expect(await idsFor(ctx.store, { metadata: { year: 2020 } })).toEqual(['d0', 'd3']);
      expect(await idsFor(ctx.store, { metadata: { public: false } })).toEqual(['d1', 'd3']);
      expect(await idsFor(ctx.store, { tenant: 'acme', metadata: { lang: 'en' } })).toEqual(['d0']);
      expect(
        await idsFor(ctx.store, { tenant: 'globex', metadata: { year: { $in: [2020, 2022] } } }),
      ).toEqual(['d2', 'd3']);
      expect(await idsFor(ctx.store, { tenant: 'nobody' })).toEqual([]);
      expect(await idsFor(ctx.store, { tenant: 'acme' }, 1)).toEqual(['d0']);
    });

    it('orders by the namespace metric: cosine ignores length, dot rewards it, l2 rewards closeness', async () => {
      const diagonal = axisVector(0, DIM, 4);
      diagonal[1] = 4;
      const vectors: Record<string, Float32Array> = {
        aligned: axisVector(0, DIM, 1),
        diagonal,
        'far-aligned': axisVector(0, DIM, 10),
      };
      const query = axisVector(0, DIM, 1.2);
      const order = async (metric: Metric): Promise<string[]> => {
        const s = testSpace(`conf-${metric}`, { metric });
        const d = descriptorOf('metric', s);
        await ctx.store.createNamespace(d);
        await ctx.store.write(
          d.name,
          s.fingerprint,
          Object.entries(vectors).map(([id, v]) => sourceWrite({ id, version: 1, vectors: [v] })),
        );
        const hits = await ctx.store.search(d.name, { vector: query, fingerprint: s.fingerprint, k: 3 });
        for (const h of hits) {
          expect(h.score).toBeCloseTo(referenceScore(metric, query, vectors[h.sourceId] as Float32Array), 4);
        }
        return hits.map((h) => h.sourceId);
      };
      expect((await order('cosine'))[2]).toBe('diagonal');
      expect(await order('dot')).toEqual(['far-aligned', 'diagonal', 'aligned']);
      expect(await order('l2')).toEqual(['aligned', 'diagonal', 'far-aligned']);
    });

    for (const metric of METRICS) {
      it(`top-k equals a brute-force reference on random data (${metric}, filtered and not)`, async () => {
        const dim = 6;
        const s = testSpace(`conf-prop-${metric}`, { metric, dimension: dim });
        let run = 0;
        await fc.assert(
          fc.asyncProperty(propertyCase(dim), async (c) => {
            const d = { ...descriptorOf(`prop${run++}`, s) };
            await ctx.store.createNamespace(d);
            const vectors = c.vectors.map((v) => Float32Array.from(v));
            await ctx.store.write(
              d.name,
              s.fingerprint,
              vectors.map((v, i) =>
                sourceWrite({ id: `r${i}`, version: 1, vectors: [v], tenant: c.tenants[i] ? 'in' : 'out' }),
              ),
            );
            const query = Float32Array.from(c.query);
            const filter = c.filtered ? { tenant: 'in' } : undefined;
            const hits = await ctx.store.search(d.name, {
              vector: query,
              fingerprint: s.fingerprint,
              k: c.k,
              filter,
            });
            const expected = vectors
              .map((v, i) => ({
                id: `r${i}`,
                score: referenceScore(metric, query, v),
                keep: !c.filtered || c.tenants[i],
              }))
              .filter((r) => r.keep)
              .sort((a, b) => b.score - a.score)
              .slice(0, c.k);
            expect(hits).toHaveLength(expected.length);
            const scale = Math.max(1, ...expected.map((e) => Math.abs(e.score)));
            hits.forEach((hit, i) => {
              const own = referenceScore(
                metric,
                query,
                vectors[Number(hit.sourceId.slice(1))] as Float32Array,
              );
              expect(Math.abs(hit.score - own)).toBeLessThan(1e-4 * scale);
              expect(Math.abs(hit.score - (expected[i]?.score as number))).toBeLessThan(1e-4 * scale);
            });
            await ctx.store.dropNamespace(d.name);
          }),
          { numRuns: 25, seed: 20_240_601 + metric.length },
        );
      });
    }
  });
}
