import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import { openReembed } from '../../src/app/open.js';
import type { Reembed } from '../../src/app/reembed.js';
import { hashingSpace } from '../../src/embedders/factory.js';
import { PG_SKIP_LINE, PG_URL, uniqueSchema } from '../../src/stores/pg/test-support.js';
import { stepUntil, tempApp } from './helpers.js';

/**
 * Shadow agreement without a MigrationService in the serving process, and on demand: a plain
 * `openReembed` app records samples (and, opted in, query texts) by itself; `replay` records a shadow
 * gate's samples from the probe, a file, or the kept queries.
 */
const TOPICS = [
  'Vitamin D deficiency raises the risk of hip fractures in older adults.',
  'Statins lower cholesterol and reduce cardiovascular events in trials.',
  'Aspirin use is linked to fewer colorectal cancers over long follow-up.',
  'Sleep loss impairs memory consolidation in young healthy volunteers.',
  'Air pollution exposure increases asthma admissions in children.',
];

/** 120 documents of four sentences each, about five topics, in two tenants. */
function corpus(): { id: string; text: string; tenant: string }[] {
  return Array.from({ length: 120 }, (_, i) => ({
    id: `d${String(i).padStart(3, '0')}`,
    text: `${TOPICS[i % 5]} Cohort ${i} enrolled ${100 + i} patients in ${['Oslo', 'Lyon', 'Kyoto'][i % 3]}. The follow-up lasted ${1 + (i % 9)} years with annual visits. Outcome ${i} was adjudicated blindly by two physicians.`,
    tenant: i % 4 === 0 ? 'acme' : 'globex',
  }));
}

const v1 = hashingSpace('v1', { dimension: 256, seed: 1 });
const v2 = hashingSpace('v2', { dimension: 256, seed: 2, ngrams: 2 });

async function prepare(app: Reembed): Promise<void> {
  for (const s of [v1, v2]) await app.addSpace(s);
  await app.createCollection('docs', 'v1');
  await app.ingest('docs', corpus());
}

describe('shadow samples from a plain openReembed app, and replay', () => {
  let ctx: Awaited<ReturnType<typeof tempApp>>;
  let service: MigrationService;
  beforeEach(async () => {
    ctx = await tempApp();
    await prepare(ctx.app);
    service = new MigrationService(ctx.app, { flushMs: 0 });
  });
  afterEach(async () => {
    await service.close();
    await ctx.cleanup();
  });

  it('records agreement and kept query texts from another process-like app with no wiring', async () => {
    const { migration } = await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'shadow',
      options: { sampleRate: 1, keepQueries: { max: 5, for: '1h' } },
    });
    await stepUntil(service, migration.id, ['shadowing']);
    // A second app on the same file, as a serving process would open it: openReembed and search, nothing else.
    const serving = await openReembed({ db: ctx.db, actor: 'web' });
    for (let i = 0; i < 12; i++) {
      await serving.search('docs', {
        text: `${TOPICS[i % 5]} query ${i}`,
        k: 10,
        filter: { tenant: 'globex' },
      });
    }
    await serving.close(); // flushes what it recorded
    const status = await service.status(migration.id);
    expect(status.agreement?.samples).toBe(12);
    expect(status.agreement?.tenants.globex?.samples).toBe(12);
    const kept = await ctx.app.backend.migrations?.recentQueries?.(migration.id, 100);
    expect(kept?.map((q) => q.text)).toEqual(
      [7, 8, 9, 10, 11].map((i) => `${TOPICS[i % 5]} query ${i}`).reverse(),
    );
    expect(kept?.[0]?.tenant).toBe('globex');

    const recent = await service.replay(migration.id, { source: { kind: 'recent' } });
    expect([recent.queries, recent.recorded]).toEqual([5, 5]);
    expect(recent.agreement.samples).toBe(17);

    // Query texts go with the migration.
    await service.cutover(migration.id, { force: true, reason: 'test' });
    expect(await ctx.app.backend.migrations?.recentQueries?.(migration.id, 100)).toEqual([]);
  });

  it('replays the probe and a file; refuses where the gates would not read the samples', async () => {
    const { migration } = await service.start({ alias: 'docs', to: 'v2', strategy: 'shadow' });
    await expect(service.replay(migration.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await stepUntil(service, migration.id, ['shadowing']);
    const refused = (await service.cutover(migration.id).catch((e: unknown) => e)) as Error;
    expect(refused.message).toMatch(/shadow\.samples >= 20.*reembed migrate replay docs/);

    const probe = await service.replay(migration.id);
    expect(probe.source).toBe('probe:docs');
    expect(probe.recorded).toBeGreaterThanOrEqual(30);
    expect(probe.overlap).toBeGreaterThan(0);
    const file = join(ctx.dir, 'queries.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ query: TOPICS[0], tenant: 'acme' })}\nstatins and heart attacks\n\n`,
    );
    const fromFile = await service.replay(migration.id, { source: { kind: 'file', path: file } });
    expect([fromFile.queries, fromFile.recorded]).toEqual([2, 2]);
    expect(fromFile.agreement.tenants.acme?.samples).toBeGreaterThanOrEqual(1);
    writeFileSync(file, '{"text": ""}\n');
    await expect(service.replay(migration.id, { source: { kind: 'file', path: file } })).rejects.toThrow(
      /queries.jsonl:1: a query line needs a non-empty "query"/,
    );
    await expect(service.replay(migration.id, { source: { kind: 'recent' } })).rejects.toThrow(/opt-in/);
    const cut = await service.cutover(migration.id);
    expect(cut.ok).toBe(true);
    expect((await service.get(migration.id)).info.replays).toHaveLength(2);
  });

  it('refuses replay for a strategy whose gates read no agreement', async () => {
    const { migration } = await service.start({ alias: 'docs', to: 'v2', strategy: 'blue-green' });
    await expect(service.replay(migration.id)).rejects.toThrow(/probe eval .* --old docs@v1 --new docs@v2/);
  });
});

describe.skipIf(!PG_URL)(`probe gates and replay on PostgreSQL${PG_URL ? '' : ` (${PG_SKIP_LINE})`}`, () => {
  it('builds the probe, replays it and cuts over with the default gates', async () => {
    const app = await openReembed({
      pg: PG_URL as string,
      pgSchema: uniqueSchema(),
      pgDropSchemaOnClose: true,
      actor: 'test',
    });
    const service = new MigrationService(app, { flushMs: 0 });
    try {
      await prepare(app);
      const { migration } = await service.start({ alias: 'docs', to: 'v2', strategy: 'shadow' });
      expect(migration.options.probe).toBe('docs');
      expect((await app.backend.probes?.list())?.map((p) => p.name)).toEqual(['docs']);
      await stepUntil(service, migration.id, ['shadowing']);
      const replay = await service.replay(migration.id);
      expect(replay.agreement.samples).toBe(replay.recorded);
      const cut = await service.cutover(migration.id);
      expect(cut.ok).toBe(true);
      const gates = cut.steps.find((s) => s.name === 'gates');
      const facts = (gates?.data ?? { facts: {} }) as { facts: Record<string, number> };
      expect(facts.facts['probe.queries']).toBeGreaterThanOrEqual(30);
    } finally {
      await service.close();
      await app.close();
    }
  }, 120_000);
});
