import { describe, expect, it } from 'vitest';
import type { SourceHead } from '../core/records.js';
import { axisVector, DIM, descriptorOf, sourceWrite, testSpace } from './fixtures.js';
import type { StoreContext } from './vector-store-suite.js';

const space = testSpace('conf-stats');
const ns = descriptorOf('docs', space);

export function describeStoreStats(ctx: StoreContext): void {
  describe('heads and stats', () => {
    it('counts records, live sources, tombstones, fingerprints and dimensions', async () => {
      await ctx.store.createNamespace(ns);
      expect(await ctx.store.stats(ns.name)).toEqual({
        records: 0,
        sources: 0,
        tombstones: 0,
        fingerprints: {},
        dimensions: {},
      });
      await ctx.store.write(ns.name, space.fingerprint, [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0), axisVector(1)] }),
        sourceWrite({ id: 'b', version: 1, vectors: [axisVector(2)] }),
        sourceWrite({ id: 'c', version: 1, vectors: [axisVector(3)] }),
      ]);
      await ctx.store.delete(ns.name, [
        { sourceId: 'c', sourceVersion: 2 },
        { sourceId: 'never-written', sourceVersion: 3 },
      ]);
      expect(await ctx.store.stats(ns.name)).toEqual({
        records: 3,
        sources: 2,
        tombstones: 2,
        fingerprints: { [space.fingerprint]: 3 },
        dimensions: { [String(DIM)]: 3 },
      });
    });

    it('returns heads for the asked sources only, tombstones included', async () => {
      await ctx.store.createNamespace(ns);
      await ctx.store.write(ns.name, space.fingerprint, [
        sourceWrite({ id: 'a', version: 4, vectors: [axisVector(0)], hash: 'ha' }),
      ]);
      await ctx.store.delete(ns.name, [{ sourceId: 'b', sourceVersion: 9 }]);
      const heads = await ctx.store.heads(ns.name, ['a', 'b', 'missing']);
      expect([...heads.keys()].sort()).toEqual(['a', 'b']);
      expect(heads.get('a')).toEqual({ sourceId: 'a', sourceVersion: 4, contentHash: 'ha', deleted: false });
      expect(heads.get('b')).toEqual({ sourceId: 'b', sourceVersion: 9, contentHash: null, deleted: true });
    });

    it('pages through heads in source-id order with a keyset cursor', async () => {
      await ctx.store.createNamespace(ns);
      const ids = Array.from({ length: 25 }, (_, i) => `s${String(i).padStart(2, '0')}`);
      await ctx.store.write(
        ns.name,
        space.fingerprint,
        ids.map((id, i) => sourceWrite({ id, version: i + 1, vectors: [axisVector(i)] })),
      );
      await ctx.store.delete(ns.name, [{ sourceId: 's07', sourceVersion: 100 }]);
      const pages: SourceHead[][] = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await ctx.store.scanHeads(
          ns.name,
          afterId === undefined ? { limit: 10 } : { afterId, limit: 10 },
        );
        if (page.length === 0) break;
        pages.push(page);
        afterId = page[page.length - 1]?.sourceId;
      }
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat().map((h) => h.sourceId)).toEqual(ids);
      expect(pages.flat().find((h) => h.sourceId === 's07')).toMatchObject({
        deleted: true,
        sourceVersion: 100,
      });
    });
  });
}
