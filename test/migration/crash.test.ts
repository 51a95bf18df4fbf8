import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import { openReembed } from '../../src/app/open.js';
import { crashTrial, hasCheckpoint, resumeAndCheck } from './crash-trial.js';
import { corpus, hashing, tempApp } from './helpers.js';

const TRIALS = 20;

let ctx: Awaited<ReturnType<typeof tempApp>>;

beforeAll(async () => {
  ctx = await tempApp();
  await ctx.app.addSpace(hashing('v1', 1));
  await ctx.app.addSpace(hashing('v2', 2));
  await ctx.app.createCollection('docs', 'v1');
  await ctx.app.ingest('docs', corpus(4000));
  await ctx.app.close();
});
afterAll(async () => ctx.cleanup());

describe('crash safety (invariant 6)', () => {
  it(`loses and mixes nothing when a backfill with concurrent writes is SIGKILLed ${TRIALS} times`, async () => {
    let killed = 0;
    let seed = 7;
    for (let trial = 0; trial < TRIALS; trial++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const r = await crashTrial([ctx.db, String(seed)], 10 + (seed % 250));
      if (r.killed) killed++;
    }
    expect(killed).toBeGreaterThanOrEqual(TRIALS - 2);
    // On a loaded machine every random delay may end before the child's first commit; then kill later
    // (still mid-backfill: a pass takes seconds) until a checkpoint exists, so the kills test a resume.
    for (let extra = 0; extra < 4 && !(await hasCheckpoint({ db: ctx.db })); extra++)
      await crashTrial([ctx.db, String(seed + extra)], 400 * 2 ** extra);

    const app = await openReembed({ db: ctx.db, actor: 'test' });
    const service = new MigrationService(app);
    try {
      const migration = await service.current('docs');
      expect(migration).not.toBeNull();
      const id = (migration as { id: string }).id;
      // The kills landed mid-backfill: the target is partly built and a checkpoint was committed.
      const before = (await service.status(id)).coverage.ratio;
      expect(before).toBeGreaterThan(0);
      expect(before).toBeLessThan(1);
      expect((await service.status(id)).checkpoint).not.toBeNull();
      await resumeAndCheck(app, service, id, 4000);
      const stats = await app.backend.store.stats('docs@v2');
      expect(Object.keys(stats.fingerprints)).toEqual([hashing('v2', 2).fingerprint]);
      expect(Object.keys(stats.dimensions)).toEqual(['64']);
      expect((await app.backend.jobs?.countDeadLetters('docs@v2')) ?? 0).toBe(0);
    } finally {
      await service.close();
      await app.close();
    }
  }, 120_000);
});
