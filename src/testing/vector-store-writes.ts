import { describe, expect, it } from 'vitest';
import { contentHash } from '../core/canonical.js';
import type { VectorStore } from '../ports/vector-store.js';
import { axisVector, DIM, descriptorOf, expectCode, sourceWrite, testSpace } from './fixtures.js';
import type { StoreContext } from './vector-store-suite.js';

const v1 = testSpace('conf-v1');
/** Same dimension and metric as v1, another model: a different fingerprint (invariant 1). */
const v2 = testSpace('conf-v2');
const ns = descriptorOf('docs', v1);

async function withNamespace(store: VectorStore): Promise<void> {
  await store.createNamespace(ns);
}

async function chunkIds(store: VectorStore): Promise<string[]> {
  const hits = await store.search(ns.name, { vector: axisVector(0), fingerprint: v1.fingerprint, k: 1000 });
  return hits.map((h) => h.chunkId).sort();
}

export function describeStoreWrites(ctx: StoreContext): void {
  describe('namespaces', () => {
    it('creates a namespace idempotently and describes it', async () => {
      await ctx.store.createNamespace(ns);
      await ctx.store.createNamespace({ ...ns });
      expect(await ctx.store.describeNamespace(ns.name)).toEqual(ns);
      expect(await ctx.store.describeNamespace('docs@missing')).toBeNull();
    });

    it('refuses to reuse a namespace name for another space, even at equal dimension', async () => {
      await withNamespace(ctx.store);
      await expectCode(
        ctx.store.createNamespace({ ...ns, fingerprint: v2.fingerprint, spaceName: v2.name }),
        'SPACE_MISMATCH',
      );
      await expectCode(ctx.store.createNamespace({ ...ns, dimension: DIM * 2 }), 'SPACE_MISMATCH');
      expect(await ctx.store.describeNamespace(ns.name)).toEqual(ns);
    });

    it('drops a namespace with its records and heads, idempotently', async () => {
      await withNamespace(ctx.store);
      await ctx.store.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] }),
      ]);
      await ctx.store.dropNamespace(ns.name);
      await ctx.store.dropNamespace(ns.name);
      expect(await ctx.store.describeNamespace(ns.name)).toBeNull();
      await withNamespace(ctx.store);
      expect((await ctx.store.stats(ns.name)).records).toBe(0);
      expect((await ctx.store.heads(ns.name, ['a'])).size).toBe(0);
    });

    it('answers NOT_FOUND for an unknown namespace', async () => {
      const write = sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] });
      await expectCode(ctx.store.write('nope@x', v1.fingerprint, [write]), 'NOT_FOUND');
      await expectCode(
        ctx.store.search('nope@x', { vector: axisVector(0), fingerprint: v1.fingerprint, k: 1 }),
        'NOT_FOUND',
      );
    });
  });

  describe('writes', () => {
    it('round-trips a write through search with full provenance', async () => {
      await withNamespace(ctx.store);
      const before = Date.now();
      const result = await ctx.store.write(ns.name, v1.fingerprint, [
        sourceWrite({
          id: 'a',
          version: 3,
          vectors: [axisVector(0), axisVector(1)],
          tenant: 't1',
          metadata: { lang: 'en' },
        }),
        sourceWrite({ id: 'b', version: 4, vectors: [axisVector(2)] }),
      ]);
      expect(result).toEqual({ written: 2, skipped: 0, records: 3 });
      const [top] = await ctx.store.search(ns.name, {
        vector: axisVector(1),
        fingerprint: v1.fingerprint,
        k: 1,
      });
      expect(top).toMatchObject({
        sourceId: 'a',
        chunkId: 'a#1',
        text: 'a chunk 1 v3',
        tenant: 't1',
        metadata: { lang: 'en' },
        provenance: {
          fingerprint: v1.fingerprint,
          sourceId: 'a',
          chunkId: 'a#1',
          contentHash: 'hash-a-v3',
          sourceVersion: 3,
        },
      });
      expect(top?.score).toBeCloseTo(1, 5);
      const embeddedAt = Date.parse(top?.provenance.embeddedAt ?? '');
      expect(embeddedAt).toBeGreaterThanOrEqual(before - 60_000);
    });

    it('stores the chunk text of a one-chunk write of its source text (a store may copy it from the source row)', async () => {
      await withNamespace(ctx.store);
      // No source row holds this version here: a store that copies such texts from source rows falls back
      // to the chunk's text.
      const plain = sourceWrite({ id: 'a', version: 7, vectors: [axisVector(0)] });
      const text = plain.chunks[0]?.text ?? '';
      const write = { ...plain, contentHash: contentHash(text, plain.metadata) };
      expect(await ctx.store.write(ns.name, v1.fingerprint, [write])).toEqual({
        written: 1,
        skipped: 0,
        records: 1,
      });
      const [top] = await ctx.store.search(ns.name, {
        vector: axisVector(0),
        fingerprint: v1.fingerprint,
        k: 1,
      });
      expect(top).toMatchObject({ sourceId: 'a', text: 'a chunk 0 v7' });
    });

    it('refuses a batch from another space of the same dimension and writes nothing', async () => {
      await withNamespace(ctx.store);
      const writes = [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] }),
        sourceWrite({ id: 'b', version: 1, vectors: [axisVector(1)] }),
      ];
      const error = await expectCode(ctx.store.write(ns.name, v2.fingerprint, writes), 'SPACE_MISMATCH');
      expect(error.details).toMatchObject({ expected: v1.fingerprint, actual: v2.fingerprint });
      expect(error.message).toContain(v1.fingerprint);
      expect(error.message).toContain(v2.fingerprint);
      expect((await ctx.store.stats(ns.name)).records).toBe(0);
      expect((await ctx.store.heads(ns.name, ['a', 'b'])).size).toBe(0);
    });

    it('refuses a query from another space of the same dimension', async () => {
      await withNamespace(ctx.store);
      await ctx.store.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] }),
      ]);
      const error = await expectCode(
        ctx.store.search(ns.name, { vector: axisVector(0), fingerprint: v2.fingerprint, k: 5 }),
        'SPACE_MISMATCH',
      );
      expect(error.details).toMatchObject({ expected: v1.fingerprint, actual: v2.fingerprint });
    });

    it.each([
      ['a wrong-length vector', new Float32Array(DIM + 1), 'DIMENSION_MISMATCH'],
      [
        'a NaN component',
        Float32Array.from({ length: DIM }, (_, i) => (i === 3 ? Number.NaN : 0.1)),
        'INVALID_VECTOR',
      ],
      [
        'an Infinity component',
        Float32Array.from({ length: DIM }, (_, i) => (i === 5 ? Infinity : 0.1)),
        'INVALID_VECTOR',
      ],
    ] as const)('refuses a batch containing %s and writes nothing of it', async (_label, bad, code) => {
      await withNamespace(ctx.store);
      const writes = [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] }),
        sourceWrite({ id: 'b', version: 1, vectors: [axisVector(1), bad] }),
      ];
      await expectCode(ctx.store.write(ns.name, v1.fingerprint, writes), code);
      expect((await ctx.store.stats(ns.name)).records).toBe(0);
      expect((await ctx.store.heads(ns.name, ['a', 'b'])).size).toBe(0);
    });

    it('refuses a query vector of the wrong length', async () => {
      await withNamespace(ctx.store);
      await expectCode(
        ctx.store.search(ns.name, { vector: new Float32Array(DIM - 1), fingerprint: v1.fingerprint, k: 1 }),
        'DIMENSION_MISMATCH',
      );
    });
  });

  describe('versioned writes and tombstones', () => {
    it('skips older and equal versions; a newer one replaces every chunk of the source', async () => {
      await withNamespace(ctx.store);
      const write = (version: number, chunks: number) =>
        ctx.store.write(ns.name, v1.fingerprint, [
          sourceWrite({ id: 'a', version, vectors: Array.from({ length: chunks }, (_, i) => axisVector(i)) }),
        ]);
      expect(await write(5, 3)).toEqual({ written: 1, skipped: 0, records: 3 });
      expect(await write(4, 1)).toEqual({ written: 0, skipped: 1, records: 0 });
      expect(await write(5, 1)).toEqual({ written: 0, skipped: 1, records: 0 });
      expect(await chunkIds(ctx.store)).toEqual(['a#0', 'a#1', 'a#2']);
      expect(await write(6, 1)).toEqual({ written: 1, skipped: 0, records: 1 });
      expect(await chunkIds(ctx.store)).toEqual(['a#0']);
      const hits = await ctx.store.search(ns.name, {
        vector: axisVector(0),
        fingerprint: v1.fingerprint,
        k: 5,
      });
      expect(hits.map((h) => h.provenance.sourceVersion)).toEqual([6]);
      const head = (await ctx.store.heads(ns.name, ['a'])).get('a');
      expect(head).toEqual({ sourceId: 'a', sourceVersion: 6, contentHash: 'hash-a-v6', deleted: false });
    });

    it('never resurrects a deleted source with an older write (tombstone wins)', async () => {
      await withNamespace(ctx.store);
      await ctx.store.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 2, vectors: [axisVector(0)] }),
      ]);
      expect(await ctx.store.delete(ns.name, [{ sourceId: 'a', sourceVersion: 5 }])).toEqual({
        written: 1,
        skipped: 0,
        records: 1,
      });
      const late = await ctx.store.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 4, vectors: [axisVector(0)] }),
      ]);
      expect(late).toEqual({ written: 0, skipped: 1, records: 0 });
      expect(await chunkIds(ctx.store)).toEqual([]);
      expect((await ctx.store.heads(ns.name, ['a'])).get('a')).toEqual({
        sourceId: 'a',
        sourceVersion: 5,
        contentHash: null,
        deleted: true,
      });
      expect((await ctx.store.delete(ns.name, [{ sourceId: 'a', sourceVersion: 3 }])).skipped).toBe(1);
    });

    it('a delete that arrives before the source was ever written still blocks older writes', async () => {
      await withNamespace(ctx.store);
      await ctx.store.delete(ns.name, [{ sourceId: 'ghost', sourceVersion: 7 }]);
      await ctx.store.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'ghost', version: 6, vectors: [axisVector(0)] }),
      ]);
      expect(await chunkIds(ctx.store)).toEqual([]);
      expect((await ctx.store.stats(ns.name)).tombstones).toBe(1);
    });

    it('a newer write after a delete brings the source back', async () => {
      await withNamespace(ctx.store);
      await ctx.store.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] }),
      ]);
      await ctx.store.delete(ns.name, [{ sourceId: 'a', sourceVersion: 2 }]);
      const result = await ctx.store.write(ns.name, v1.fingerprint, [
        sourceWrite({ id: 'a', version: 3, vectors: [axisVector(1)] }),
      ]);
      expect(result.written).toBe(1);
      expect(await chunkIds(ctx.store)).toEqual(['a#0']);
      expect((await ctx.store.heads(ns.name, ['a'])).get('a')?.deleted).toBe(false);
    });

    it('commits a checkpoint with its batch when the store shares the catalog transaction', async (test) => {
      test.skip(
        !ctx.store.capabilities.sharedCatalogTransaction,
        'store does not share a transaction with the catalog',
      );
      test.skip(!ctx.store.readCheckpoint, 'store cannot read checkpoints back (readCheckpoint missing)');
      await withNamespace(ctx.store);
      const read = (jobId: string) => ctx.store.readCheckpoint?.(jobId);
      const checkpoint = { jobId: 'job-1', cursor: 'b', processed: 2 };
      const bad = sourceWrite({ id: 'c', version: 1, vectors: [new Float32Array(DIM + 2)] });
      await expectCode(ctx.store.write(ns.name, v1.fingerprint, [bad], { checkpoint }), 'DIMENSION_MISMATCH');
      expect(await read('job-1')).toBeNull();
      const writes = [
        sourceWrite({ id: 'a', version: 1, vectors: [axisVector(0)] }),
        sourceWrite({ id: 'b', version: 1, vectors: [axisVector(1)] }),
      ];
      await ctx.store.write(ns.name, v1.fingerprint, writes, { checkpoint });
      expect(await read('job-1')).toEqual(checkpoint);
      await ctx.store.delete(ns.name, [{ sourceId: 'a', sourceVersion: 2 }], {
        checkpoint: { jobId: 'job-1', cursor: 'c', processed: 3 },
      });
      expect(await read('job-1')).toEqual({ jobId: 'job-1', cursor: 'c', processed: 3 });
    });
  });
}
