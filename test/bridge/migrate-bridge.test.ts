import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateAdapter } from '../../src/app/bridge-evaluate.js';
import { embedSample } from '../../src/app/bridge-sample.js';
import { embedSources } from '../../src/app/embed-sources.js';
import { MigrationService } from '../../src/app/migrate.js';
import type { Reembed } from '../../src/app/reembed.js';
import { fitAdapter } from '../../src/bridge/fit.js';
import type { GoldenSet } from '../../src/core/golden.js';
import type { Space } from '../../src/core/space.js';
import { runMonitor } from '../../src/monitor/run.js';
import { tempApp } from '../app/helpers.js';
import { stepsOf, stepUntil } from '../migration/helpers.js';
import { BACKENDS, corpus, embedNatively, knownItemGolden, spaces } from './helpers.js';

const DOCS = corpus(240);
const { old, near } = spaces();

/**
 * `migrate start --strategy lazy --bridge query|corpus` (issue 17): the deprecation case, where the old
 * space's provider fails from the moment the migration starts. Nothing may call the old model again:
 * not a query, not a write, not a gate.
 */
describe.each(BACKENDS)('bridged migrations on $name', ({ options, skip }) => {
  let ctx: Awaited<ReturnType<typeof tempApp>>;
  let app: Reembed;
  let service: MigrationService;
  let golden: GoldenSet;
  let goldenPath: string;
  let oldCalls: number;

  beforeEach(async (test) => {
    if (skip) test.skip();
    ctx = await tempApp(options());
    app = ctx.app;
    for (const s of [old, near]) await app.addSpace(s);
    await app.createCollection('docs', old.name);
    await app.ingest('docs', DOCS);
    golden = await knownItemGolden(ctx.dir, DOCS);
    goldenPath = join(ctx.dir, 'golden.jsonl');
    service = new MigrationService(app, { flushMs: 0 });
    oldCalls = 0;
  });
  afterEach(async () => {
    await service?.close();
    await ctx?.cleanup();
  });

  /** The backfill's first batches: the new namespace holds `count` documents natively. */
  async function partial(count: number): Promise<string> {
    const ns = await app.createNamespace('docs', near, 'active', 'docs@old-v1');
    await embedNatively(
      app,
      'docs',
      ns.name,
      DOCS.slice(0, count).map((d) => d.id),
    );
    return ns.name;
  }

  /** The old space's provider is gone: every call fails, and is counted. */
  async function retireOldProvider(space: Space): Promise<void> {
    const embedder = await app.embedders.get(space);
    app.embedders.set(space, {
      ...embedder,
      embed: async () => {
        oldCalls++;
        throw new Error('model old-v1 was retired by its provider');
      },
    });
  }

  async function gatedAdapter(direction: 'query' | 'corpus'): Promise<string> {
    const { record } = await fitAdapter(app, {
      collection: 'docs',
      from: old.name,
      to: near.name,
      direction,
    });
    const { evaluation } = await evaluateAdapter(app, record.adapter.name, { golden });
    expect(evaluation.passed).toBe(true);
    return record.adapter.name;
  }

  it('query bridge: refused before its gate passed; then serves new-model queries, takes writes and cuts over without the old model', async () => {
    const next = await partial(120);
    const { record } = await fitAdapter(app, {
      collection: 'docs',
      from: old.name,
      to: near.name,
      direction: 'query',
    });
    const input = {
      alias: 'docs',
      to: near.name,
      strategy: 'lazy' as const,
      options: {
        bridge: { direction: 'query' as const },
        golden: goldenPath,
        gates: ['coverage >= 1.0', 'errors == 0', 'new.ndcg@10 >= old.ndcg@10 - 0.05'],
      },
    };
    // Invariant 9: not evaluated yet, so no migration may serve through it; nothing is created.
    await expect(service.start(input)).rejects.toMatchObject({ code: 'GATE_FAILED' });
    expect(await service.list({ active: true })).toEqual([]);
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({
      kind: 'single',
      namespace: 'docs@old-v1',
    });

    // Evaluated while the old model still answers: its clean quality is recorded for later gates.
    const { evaluation } = await evaluateAdapter(app, record.adapter.name, { golden });
    expect(evaluation.passed).toBe(true);
    await retireOldProvider(old);

    const started = await service.start(input);
    expect(stepsOf(started)).toEqual([
      'bridge:done',
      'namespace:done',
      'probe:skipped',
      'migration:done',
      'freeze:done',
      'route:done',
      'transition:done',
    ]);
    expect(started.migration.options.bridge).toEqual({
      direction: 'query',
      adapter: record.adapter.fingerprint,
      name: record.adapter.name,
      primary: 'docs@old-v1',
    });
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({
      kind: 'fused',
      primary: 'docs@old-v1',
      next,
      bridge: { adapter: record.adapter.fingerprint, direction: 'query' },
    });

    // Day 0: new-model queries serve through the bridge.
    const doc = DOCS[200];
    const served = await app.search('docs', { text: doc?.text.split(' ').slice(0, 4).join(' ') ?? '', k: 5 });
    expect(served.trace.bridged).toBe(true);
    expect(served.hits.map((h) => h.sourceId)).toContain(doc?.id);

    // Writes: a new and a changed document go to the new namespace only (the old one is frozen).
    const changed = { id: DOCS[3]?.id ?? '', text: 'quasar nebula telescope observatory', tenant: 'a' };
    const result = await app.ingest('docs', [
      { id: 'fresh', text: 'a brand new tombstone checkpoint document' },
      changed,
    ]);
    expect(Object.keys(result.namespaces)).toEqual([next]);
    expect((await app.backend.store.heads('docs@old-v1', ['fresh'])).get('fresh')).toBeUndefined();
    const found = await app.search('docs', { text: 'quasar nebula telescope', k: 3 });
    expect(found.hits[0]?.sourceId).toBe(changed.id);
    expect(found.hits[0]?.namespace).toBe(next);

    // Backfill and cutover: old.* gate facts come from the recorded clean-old quality.
    await stepUntil(service, started.migration.id, ['validating']);
    const cut = await service.cutover(started.migration.id);
    const gates = cut.steps.find((s) => s.name === 'gates');
    expect(gates?.status).toBe('done');
    const facts = (gates?.data ?? {}) as { facts?: Record<string, number> };
    expect(facts.facts?.['old.ndcg@10']).toBeCloseTo(evaluation.facts['old.ndcg@10'] as number, 10);
    expect(((gates?.data ?? {}) as { baseline?: { source: string } }).baseline?.source).toBe('recorded');
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({ kind: 'single', namespace: next });
    expect(oldCalls).toBe(0);
  });

  it('corpus bridge: serves the derived namespace, which retires with the old one at cutover; the native namespace never holds a derived vector', async () => {
    const next = await partial(100);
    const name = await gatedAdapter('corpus');
    await retireOldProvider(old);
    const started = await service.start({
      alias: 'docs',
      to: near.name,
      strategy: 'lazy',
      options: { bridge: { direction: 'corpus', adapter: name } },
    });
    const derived = `docs@bridge.${name}`;
    expect(started.migration.options.bridge?.primary).toBe(derived);
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({
      kind: 'fused',
      primary: derived,
      next,
      bridge: { direction: 'corpus' },
    });
    // Embed-on-read re-ranks the bridge's top 30 by default (the goal's lever: BENCHMARKS.md).
    expect(started.migration.options.fusion).toEqual({ method: 'coverage-aware-score', rerankDepth: 30 });
    const before = (await app.backend.store.stats(next)).sources;
    const served = await app.search('docs', { text: 'rollback cutover shadow', k: 5 });
    expect(served.trace.bridged).toBe(true);
    expect(served.trace.reads.map((r) => r.namespace).sort()).toEqual([derived, next].sort());
    for (const d of DOCS.slice(150, 160)) await app.search('docs', { text: d.text, k: 3 });
    await service.observer.flush();
    // Invariant 9 under a deep re-rank: what embed-on-read wrote back to the native namespace (more than
    // k per query) is the new model's own embedding of each document, never the derived vector of it.
    const reader = app.backend.vectors;
    if (!reader) throw new Error('the SQL backends read vectors back');
    const nativeRecords = await reader.scan(next, { limit: 1_000 });
    expect(nativeRecords.length).toBeGreaterThan(before + 5 * 3);
    const derivedRecords = new Map(
      (await reader.scan(derived, { limit: 1_000 })).map((r) => [r.sourceId, r]),
    );
    const embedder = await app.embedders.get(near);
    const sources = await app.backend.sources.getMany(
      'docs',
      nativeRecords.map((r) => r.sourceId),
    );
    const fresh = await embedSources(embedder, [...sources.values()]);
    const own = new Map(fresh.map((w) => [w.sourceId, w.chunks[0]?.vector as Float32Array]));
    const cosine = (a: Float32Array, b: Float32Array): number => {
      let [ab, aa, bb] = [0, 0, 0];
      for (let i = 0; i < a.length; i++) {
        ab += (a[i] as number) * (b[i] as number);
        aa += (a[i] as number) ** 2;
        bb += (b[i] as number) ** 2;
      }
      return ab / Math.sqrt(aa * bb);
    };
    for (const r of nativeRecords) {
      expect(r.fingerprint).toBe(near.fingerprint);
      expect(cosine(r.vector, own.get(r.sourceId) as Float32Array)).toBeGreaterThan(0.9999);
      // (Where the adapter maps a document almost exactly, its derived vector is close to this one too.)
      const mapped = derivedRecords.get(r.sourceId);
      if (mapped && cosine(mapped.vector, own.get(r.sourceId) as Float32Array) < 0.999)
        expect(cosine(r.vector, mapped.vector)).toBeLessThan(0.999);
    }

    // Default probe gates: the adapter's evaluation (old model answering) recorded clean old on the
    // collection's probe, which `start` reused; that record is the gates' old side, and says so.
    expect(started.migration.options.probe).toBe('docs');
    const planned = (await service.status(started.migration.id)).gates;
    expect(planned.map((g) => g.rule)).toContain('probe.mrr@10 >= old - 0.01');
    for (const g of planned.filter((p) => p.rule.includes('old')))
      expect(g.why).toMatch(
        /old = clean docs@old-v1 quality on probe:docs, recorded .* while its model still answered/,
      );
    await stepUntil(service, started.migration.id, ['validating']);
    const stats = await app.backend.store.stats(next);
    expect(Object.keys(stats.fingerprints)).toEqual([near.fingerprint]);
    const recorded = (await app.backend.catalog.getNamespace('docs@old-v1')).info.qualityBaselines as Record<
      string,
      { set: string; metrics: Record<string, number> }
    >;
    const onProbe = Object.values(recorded).find((b) => b.set === 'probe:docs');
    const cut = await service.cutover(started.migration.id);
    const gates = cut.steps.find((s) => s.name === 'gates')?.data as {
      facts: Record<string, number>;
      baseline: { source: string };
    };
    expect(gates.baseline.source).toBe('recorded');
    expect(gates.facts['old.probe.mrr@10']).toBe(onProbe?.metrics['mrr@10']);
    expect(gates.facts['new.probe.mrr@10']).toBeGreaterThan(0);
    const states = Object.fromEntries(
      (await app.backend.catalog.listNamespaces('docs')).map((n) => [n.name, n.state]),
    );
    expect(states).toMatchObject({ 'docs@old-v1': 'retiring', [derived]: 'retiring', [next]: 'serving' });
    expect(oldCalls).toBe(0);
  });

  it('rollback unfreezes the old namespace and says what it missed', async () => {
    await partial(120);
    await gatedAdapter('query');
    const started = await service.start({
      alias: 'docs',
      to: near.name,
      strategy: 'lazy',
      options: { bridge: { direction: 'query' } },
    });
    expect((await app.backend.catalog.getNamespace('docs@old-v1')).info.frozen).toBe(true);
    const back = await service.rollback(started.migration.id, { reason: 'test' });
    expect(back.steps.find((s) => s.name === 'namespaces')?.detail).toMatch(/takes writes again/);
    expect((await app.backend.catalog.getNamespace('docs@old-v1')).info.frozen).toBe(false);
    expect(
      Object.keys((await app.ingest('docs', [{ id: 'after', text: 'written after rollback' }])).namespaces),
    ).toContain('docs@old-v1');
  });

  it('a dedicated sample, embedded with the new model only, fits an adapter that a migration then serves through', async () => {
    await retireOldProvider(old);
    const sampled = await embedSample(app, { collection: 'docs', from: old.name, to: near.name, count: 90 });
    expect(sampled).toMatchObject({ held: 0, embedded: 90 });
    expect(sampled.namespace.state).toBe('building');
    expect((await app.backend.store.stats(sampled.namespace.name)).sources).toBe(90);
    // Resumable: what both hold counts.
    expect(
      (await embedSample(app, { collection: 'docs', from: old.name, to: near.name, count: 100 })).embedded,
    ).toBe(10);
    const { record, population } = await fitAdapter(app, {
      collection: 'docs',
      from: old.name,
      to: near.name,
      direction: 'query',
    });
    expect(population).toBe(100);
    // The old model is gone and nothing was recorded: never call it, gate on the gain over the new namespace alone.
    const { evaluation } = await evaluateAdapter(app, record.adapter.name, {
      golden,
      old: 'recorded',
      rules: ['vs_alone.ndcg@10.lo > 0'],
    });
    expect(evaluation.oldSource).toBe('unavailable');
    expect(evaluation.passed).toBe(true);
    // The plan says which baseline the gates would read, and runs no forecast (it needs the old model).
    const plan = await service.plan({
      alias: 'docs',
      to: near.name,
      strategy: 'lazy',
      options: { bridge: { direction: 'query' } },
    });
    expect(plan.forecast).toBeNull();
    expect(plan.gates.find((g) => g.rule.startsWith('probe.mrr@10'))?.why).toMatch(
      /else what the bridge serves on it \(the old model is never called\)/,
    );
    const started = await service.start({
      alias: 'docs',
      to: near.name,
      strategy: 'lazy',
      options: { bridge: { direction: 'query' } },
    });
    expect(started.steps.find((s) => s.name === 'namespace')?.detail).toMatch(/reusing docs@near-v2/);
    expect((await app.search('docs', { text: 'rollback cutover', k: 3 })).trace.bridged).toBe(true);
    // Nothing recorded clean old on the probe (the old model was gone before any evaluation): the default
    // probe gates compare the new namespace with what the bridge serves, and say so.
    expect(started.steps.find((s) => s.name === 'probe')?.detail).toMatch(
      new RegExp(`old = what bridge ${record.adapter.name} serves on probe:docs`),
    );
    for (const g of (await service.status(started.migration.id)).gates.filter((p) => p.rule.includes('old')))
      expect(g.why).toMatch(
        /what bridge .* serves on probe:docs, measured through the adapter without the old model/,
      );
    await stepUntil(service, started.migration.id, ['validating']);
    const cut = await service.cutover(started.migration.id);
    const gates = cut.steps.find((s) => s.name === 'gates');
    expect(gates?.status).toBe('done');
    const data = gates?.data as { facts: Record<string, number>; baseline: { source: string } };
    expect(data.baseline.source).toBe('bridge');
    expect(data.facts['old.probe.mrr@10']).toBeGreaterThan(0);
    expect(data.facts['new.probe.mrr@10']).toBeGreaterThanOrEqual(
      (data.facts['old.probe.mrr@10'] as number) - 0.01,
    );
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({ kind: 'single' });
    expect(oldCalls).toBe(0);
  });

  it('the monitor checks a serving bridge: ok after a pass, warn when its drift re-evaluation is due, alert when it failed', async () => {
    await partial(120);
    const name = await gatedAdapter('query');
    await service.start({
      alias: 'docs',
      to: near.name,
      strategy: 'lazy',
      options: { bridge: { direction: 'query' } },
    });
    const bridgeCheck = async (now?: Date) =>
      (await runMonitor(app, { collection: 'docs', ...(now ? { now } : {}) })).checks.find(
        (c) => c.check === 'bridge',
      );
    expect(await bridgeCheck()).toMatchObject({ namespace: 'docs@old-v1', status: 'ok' });
    expect(await bridgeCheck(new Date(Date.now() + 8 * 86_400_000))).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/re-evaluate it, reembed adapter eval .* --drift/),
    });
    // A drift re-evaluation below the gate (here a gate no bridge passes) alerts, naming the refit.
    await evaluateAdapter(app, name, { golden, reason: 'drift', rules: ['bridged.ndcg@10 >= 2'] });
    const failed = await runMonitor(app, { collection: 'docs' });
    expect(failed.alerts).toBeGreaterThan(0);
    expect(failed.checks.find((c) => c.check === 'bridge')).toMatchObject({
      status: 'alert',
      detail: expect.stringMatching(/drift evaluation .* failed its gate.*reembed adapter fit docs/),
    });
  });

  it('refuses a bridge in a shadow migration, of the wrong direction, or revoked', async () => {
    await partial(120);
    const name = await gatedAdapter('query');
    const base = { alias: 'docs', to: near.name };
    await expect(
      service.start({ ...base, strategy: 'shadow', options: { bridge: { direction: 'query' } } }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      service.start({
        ...base,
        strategy: 'lazy',
        options: { bridge: { direction: 'corpus', adapter: name } },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      service.start({ ...base, strategy: 'lazy', options: { bridge: { direction: 'corpus' } } }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await app.backend.adapters?.revoke(name, 'drifted', 'test');
    await expect(
      service.start({ ...base, strategy: 'lazy', options: { bridge: { direction: 'query' } } }),
    ).rejects.toMatchObject({ code: 'GATE_FAILED' });
    expect(await service.list({ active: true })).toEqual([]);
    expect((await app.backend.catalog.getNamespace('docs@old-v1')).info.frozen).toBeUndefined();
  });
});
