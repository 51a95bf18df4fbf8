import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import type { Migration } from '../../src/core/migration.js';
import { hashingSpace } from '../../src/embedders/factory.js';
import { corpus, hashing, TestClock, tempApp } from '../migration/helpers.js';

/**
 * The progressive rollout schedule: traffic moves one configured step per `migrate step` — during the
 * backfill never beyond coverage and never while quality is forecast worse or cannot be measured, after
 * validation only once the step hold has passed and the gates (probe gates by default) pass — instead of
 * jumping 0 → 50 → 100% once the backfill is done.
 */
let ctx: Awaited<ReturnType<typeof tempApp>>;
let service: MigrationService;
let clock: TestClock;

const TOPICS = [
  'Vitamin D deficiency raises the risk of hip fractures in older adults.',
  'Statins lower cholesterol and reduce cardiovascular events in trials.',
  'Aspirin use is linked to fewer colorectal cancers over long follow-up.',
  'Sleep loss impairs memory consolidation in young healthy volunteers.',
  'Air pollution exposure increases asthma admissions in children.',
];

/** 120 documents of four sentences each: enough for a probe (the default gates then measure quality). */
function probeable(): { id: string; text: string }[] {
  return Array.from({ length: 120 }, (_, i) => ({
    id: `d${String(i).padStart(3, '0')}`,
    text: `${TOPICS[i % 5]} Cohort ${i} enrolled ${100 + i} patients in ${['Oslo', 'Lyon', 'Kyoto'][i % 3]}. The follow-up lasted ${1 + (i % 9)} years with annual visits. Outcome ${i} was adjudicated blindly by two physicians.`,
  }));
}

beforeEach(async () => {
  ctx = await tempApp();
  clock = new TestClock(Date.now());
  service = new MigrationService(ctx.app, { clock });
  await ctx.app.addSpace(hashing('v1', 1));
  await ctx.app.addSpace(hashingSpace('v2', { dimension: 256, seed: 2, ngrams: 2 }));
});
afterEach(async () => {
  await service.close();
  await ctx.cleanup();
});

const percentOf = async (_id: string): Promise<number> => {
  const alias = await ctx.app.backend.catalog.getAlias('docs');
  return alias.routing.kind === 'split' ? alias.routing.percent : alias.routing.kind === 'single' ? 100 : -1;
};

async function start(
  documents: readonly { id: string; text: string }[],
  options: Record<string, unknown> = {},
): Promise<Migration> {
  await ctx.app.createCollection('docs', 'v1');
  await ctx.app.ingest('docs', documents);
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
    const m = await start(probeable());
    expect(m.options.probe).toBe('docs'); // default gates: the probe's, measured at every step
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
    const m = await start(corpus(60), {
      stepHold: '1h',
      gates: ['errors == 0', 'coverage >= 1.0', 'recall@10 >= 0.9'],
    });
    await service.step(m.id);
    await service.step(m.id); // → rolling-out at 10%
    const held = await service.step(m.id);
    expect(held.steps[0]?.detail).toMatch(/^holding 10% until .* \(step hold 1h\)/);
    expect(await percentOf(m.id)).toBe(10);
    clock.advance(3_600_001);
    const gated = await service.step(m.id);
    expect(gated.steps[0]?.detail).toContain('holding 10%: waiting on gate "recall@10 >= 0.9"');
    expect(gated.steps[0]?.detail).toContain('To pass: quality: these rules need a golden set');
    expect(await percentOf(m.id)).toBe(10);
  });

  it('moves no traffic while quality cannot be measured (no golden set, no probe), and says how to pass', async () => {
    const m = await start(corpus(60)); // short documents: too few give a probe query
    expect(m.options.probe).toBeNull();
    const backfill = await service.step(m.id);
    expect(backfill.steps.find((s) => s.name === 'rollout')?.detail).toBe(
      'holding 0%: quality is not measured (no golden set, no probe): traffic moves only with a cutover forced with a reason',
    );
    expect(await percentOf(m.id)).toBe(0);
    await service.step(m.id); // validating → rolling-out
    const held = await service.step(m.id);
    const detail = held.steps[0]?.detail ?? '';
    expect(detail).toMatch(
      /^holding 0%: waiting on gate "quality\.measured >= 1" \(quality is not measured: .*a probe needs at least 30/,
    );
    expect(detail).toContain('To pass: quality: pass a judged golden set to the cutover (--golden DIR|NAME)');
    expect(await percentOf(m.id)).toBe(0);
  });
});
