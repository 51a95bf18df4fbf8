import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import type { Reembed } from '../../src/app/reembed.js';
import {
  assertNamespaceMatchesSource,
  corpus,
  hashing,
  stepsOf,
  stepUntil,
  TestClock,
  tempApp,
} from './helpers.js';

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
let service: MigrationService;
const v1 = hashing('v1', 1);
const v2 = hashing('v2', 2); // same dimension, different geometry
const DOCS = corpus(120);
const DAY = 86_400_000;

beforeEach(async () => {
  ctx = await tempApp();
  app = ctx.app;
  await app.addSpace(v1);
  await app.addSpace(v2);
  await app.createCollection('docs', 'v1');
  await app.ingest('docs', DOCS);
  service = new MigrationService(app, { flushMs: 0 });
});
afterEach(async () => {
  await service.close();
  await ctx.cleanup();
});

async function search(text: string, options: { tenant?: string } = {}) {
  return app.search('docs', {
    text,
    k: 5,
    ...(options.tenant ? { filter: { tenant: options.tenant } } : {}),
  });
}

describe('blue-green', () => {
  it('builds offline, validates, cuts over in one alias write, and retires after the window', async () => {
    const started = await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'blue-green',
      options: { backfill: { batchSize: 16 } },
    });
    const id = started.migration.id;
    expect(stepsOf(started)).toEqual([
      'namespace:done',
      'probe:done',
      'migration:done',
      'route:skipped',
      'transition:done',
    ]);
    expect(started.migration.state).toBe('backfilling');
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({
      kind: 'single',
      namespace: 'docs@v1',
    });

    // Queries keep working on v1 and new writes reach both namespaces from now on.
    expect((await search('cutover rollback')).trace.reads.map((r) => r.namespace)).toEqual(['docs@v1']);
    await app.ingest('docs', [{ id: 'late', text: 'written during the migration' }]);
    expect((await app.backend.store.heads('docs@v2', ['late'])).get('late')?.deleted).toBe(false);

    const backfill = await service.step(id);
    expect(stepsOf(backfill)).toEqual(['backfill:done', 'validate:done']);
    expect(backfill.migration.state).toBe('validating');
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);

    const cut = await service.cutover(id);
    expect(stepsOf(cut)).toEqual([
      'gates:done',
      'alias:done',
      'complete:done',
      'namespaces:done',
      'retiring:done',
      'release:done',
    ]);
    expect(cut.migration.state).toBe('retiring');
    expect(cut.migration.completedAt).not.toBeNull();
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({
      kind: 'single',
      namespace: 'docs@v2',
    });
    expect((await search('cutover rollback')).trace.fingerprints).toEqual([v2.fingerprint]);
    expect((await app.backend.catalog.getNamespace('docs@v2')).state).toBe('serving');
    expect((await app.backend.catalog.getNamespace('docs@v1')).state).toBe('retiring');

    // Retirement: kept inside the window, dropped after it (no traffic), manifest and history stay.
    const now = Date.now();
    const early = await service.retire({ now: new Date(now + DAY) });
    expect(early.namespaces).toEqual([expect.objectContaining({ namespace: 'docs@v1', status: 'kept' })]);
    const late = await service.retire({ now: new Date(now + 8 * DAY) });
    expect(late.namespaces).toEqual([expect.objectContaining({ namespace: 'docs@v1', status: 'retired' })]);
    expect((await app.backend.catalog.getNamespace('docs@v1')).state).toBe('retired');
    expect(await app.backend.store.describeNamespace('docs@v1')).toBeNull();
    expect((await service.get(id)).state).toBe('retired');
    // Dual-writes stopped: ingest after retirement touches only the serving namespace.
    const after = await app.ingest('docs', [{ id: 'after', text: 'after retirement' }]);
    expect(Object.keys(after.namespaces)).toEqual(['docs@v2']);

    const audit = await app.backend.catalog.listAudit({ subject: id });
    expect(audit.map((a) => a.action)).toEqual([
      'migration.create',
      'migration.transition',
      'migration.transition',
      'migration.transition',
      'migration.transition',
      // After the commit the cutover records the gates it passed (`migrate status` shows them).
      'migration.info',
      'migration.transition',
    ]);
    expect(audit[5]?.details).toMatchObject({ patch: { lastGates: { passed: true } } });
    expect(audit.filter((a) => a.action === 'migration.transition').map((a) => a.details.to)).toEqual([
      'backfilling',
      'validating',
      'cut-over',
      'retiring',
      'retired',
    ]);
    expect(audit.every((a) => a.actor === 'test')).toBe(true);
    expect(
      (await app.backend.catalog.listAudit({ subject: 'docs@v1', action: 'namespace.retire' })).length,
    ).toBe(1);
  });

  it('keeps a namespace that still receives traffic, and refuses to cut over before validation', async () => {
    const clock = new TestClock();
    await service.close();
    service = new MigrationService(app, { flushMs: 0, clock });
    const HOUR = 3_600_000;
    const { migration } = await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'blue-green',
      options: { rollbackWindow: '1h' },
    });
    await expect(service.cutover(migration.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await stepUntil(service, migration.id, ['validating']);
    await service.cutover(migration.id);
    // Someone still reads v1 through another alias: it is neither dropped nor quiet.
    await app.backend.catalog.setAlias('legacy', 'docs', { kind: 'single', namespace: 'docs@v1' }, 'test');
    clock.advance(2 * HOUR);
    expect((await service.retire()).namespaces[0]).toMatchObject({
      status: 'kept',
      reason: expect.stringContaining('legacy'),
    });
    await app.search('legacy', { text: 'a late reader of v1' });
    await app.backend.catalog.setAlias('legacy', 'docs', { kind: 'single', namespace: 'docs@v2' }, 'test');
    clock.advance(HOUR / 2);
    expect((await service.retire()).namespaces[0]).toMatchObject({
      status: 'kept',
      reason: expect.stringContaining('read at'),
    });
    clock.advance(HOUR);
    expect((await service.retire({ dryRun: true })).namespaces[0]).toMatchObject({ status: 'would-retire' });
    expect((await service.retire()).namespaces[0]).toMatchObject({ status: 'retired' });
    expect((await service.retire()).namespaces).toEqual([]);
  });

  it('rolls back after cutover: the alias serves the old namespace, both namespaces are kept', async () => {
    const loaded = async (namespace: string) =>
      ((await app.backend.store.describeIndex?.(namespace)) as { exactLoaded?: boolean } | undefined)
        ?.exactLoaded;
    const before = await search('rolled back reads');
    expect(await loaded('docs@v1')).toBe(true);
    const { migration } = await service.start({ alias: 'docs', to: 'v2', strategy: 'blue-green' });
    await stepUntil(service, migration.id, ['validating']);
    await service.cutover(migration.id);
    // The retired namespace's exact matrix was released by the cutover; a search after the rollback reloads it.
    expect(await loaded('docs@v1')).toBe(false);
    const back = await service.rollback(migration.id, { reason: 'latency regression' });
    expect(stepsOf(back)).toEqual(['route:done', 'namespaces:done', 'transition:done']);
    expect(back.migration.state).toBe('rolled-back');
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({
      kind: 'single',
      namespace: 'docs@v1',
    });
    expect((await app.backend.catalog.getNamespace('docs@v1')).state).toBe('serving');
    expect((await app.backend.catalog.getNamespace('docs@v2')).state).toBe('retiring');
    expect((await app.backend.store.stats('docs@v2')).sources).toBe(DOCS.length);
    expect(await assertNamespaceMatchesSource(app, 'docs@v1')).toEqual([]);
    const after = await search('rolled back reads');
    expect(after.hits).toEqual(before.hits);
    expect(after.hits.length).toBe(5);
    expect(await loaded('docs@v1')).toBe(true);
    await expect(service.rollback(migration.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    // A new migration to the same space may start again and reuses what the namespace holds.
    const again = await service.start({ alias: 'docs', to: 'v2', strategy: 'blue-green' });
    expect(again.steps[0]?.detail).toContain('reusing');
    const step = await service.step(again.migration.id);
    expect(step.steps[0]?.data?.report).toMatchObject({ written: 0, skipped: DOCS.length });
  });
});

describe('shadow', () => {
  it('serves the old namespace, records agreement on sampled queries, and cuts over when gates pass', async () => {
    const { migration } = await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'shadow',
      options: { sampleRate: 1, minShadowSamples: 6 },
    });
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({
      kind: 'shadow',
      primary: 'docs@v1',
      shadow: 'docs@v2',
    });
    const during = await search('shadow canary traffic');
    // The shadow read runs after the answer, off the serving path: the trace holds the served read.
    expect(during.trace.reads.map((r) => [r.namespace, r.role])).toEqual([['docs@v1', 'served']]);
    expect(during.trace.fingerprints).toEqual([v1.fingerprint]);

    await stepUntil(service, migration.id, ['shadowing']);
    await expect(service.cutover(migration.id)).rejects.toMatchObject({
      code: 'GATE_FAILED',
      message: expect.stringContaining('shadow.samples >= 6'),
    });
    for (const [i, q] of [
      'vector index',
      'query latency',
      'tenant alias',
      'rank fusion',
      'crash resume',
      'quota provider',
    ].entries()) {
      await search(q, i % 2 ? { tenant: 't1' } : {});
    }
    await service.observer.flush();
    const status = await service.status(migration.id);
    expect(status.agreement?.samples).toBeGreaterThanOrEqual(7);
    expect(status.agreement?.overlap[5]).toBeGreaterThan(0);
    expect(status.agreement?.rbo).toBeGreaterThan(0);
    expect(Object.keys(status.agreement?.tenants ?? {}).sort()).toEqual(['', 't1']);
    const cut = await service.cutover(migration.id);
    expect(cut.ok).toBe(true);
    const gates = cut.steps[0]?.data?.facts as Record<string, number>;
    expect(gates['shadow.samples']).toBe(6);
    expect(gates['shadow.overlap@5']).toBeGreaterThan(0);
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({
      kind: 'single',
      namespace: 'docs@v2',
    });
  });
});

describe('progressive', () => {
  it('backfills the most-queried documents first and moves a tenant once all its documents are current', async () => {
    await app.ingest('docs', [
      { id: 'vip-1', text: 'platinum customer contract renewal', tenant: 'vip' },
      { id: 'vip-2', text: 'platinum customer escalation path', tenant: 'vip' },
    ]);
    for (let i = 0; i < 3; i++) await search('platinum customer', { tenant: 'vip' });
    await search('unique7');
    await service.observer.flush();
    const { migration } = await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'progressive',
      options: { steps: [25, 50, 100], backfill: { batchSize: 4, concurrency: 1 } },
    });
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({
      kind: 'split',
      primary: 'docs@v1',
      next: 'docs@v2',
      percent: 0,
      tenants: [],
    });
    const first = await service.step(migration.id, { maxBatches: 1 });
    expect(stepsOf(first)).toEqual(['backfill:done', 'rollout:done']);
    const heads = await app.backend.store.heads('docs@v2', ['vip-1', 'vip-2', 'doc-00000']);
    expect([...heads.keys()].sort()).toEqual(['vip-1', 'vip-2']);
    const routing = (await app.backend.catalog.getAlias('docs')).routing;
    expect(routing).toMatchObject({ kind: 'split', percent: 0, tenants: ['vip'] });
    const vip = await search('platinum customer', { tenant: 'vip' });
    expect(vip.trace.reads.map((r) => r.namespace)).toEqual(['docs@v2']);
    expect((await search('platinum customer', { tenant: 't1' })).trace.reads.map((r) => r.namespace)).toEqual(
      ['docs@v1'],
    );

    // Half way: the share never exceeds coverage.
    await service.step(migration.id, { maxBatches: 14 });
    const mid = (await service.get(migration.id)).info.rolloutPercent as number;
    const coverage = (await service.status(migration.id)).coverage.ratio;
    expect(mid).toBeLessThanOrEqual(coverage * 100);
    expect(mid).toBe(25);

    await stepUntil(service, migration.id, ['rolling-out']);
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({ percent: 50 });
    await service.step(migration.id);
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({ percent: 100 });
    expect(stepsOf(await service.step(migration.id))).toEqual(['rollout:skipped']);
    const cut = await service.cutover(migration.id);
    expect(cut.ok).toBe(true);
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });
});

describe('lazy', () => {
  it('fuses by rank without embed-on-read, queues unmigrated hits and re-embeds them first', async () => {
    const { migration } = await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'lazy',
      options: { backfill: { batchSize: 8 }, fusion: { method: 'coverage-aware-rrf', embedOnRead: false } },
    });
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({
      kind: 'fused',
      fusion: { method: 'coverage-aware-rrf', embedOnRead: false },
    });
    const r = await search('backfill tombstone tenant');
    expect(r.trace.fusion).toBe('coverage-aware-rrf');
    expect(r.trace.mixedVersion).toBe(false);
    expect(r.hits.every((h) => h.namespace === 'docs@v1')).toBe(true);
    await service.observer.flush();
    const queued = r.hits.map((h) => h.sourceId);
    expect((await service.status(migration.id)).queued).toBe(queued.length);

    await service.step(migration.id, { maxBatches: 1 });
    const heads = await app.backend.store.heads('docs@v2', queued);
    expect(heads.size).toBe(queued.length);
    expect((await service.status(migration.id)).queued).toBe(0);
    const again = await search('backfill tombstone tenant');
    expect(again.hits.some((h) => h.namespace === 'docs@v2')).toBe(true);

    await stepUntil(service, migration.id, ['validating']);
    expect((await service.cutover(migration.id)).ok).toBe(true);
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });

  it('by default embeds served old-space hits in the new space on read and writes them (re-embed on hit)', async () => {
    const { migration } = await service.start({ alias: 'docs', to: 'v2', strategy: 'lazy' });
    expect((await app.backend.catalog.getAlias('docs')).routing).toMatchObject({
      kind: 'fused',
      fusion: { method: 'coverage-aware-score' },
    });
    const before = await app.backend.store.stats('docs@v2');
    expect(before.sources).toBe(0);
    const r = await search('backfill tombstone tenant');
    expect(r.trace.fusion).toBe('coverage-aware-score');
    expect(r.trace.mixedVersion).toBe(false);
    await service.observer.flush();
    // Every served source is now in the new namespace at its current version; nothing waits in the queue.
    const served = r.hits.map((h) => h.sourceId);
    const heads = await app.backend.store.heads('docs@v2', served);
    expect(heads.size).toBe(served.length);
    const sources = await app.backend.sources.getMany('docs', served);
    for (const id of served) expect(heads.get(id)?.sourceVersion).toBe(sources.get(id)?.version);
    expect((await service.status(migration.id)).queued).toBe(0);
    const stats = await app.backend.store.stats('docs@v2');
    expect(Object.keys(stats.fingerprints)).toEqual([(await app.backend.catalog.getSpace('v2')).fingerprint]);

    await stepUntil(service, migration.id, ['validating']);
    expect((await service.cutover(migration.id)).ok).toBe(true);
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });
});
