import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import type { Reembed } from '../../src/app/reembed.js';
import { seededRandom } from '../../src/core/significance.js';
import { createHashingEmbedder } from '../../src/embedders/hashing.js';
import { faultyEmbedder } from './embedders.js';
import { assertNamespaceMatchesSource, corpus, hashing, stepsOf, TestClock, tempApp } from './helpers.js';

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
let service: MigrationService;
const v1 = hashing('v1', 1);
const v2 = hashing('v2', 2);
const POISON = [
  { id: 'poison-nan', text: 'this text makes the provider answer NaN' },
  { id: 'poison-dim', text: 'this text makes the provider answer a short vector' },
];

beforeEach(async () => {
  ctx = await tempApp();
  app = ctx.app;
  await app.addSpace(v1);
  await app.addSpace(v2);
  await app.createCollection('docs', 'v1');
  await app.ingest('docs', [...corpus(300), ...POISON]);
  service = new MigrationService(app, { flushMs: 0, clock: new TestClock() });
});
afterEach(async () => {
  await service.close();
  await ctx.cleanup();
});

describe('provider faults during a backfill', () => {
  it('retries transient errors and timeouts, dead-letters poison items, writes nothing invalid', async () => {
    const { migration } = await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'blue-green',
      options: { backfill: { batchSize: 16, concurrency: 4, timeoutMs: 30, maxRetries: 12 } },
    });
    const faulty = faultyEmbedder(createHashingEmbedder(v2), {
      transientRate: 0.15,
      rateLimitRate: 0.1,
      hangRate: 0.05,
      poison: (text) => (text.includes('NaN') ? 'nan' : text.includes('short vector') ? 'dimension' : null),
      random: seededRandom(42),
    });
    app.embedders.set(v2, faulty);

    const report = await service.step(migration.id);
    expect(stepsOf(report)).toEqual(['backfill:done', 'validate:skipped']);
    expect(report.steps[1]?.detail).toContain('2 dead-lettered');
    const backfill = report.steps[0]?.data?.report as {
      retries: number;
      deadLettered: number;
      status: string;
    };
    expect(backfill.status).toBe('done');
    expect(backfill.retries).toBeGreaterThan(5);
    expect(backfill.deadLettered).toBe(2);
    expect(faulty.hung).toBeGreaterThan(0);

    const dead = await app.backend.jobs?.listDeadLetters('docs@v2');
    expect(dead?.map((d) => [d.sourceId, d.code])).toEqual([
      ['poison-dim', 'DIMENSION_MISMATCH'],
      ['poison-nan', 'INVALID_VECTOR'],
    ]);
    expect(dead?.every((d) => d.reason.length > 0 && d.sourceVersion > 0)).toBe(true);
    const stats = await app.backend.store.stats('docs@v2');
    expect(stats.dimensions).toEqual({ 64: 300 });
    expect(stats.fingerprints).toEqual({ [v2.fingerprint]: 300 });
    const heads = await app.backend.store.heads('docs@v2', [
      'poison-nan',
      'poison-dim',
      'doc-00000',
      'doc-00299',
    ]);
    expect([...heads.keys()].sort()).toEqual(['doc-00000', 'doc-00299']);

    // The gates see the dead letters.
    await expect(service.cutover(migration.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });

    // The provider is fixed: retry-dead lands the two items and the migration validates.
    app.embedders.set(v2, createHashingEmbedder(v2));
    const runner = await service.backfill({ migration, mode: 'dead-letters' });
    const retried = await runner.run();
    expect(retried).toMatchObject({ status: 'done', written: 2, deadLettered: 0 });
    expect(await app.backend.jobs?.countDeadLetters('docs@v2')).toBe(0);
    const next = await service.step(migration.id);
    expect(next.migration.state).toBe('validating');
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });

  it('stops with a resumable failure when transient errors outlast the retries, losing nothing', async () => {
    const { migration } = await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'blue-green',
      options: { backfill: { batchSize: 10, concurrency: 2, maxRetries: 2 } },
    });
    let healthy = 10;
    const base = createHashingEmbedder(v2);
    app.embedders.set(v2, {
      ...base,
      embed: async (texts, options) => {
        if (healthy-- <= 0) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return base.embed(texts, options);
      },
    });
    const failed = await service.step(migration.id);
    expect(stepsOf(failed)).toEqual(['backfill:failed']);
    expect(failed.steps[0]?.detail).toContain('socket hang up');
    const job = await app.backend.jobs?.getJob('backfill:docs@v2');
    expect(job?.state).toBe('failed');
    expect(await app.backend.jobs?.countDeadLetters('docs@v2')).toBe(0);

    app.embedders.set(v2, base);
    const resumed = await service.step(migration.id);
    expect(resumed.migration.state).toBe('validating');
    // The resumed pass starts at the checkpoint: it re-reads at most the batches that were in flight.
    const report = resumed.steps[0]?.data?.report as { written: number; skipped: number };
    expect(report.skipped).toBeLessThanOrEqual(2 * 10);
    expect(report.written).toBeGreaterThan(0);
    // Across the failed and the resumed run every source was written exactly once.
    expect((await app.backend.jobs?.getJob('backfill:docs@v2'))?.counters.written).toBe(302);
    expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
  });
});
