import { describe, expect, it } from 'vitest';
import { contentHash } from '../core/canonical.js';
import type { SourceInput } from '../core/records.js';
import type { CatalogContext } from './catalog-suite.js';
import { expectCode } from './fixtures.js';

const doc = (id: string, text = `text of ${id}`, extra: Partial<SourceInput> = {}): SourceInput => ({
  id,
  text,
  ...extra,
});

async function collection(ctx: CatalogContext, name = 'docs'): Promise<string> {
  await ctx.catalog.createCollection(name, 'alice');
  return name;
}

/** Source retention: versions, tombstones, all-or-nothing batches, hit counts (part of `testCatalog`). */
export function describeSourceRepository(ctx: CatalogContext): void {
  describe('sources', () => {
    it('takes monotonic versions across the collection, tombstones included', async () => {
      const c = await collection(ctx);
      const first = await ctx.sources.upsert(c, [
        doc('a', 'alpha', { metadata: { lang: 'en' }, tenant: 't1' }),
        doc('b'),
      ]);
      expect(first.changed.map((d) => [d.id, d.version])).toEqual([
        ['a', 1],
        ['b', 2],
      ]);
      expect(first.changed[0]).toMatchObject({
        collection: c,
        text: 'alpha',
        metadata: { lang: 'en' },
        tenant: 't1',
        contentHash: contentHash('alpha', { lang: 'en' }),
        deleted: false,
      });
      const deleted = await ctx.sources.delete(c, ['a', 'missing']);
      expect(deleted.map((d) => [d.id, d.version, d.deleted])).toEqual([['a', 3, true]]);
      expect(await ctx.sources.delete(c, ['a'])).toEqual([]);
      expect((await ctx.sources.upsert(c, [doc('c')])).changed[0]?.version).toBe(4);
      const back = await ctx.sources.upsert(c, [
        doc('a', 'alpha', { metadata: { lang: 'en' }, tenant: 't1' }),
      ]);
      expect(back.changed.map((d) => [d.id, d.version, d.deleted])).toEqual([['a', 5, false]]);
      expect(await ctx.sources.count(c)).toEqual({ live: 3, deleted: 0 });
      await ctx.catalog.createCollection('other', 'alice');
      expect((await ctx.sources.upsert('other', [doc('a')])).changed[0]?.version).toBe(1);
    });

    it('reports unchanged documents and leaves their version alone', async () => {
      const c = await collection(ctx);
      await ctx.sources.upsert(c, [doc('a', 'one', { metadata: { k: 1 } })]);
      const again = await ctx.sources.upsert(c, [doc('a', 'one', { metadata: { k: 1 } }), doc('b')]);
      expect(again.unchanged).toEqual(['a']);
      expect(again.changed.map((d) => d.id)).toEqual(['b']);
      expect((await ctx.sources.get(c, 'a'))?.version).toBe(1);
      const edited = await ctx.sources.upsert(c, [doc('a', 'one', { metadata: { k: 2 } })]);
      expect(edited.changed.map((d) => [d.id, d.version])).toEqual([['a', 3]]);
    });

    it('writes nothing of a batch with an invalid item, naming the item and field', async () => {
      const c = await collection(ctx);
      const cases: [unknown, string][] = [
        [{ id: '', text: 'x' }, 'id'],
        [{ id: 'x'.repeat(513), text: 'x' }, 'id'],
        [{ id: 'b', text: '' }, 'text'],
        [{ id: 'b', text: 'x', metadata: [1] }, 'metadata'],
        [{ id: 'b', text: 'x', tenant: 7 }, 'tenant'],
      ];
      for (const [bad, field] of cases) {
        const error = await expectCode(
          ctx.sources.upsert(c, [doc('a'), bad as SourceInput]),
          'INVALID_INPUT',
        );
        expect(error.details).toMatchObject({ index: 1, field });
      }
      expect(await ctx.sources.count(c)).toEqual({ live: 0, deleted: 0 });
      expect((await ctx.sources.upsert(c, [doc('a')])).changed[0]?.version).toBe(1);
    });

    it('gets, scans with a keyset cursor, and hides tombstones unless asked', async () => {
      const c = await collection(ctx);
      await ctx.sources.upsert(
        c,
        ['e', 'a', 'c', 'b', 'd'].map((id) => doc(id)),
      );
      await ctx.sources.delete(c, ['c']);
      expect((await ctx.sources.get(c, 'c'))?.deleted).toBe(true);
      expect(await ctx.sources.get(c, 'zzz')).toBeNull();
      const many = await ctx.sources.getMany(c, ['a', 'c', 'zzz']);
      expect([...many.keys()].sort()).toEqual(['a', 'c']);
      const page1 = await ctx.sources.scan(c, { limit: 2 });
      const page2 = await ctx.sources.scan(c, { afterId: page1[1]?.id, limit: 10 });
      expect([...page1, ...page2].map((d) => d.id)).toEqual(['a', 'b', 'd', 'e']);
      const all = await ctx.sources.scan(c, { limit: 10, includeDeleted: true });
      expect(all.map((d) => d.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await ctx.sources.count(c)).toEqual({ live: 4, deleted: 1 });
    });

    it('reads updatedAt back as the ISO-8601 instant the write returned, on every read path', async () => {
      const c = await collection(ctx);
      const written = (await ctx.sources.upsert(c, [doc('a'), doc('b')])).changed;
      const tomb = (await ctx.sources.delete(c, ['b']))[0];
      const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
      const a = written.find((d) => d.id === 'a');
      expect(a?.updatedAt).toMatch(iso);
      expect(tomb?.updatedAt).toMatch(iso);
      expect((await ctx.sources.get(c, 'a'))?.updatedAt).toBe(a?.updatedAt);
      expect((await ctx.sources.getMany(c, ['a'])).get('a')?.updatedAt).toBe(a?.updatedAt);
      const page = await ctx.sources.scan(c, { limit: 10, includeDeleted: true });
      expect(page.map((d) => [d.id, d.updatedAt])).toEqual([
        ['a', a?.updatedAt],
        ['b', tomb?.updatedAt],
      ]);
    });

    it('counts hits and lists the hottest live documents', async () => {
      const c = await collection(ctx);
      await ctx.sources.upsert(
        c,
        ['a', 'b', 'c', 'd'].map((id) => doc(id)),
      );
      await ctx.sources.recordHits(c, ['b', 'c', 'b', 'd', 'c', 'missing']);
      await ctx.sources.recordHits(c, ['d']);
      await ctx.sources.delete(c, ['d']);
      expect(await ctx.sources.hottest(c, { limit: 10 })).toEqual([
        { id: 'b', hits: 2 },
        { id: 'c', hits: 2 },
        { id: 'a', hits: 0 },
      ]);
      expect(await ctx.sources.hottest(c, { limit: 1, offset: 1 })).toEqual([{ id: 'c', hits: 2 }]);
    });
  });
}
