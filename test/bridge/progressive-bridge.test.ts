import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateAdapter } from '../../src/app/bridge-evaluate.js';
import { MigrationService } from '../../src/app/migrate.js';
import { bucketOf } from '../../src/app/query.js';
import type { Reembed } from '../../src/app/reembed.js';
import { fitAdapter } from '../../src/bridge/fit.js';
import type { GoldenSet } from '../../src/core/golden.js';
import type { Space } from '../../src/core/space.js';
import { tempApp } from '../app/helpers.js';
import { stepsOf, stepUntil } from '../migration/helpers.js';
import { BACKENDS, corpus, embedNatively, knownItemGolden, spaces } from './helpers.js';

const DOCS = corpus(240);
const { old, near } = spaces();

/**
 * `migrate start --strategy progressive --bridge query|corpus` (issue 17): the old model is gone, the
 * bridge serves from day 0, the backfill re-embeds the most-queried documents first, and traffic moves
 * to the new namespace step by step — its not-yet-backfilled part answered through the adapter — behind
 * the same gates as a bridged lazy migration. Nothing may call the old model once it started.
 */
describe.each(BACKENDS)('bridged progressive migrations on $name', ({ options, skip }) => {
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

  /** A query text whose routing key falls in (or out of) the first `percent`% bucket. */
  function textRouted(inside: boolean, percent: number): string {
    for (const d of DOCS) {
      const text = d.text.split(' ').slice(0, 4).join(' ');
      if (bucketOf(text) < percent === inside) return text;
    }
    throw new Error('no such text');
  }

  it('corpus bridge: serves at once, backfills the most-queried first, moves traffic only while the adapter gate holds, cuts over without the old model', async () => {
    const next = await partial(100);
    // Queried while the old model still answered: the backfill re-embeds these first.
    const hot = DOCS.slice(200, 204);
    for (const d of hot) for (let i = 0; i < 3; i++) await app.search('docs', { text: d.text, k: 1 });
    const name = await gatedAdapter('corpus');
    await retireOldProvider(old);
    const derived = `docs@bridge.${name}`;

    const started = await service.start({
      alias: 'docs',
      to: near.name,
      strategy: 'progressive',
      options: {
        bridge: { direction: 'corpus' },
        golden: goldenPath,
        steps: [25, 50, 100],
        backfill: { batchSize: 10, concurrency: 1 },
      },
    });
    expect(stepsOf(started)).toEqual([
      'bridge:done',
      'namespace:done',
      'probe:skipped',
      'migration:done',
      'freeze:done',
      'route:done',
      'transition:done',
    ]);
    const id = started.migration.id;
    const routing = (await app.backend.catalog.getAlias('docs')).routing;
    expect(routing).toEqual({
      kind: 'split',
      primary: derived,
      next,
      percent: 0,
      tenants: [],
      bridge: { adapter: started.migration.options.bridge?.adapter, direction: 'corpus' },
    });
    const status = await service.status(id);
    expect(status.serving).toBe(
      `0% of queries: ${next}, its not-yet-backfilled part answered through bridge ${name} (corpus); the rest: bridge ${name} (corpus) alone — ${derived}, old vectors mapped into the new space; the old model is not called`,
    );
    // The gates read the clean-old quality recorded on the golden set while the old model answered.
    expect(status.gates.find((g) => g.rule.startsWith('ndcg@10'))?.why).toMatch(
      /old = clean docs@old-v1 quality on .* recorded .* while its model still answered/,
    );

    // Day 0, 0% moved: every query is served by the bridge alone, with the new model.
    const day0 = await app.search('docs', { text: hot[0]?.text ?? '', k: 3 });
    expect(day0.trace.bridged).toBe(true);
    expect(day0.trace.reads.map((r) => r.namespace)).toEqual([derived]);
    expect(day0.hits[0]).toMatchObject({ sourceId: hot[0]?.id, bridged: true });

    // A failed drift re-evaluation of the adapter holds the traffic where it is (the bridge still serves);
    // the first batch re-embeds the most-queried documents natively.
    await evaluateAdapter(app, name, {
      golden,
      reason: 'drift',
      old: 'recorded',
      rules: ['bridged.ndcg@10 >= 2'],
    });
    const held = await service.step(id, { maxBatches: 1 });
    expect(
      [
        ...(
          await app.backend.store.heads(
            next,
            hot.map((d) => d.id),
          )
        ).keys(),
      ].sort(),
    ).toEqual(hot.map((d) => d.id).sort());
    expect((await service.status(id)).coverage.ratio).toBeGreaterThanOrEqual(0.25);
    expect(held.steps.find((s) => s.name === 'rollout')).toMatchObject({
      status: 'skipped',
      detail: expect.stringMatching(/holding 0%: the latest evaluation of adapter .* failed its gate/),
    });
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({ percent: 0 });
    expect((await app.search('docs', { text: hot[1]?.text ?? '', k: 1 })).trace.bridged).toBe(true);
    // Re-evaluated and passing again: the next step moves 25%, never more than coverage.
    expect((await evaluateAdapter(app, name, { golden, old: 'recorded' })).evaluation.passed).toBe(true);
    const moved = await service.step(id, { maxBatches: 1 });
    expect(moved.steps.find((s) => s.name === 'rollout')?.status).toBe('done');
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({
      kind: 'split',
      primary: derived,
      percent: 25,
    });

    // The moved share reads the new namespace fused with the bridge; the rest the bridge alone.
    const inside = await app.search('docs', { text: textRouted(true, 25), k: 5 });
    expect(inside.trace.fusion).toBe('coverage-aware-score');
    expect(inside.trace.reads.map((r) => r.namespace).sort()).toEqual([derived, next].sort());
    expect(inside.trace.bridged).toBe(true);
    const outside = await app.search('docs', { text: textRouted(false, 25), k: 5 });
    expect(outside.trace.reads.map((r) => r.namespace)).toEqual([derived]);

    // Backfill to the end, then one step per traffic share behind the gates, then the cutover.
    await stepUntil(service, id, ['rolling-out'], 30);
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({ percent: 50 });
    await service.step(id);
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({ percent: 100 });
    const cut = await service.cutover(id);
    const gates = cut.steps.find((s) => s.name === 'gates');
    expect(gates?.status).toBe('done');
    const data = gates?.data as { facts: Record<string, number>; baseline: { source: string } };
    expect(data.baseline.source).toBe('recorded');
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({ kind: 'single', namespace: next });
    const states = Object.fromEntries(
      (await app.backend.catalog.listNamespaces('docs')).map((n) => [n.name, n.state]),
    );
    expect(states).toMatchObject({ 'docs@old-v1': 'retiring', [derived]: 'retiring', [next]: 'serving' });
    // Invariant 9: the native namespace holds its own fingerprint only.
    expect(Object.keys((await app.backend.store.stats(next)).fingerprints)).toEqual([near.fingerprint]);
    expect(oldCalls).toBe(0);
  });

  it('query bridge: default probe gates read the clean-old quality recorded on the probe; a write goes to the new namespace only; rollback serves the old namespace again', async () => {
    const next = await partial(120);
    await gatedAdapter('query');
    await retireOldProvider(old);
    const started = await service.start({
      alias: 'docs',
      to: near.name,
      strategy: 'progressive',
      options: { bridge: { direction: 'query' }, steps: [50, 100] },
    });
    const id = started.migration.id;
    expect(started.migration.options.probe).toBe('docs');
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({
      kind: 'split',
      primary: 'docs@old-v1',
      percent: 0,
      bridge: { direction: 'query' },
    });
    const served = await app.search('docs', { text: textRouted(false, 50), k: 3 });
    expect(served.trace.reads).toMatchObject([
      { namespace: 'docs@old-v1', bridged: { direction: 'query', via: near.name } },
    ]);
    const written = await app.ingest('docs', [{ id: 'fresh', text: 'a brand new checkpoint tombstone' }]);
    expect(Object.keys(written.namespaces)).toEqual([next]);

    // 120 of 241 current (50%) is reachable once the backfill ran a little further.
    const stepped = await service.step(id, { maxBatches: 1 });
    expect(stepped.steps.find((s) => s.name === 'rollout')).toMatchObject({ status: 'done' });
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({ percent: 50 });
    await stepUntil(service, id, ['rolling-out']);
    const last = await service.step(id);
    const rollout = last.steps.find((s) => s.name === 'rollout');
    expect(rollout?.status).toBe('done');
    // The step to 100% read the default probe gates, their old side the clean quality recorded by adapter eval.
    const gates = (await service.get(id)).info.lastGates as {
      passed: boolean;
      results: { rule: string; passed: boolean }[];
      baseline: { source: string; set: string };
    };
    expect(gates.passed).toBe(true);
    expect(gates.results.map((r) => r.rule)).toContain('probe.mrr@10 >= old - 0.01');
    expect(gates.baseline).toMatchObject({ source: 'recorded', set: 'probe:docs' });
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({ percent: 100 });

    const back = await service.rollback(id, { reason: 'test' });
    expect(back.ok).toBe(true);
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({
      kind: 'single',
      namespace: 'docs@old-v1',
    });
    expect((await app.backend.catalog.getNamespace('docs@old-v1')).info.frozen).toBe(false);
    expect(oldCalls).toBe(0);
  });

  it('refuses a bridge in a shadow or blue-green migration, and creates nothing', async () => {
    await partial(120);
    await gatedAdapter('query');
    for (const strategy of ['shadow', 'blue-green'] as const) {
      await expect(
        service.start({
          alias: 'docs',
          to: near.name,
          strategy,
          options: { bridge: { direction: 'query' } },
        }),
      ).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/lazy or progressive/),
      });
    }
    expect(await service.list({ active: true })).toEqual([]);
    expect((await app.backend.catalog.getNamespace('docs@old-v1')).info.frozen).toBeUndefined();
  });
});
