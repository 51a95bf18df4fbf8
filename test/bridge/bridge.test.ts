import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateAdapter } from '../../src/app/bridge-evaluate.js';
import type { Reembed } from '../../src/app/reembed.js';
import { buildCorpusBridge } from '../../src/bridge/corpus.js';
import { fitAdapter } from '../../src/bridge/fit.js';
import { assertWriteAllowed, isDerivedSpace } from '../../src/core/adapter.js';
import type { GoldenSet } from '../../src/core/golden.js';
import { tempApp } from '../app/helpers.js';
import { BACKENDS, corpus, embedNatively, knownItemGolden, spaces } from './helpers.js';

const DOCS = corpus(240);
const { old, near, far } = spaces();

describe.each(BACKENDS)('bridges on $name', ({ options, skip }) => {
  let ctx: Awaited<ReturnType<typeof tempApp>>;
  let app: Reembed;
  let golden: GoldenSet;

  beforeEach(async (test) => {
    if (skip) test.skip();
    ctx = await tempApp(options());
    app = ctx.app;
    for (const s of [old, near, far]) await app.addSpace(s);
    await app.createCollection('docs', old.name);
    await app.ingest('docs', DOCS);
    golden = await knownItemGolden(ctx.dir, DOCS);
  });
  afterEach(async () => {
    await ctx?.cleanup();
  });

  /** A namespace of `space` holding the first `count` documents natively (a backfill's first batches). */
  async function partial(spaceName: string, count: number): Promise<string> {
    const space = await app.backend.catalog.getSpace(spaceName);
    const ns = await app.createNamespace('docs', space, 'active', 'docs@old-v1');
    await embedNatively(
      app,
      'docs',
      ns.name,
      DOCS.slice(0, count).map((d) => d.id),
    );
    return ns.name;
  }

  describe('query bridge', () => {
    it('is fitted from documents both namespaces hold, refused until gated, then serves new-model queries on the old namespace', async () => {
      const next = await partial(near.name, 120);
      const { record, report, population } = await fitAdapter(app, {
        collection: 'docs',
        from: old.name,
        to: near.name,
        direction: 'query',
      });
      expect(population).toBe(120);
      expect(record.state).toBe('fitted');
      expect(record.adapter.name).toBe('near-v2-to-old-v1.1');
      expect(record.adapter.spec.source.fingerprint).toBe(near.fingerprint);
      expect(record.adapter.spec.target.fingerprint).toBe(old.fingerprint);
      expect(record.adapter.spec.training.documents).toBe(120);
      expect(report.candidates.map((c) => c.method).sort()).toEqual(['low-rank', 'procrustes', 'ridge']);

      // Routed before its gate passed: every query is refused (invariant 9).
      const routing = {
        kind: 'fused' as const,
        primary: 'docs@old-v1',
        next,
        fusion: { method: 'coverage-aware-score' as const, embedOnRead: false },
        bridge: { adapter: record.adapter.fingerprint, direction: 'query' as const },
      };
      await app.backend.catalog.setAlias('docs', 'docs', routing, 'test');
      await expect(app.search('docs', { text: 'vector space', k: 5 })).rejects.toMatchObject({
        code: 'GATE_FAILED',
      });

      const { evaluation, record: after } = await evaluateAdapter(app, record.adapter.name, { golden });
      expect(evaluation.oldSource).toBe('measured');
      expect(Object.keys(evaluation.facts)).toEqual(
        expect.arrayContaining([
          'bridged.ndcg@10',
          'bridged.ndcg@10.lo',
          'alone.ndcg@10',
          'old.ndcg@10',
          'coverage',
        ]),
      );
      expect(evaluation.facts.coverage).toBeCloseTo(0.5, 5);
      // The near space differs only in term weighting: the bridge keeps clean-old quality, far above half a namespace.
      expect(evaluation.facts['bridged.ndcg@10']).toBeGreaterThan(
        (evaluation.facts['alone.ndcg@10'] as number) + 0.2,
      );
      expect(evaluation.passed).toBe(true);
      expect(after?.state).toBe('passed');

      const { hits, trace } = await app.search('docs', {
        text: DOCS[8]?.text.split(' ').slice(0, 4).join(' ') ?? '',
        k: 5,
      });
      expect(trace.bridged).toBe(true);
      const primaryRead = trace.reads.find((r) => r.namespace === 'docs@old-v1');
      expect(primaryRead?.bridged).toEqual({
        adapter: record.adapter.fingerprint,
        adapterName: record.adapter.name,
        direction: 'query',
        via: near.name,
      });
      expect(hits.length).toBeGreaterThan(0);
      expect(hits.some((h) => h.bridged === true)).toBe(true);

      // Never the old model: the old namespace's space gets no embed call while the bridge serves.
      let oldCalls = 0;
      const oldEmbedder = await app.embedders.get(old);
      app.embedders.set(old, {
        ...oldEmbedder,
        embed: async (texts, o) => {
          oldCalls++;
          return oldEmbedder.embed(texts, o);
        },
      });
      await app.search('docs', { text: 'rollback cutover shadow', k: 5 });
      expect(oldCalls).toBe(0);
    });

    it('fails the default gate when the spaces are unrelated, and the failure is kept in its history', async () => {
      await partial(far.name, 60);
      const { record } = await fitAdapter(app, {
        collection: 'docs',
        from: old.name,
        to: far.name,
        direction: 'query',
      });
      const { evaluation } = await evaluateAdapter(app, record.adapter.name, { golden });
      expect(evaluation.passed).toBe(false);
      expect(evaluation.results.find((r) => r.rule.startsWith('bridged.ndcg@10 >= old'))?.passed).toBe(false);
      const held = await app.backend.adapters?.get(record.adapter.name);
      expect(held?.state).toBe('fitted');
      expect(held?.latest?.passed).toBe(false);
      const audit = await app.backend.catalog.listAudit({ subject: record.adapter.name });
      expect(audit.map((a) => a.action).sort()).toEqual(['adapter.evaluate', 'adapter.fit']);
    });

    it('refuses a revoked adapter at query time', async () => {
      const next = await partial(near.name, 120);
      const { record } = await fitAdapter(app, {
        collection: 'docs',
        from: old.name,
        to: near.name,
        direction: 'query',
      });
      await evaluateAdapter(app, record.adapter.name, { golden });
      await app.backend.catalog.setAlias(
        'docs',
        'docs',
        {
          kind: 'fused',
          primary: 'docs@old-v1',
          next,
          fusion: { method: 'coverage-aware-score' },
          bridge: { adapter: record.adapter.fingerprint, direction: 'query' },
        },
        'test',
      );
      await app.search('docs', { text: 'alias namespace', k: 3 });
      await app.backend.adapters?.revoke(record.adapter.name, 'drifted', 'test');
      // A fresh engine (the state cache of the served one lives a few seconds).
      const { QueryEngine } = await import('../../src/app/query.js');
      const engine = new QueryEngine(app.backend, app.embedders);
      await expect(engine.query('docs', { text: 'alias namespace', k: 3 })).rejects.toMatchObject({
        code: 'GATE_FAILED',
      });
    });
  });

  describe('corpus bridge and invariant 9', () => {
    it('maps the old vectors into a derived namespace of their own space, never into a native one', async () => {
      const next = await partial(near.name, 100);
      const { record } = await fitAdapter(app, {
        collection: 'docs',
        from: old.name,
        to: near.name,
        direction: 'corpus',
      });
      const built = await buildCorpusBridge(app, record.adapter.name);
      expect(built.namespace.name).toBe(`docs@bridge.${record.adapter.name}`);
      expect(built.written).toBe(DOCS.length);
      const derived = built.namespace.space;
      expect(isDerivedSpace(derived)).toBe(true);
      expect(derived.fingerprint).not.toBe(near.fingerprint);
      expect(derived.fingerprint).not.toBe(old.fingerprint);
      const stats = await app.backend.store.stats(built.namespace.name);
      expect(Object.keys(stats.fingerprints)).toEqual([derived.fingerprint]);
      // The native namespace holds its own records only.
      expect(Object.keys((await app.backend.store.stats(next)).fingerprints)).toEqual([near.fingerprint]);

      // Derived vectors into a native namespace: refused by the guard and by the store.
      const nativeNs = await app.backend.catalog.getNamespace(next);
      expect(() => assertWriteAllowed(nativeNs, { adapter: record.adapter.fingerprint })).toThrow(
        expect.objectContaining({ code: 'DERIVED_VECTOR_REFUSED' }),
      );
      const [someRecord] =
        (await app.backend.vectors?.read(built.namespace.name, [DOCS[200]?.id ?? ''])) ?? [];
      await expect(
        app.backend.store.write(next, derived.fingerprint, [
          {
            sourceId: DOCS[200]?.id ?? '',
            sourceVersion: someRecord?.sourceVersion ?? 1,
            contentHash: someRecord?.contentHash ?? '',
            tenant: null,
            metadata: {},
            chunks: [
              {
                chunkId: `${DOCS[200]?.id}#0`,
                index: 0,
                text: 'x',
                vector: someRecord?.vector ?? new Float32Array(64),
              },
            ],
          },
        ]),
      ).rejects.toMatchObject({ code: 'SPACE_MISMATCH' });
      // Model vectors into the derived namespace: no embedder exists for a derived space.
      await expect(app.embedders.get(derived)).rejects.toMatchObject({ code: 'DERIVED_VECTOR_REFUSED' });
      expect(() => assertWriteAllowed(built.namespace, 'model')).toThrow(
        expect.objectContaining({ code: 'DERIVED_VECTOR_REFUSED' }),
      );
      // A new document goes to the native namespaces only; the derived one is never embedded into.
      const result = await app.ingest('docs', [
        { id: 'fresh', text: 'a brand new tombstone checkpoint document' },
      ]);
      expect(Object.keys(result.namespaces).sort()).toEqual(['docs@old-v1', next].sort());
      expect((await app.backend.store.stats(built.namespace.name)).sources).toBe(DOCS.length);
      // ...but deletes reach it (a deleted document never comes back through the bridge).
      await app.delete('docs', [DOCS[0]?.id ?? '']);
      expect(
        (await app.backend.store.heads(built.namespace.name, [DOCS[0]?.id ?? ''])).get(DOCS[0]?.id ?? '')
          ?.deleted,
      ).toBe(true);

      // Searching the derived namespace embeds the query with the target (new) model.
      const { hits, read } = await app.queries.queryNamespace(built.namespace.name, {
        text: 'checkpoint resume crash',
        k: 3,
      });
      expect(read.bridged).toMatchObject({ direction: 'corpus', via: near.name });
      expect(hits.every((h) => h.provenance.fingerprint === derived.fingerprint)).toBe(true);

      // Rebuilding maps only what the old namespace gained since (the new document), then nothing.
      expect((await buildCorpusBridge(app, record.adapter.name)).written).toBe(1);
      expect((await buildCorpusBridge(app, record.adapter.name)).written).toBe(0);
    });
  });
});
