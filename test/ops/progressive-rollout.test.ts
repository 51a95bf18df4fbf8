import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import type { Migration } from '../../src/core/migration.js';
import { corpus, hashing, TestClock, tempApp } from '../migration/helpers.js';

/**
 * The progressive rollout schedule: traffic moves one configured step per `migrate step` — during the
 * backfill never beyond coverage, after validation only once the step hold has passed and the gates
 * pass — instead of jumping 0 → 50 → 100% once the backfill is done.
 */
let ctx: Awaited<ReturnType<typeof tempApp>>;
let service: MigrationService;
let clock: TestClock;

beforeEach(async () => {
  ctx = await tempApp();
  clock = new TestClock(Date.now());
  service = new MigrationService(ctx.app, { clock });
  await ctx.app.addSpace(hashing('v1', 1));
  await ctx.app.addSpace(hashing('v2', 2));
  await ctx.app.createCollection('docs', 'v1');
  await ctx.app.ingest('docs', corpus(60));
});
afterEach(async () => {
  await service.close();
  await ctx.cleanup();
});

const percentOf = async (_id: string): Promise<number> => {
  const alias = await ctx.app.backend.catalog.getAlias('docs');
  return alias.routing.kind === 'split' ? alias.routing.percent : alias.routing.kind === 'single' ? 100 : -1;
};

async function start(options: Record<string, unknown> = {}): Promise<Migration> {
  const { migration } = await service.start({
    alias: 'docs',
    to: 'v2',
    strategy: 'progressive',
    options: { steps: [10, 25, 50, 100], ...options },
  });
  return migration;
}

describe('progressive rollout: one step per migrate step, each behind its gate', () => {
  it('a backfill that finishes in one call moves traffic one step (10%), then 25, 50, 100 step by step', async () => {
    const m = await start();
    await service.step(m.id); // the whole backfill in one call
    expect((await service.get(m.id)).state).toBe('validating');
    expect(await percentOf(m.id)).toBe(10);
    await service.step(m.id); // validating → rolling-out
    expect(await percentOf(m.id)).toBe(10);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      await service.step(m.id);
      seen.push(await percentOf(m.id));
    }
    expect(seen).toEqual([25, 50, 100]);
    const last = await service.step(m.id);
    expect(last.steps[0]?.detail).toContain('run cutover');
    // Every move is an audited alias write with its percentage.
    const reasons = (await ctx.app.auditLog({ target: 'docs', action: 'alias.set' })).map(
      (e) => e.details.reason,
    );
    expect(reasons.filter((r) => String(r).includes('rollout'))).toEqual([
      `migration ${m.id}: rollout 10%`,
      `migration ${m.id}: rollout 25%`,
      `migration ${m.id}: rollout 50%`,
      `migration ${m.id}: rollout 100%`,
    ]);
  });

  it('holds a step for --step-hold, and while a gate fails', async () => {
    const m = await start({ stepHold: '1h', gates: ['errors == 0', 'coverage >= 1.0', 'recall@10 >= 0.9'] });
    await service.step(m.id);
    await service.step(m.id); // → rolling-out at 10%
    const held = await service.step(m.id);
    expect(held.steps[0]?.detail).toMatch(/^holding 10% until .* \(step hold 1h\)/);
    expect(await percentOf(m.id)).toBe(10);
    clock.advance(3_600_001);
    const gated = await service.step(m.id);
    expect(gated.steps[0]?.detail).toContain('holding 10%: waiting on "recall@10 >= 0.9"');
    expect(await percentOf(m.id)).toBe(10);
  });
});
