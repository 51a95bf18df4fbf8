import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import type { Reembed } from '../../src/app/reembed.js';
import type { Space } from '../../src/core/space.js';
import { withTitle } from '../../src/corpus/document.js';
import { hashingSpace, lsaSpace, wordVectorSpace } from '../../src/embedders/factory.js';
import { fitLsa } from '../../src/embedders/lsa.js';
import { saveLsaModel } from '../../src/embedders/lsa-file.js';
import type { Embedder } from '../../src/ports/embedder.js';
import { stepUntil, tempApp } from './helpers.js';

/**
 * Issue 12's acceptance, on real data: a slice of SciFact with no judged set. A shadow migration from
 * feature hashing to averaged 25-d GloVe vectors (judged nDCG@10 0.25 → 0.02 on the full set) is refused by
 * the default gates with both spaces' probe figures named; hashing → LSA cuts over; `plan` forecasts both
 * offline, and `--cost-only` makes no embedding call.
 */
const SHARED = process.env.REEMBED_SHARED_DIR ?? resolve(import.meta.dirname, '..', '..', '..', 'shared');
const SCIFACT = join(SHARED, 'datasets', 'scifact');
const GLOVE = join(SHARED, 'models', 'glove-twitter-25d-12k', 'vectors.vec');
const present = existsSync(join(SCIFACT, 'corpus.jsonl')) && existsSync(GLOVE);
if (!present) console.log(`skipping the probe-gate acceptance on SciFact: ${SCIFACT} or ${GLOVE} is absent`);

const DOCS = 1_500;
let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
let service: MigrationService;
let lsa: Space;
const hashing = hashingSpace('hashing-256', { dimension: 256 });
const glove = present ? wordVectorSpace('glove-25', GLOVE) : hashing;

describe.skipIf(!present)('default gates without a judged set (SciFact slice)', () => {
  beforeAll(async () => {
    ctx = await tempApp();
    app = ctx.app;
    const docs = readFileSync(join(SCIFACT, 'corpus.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(0, DOCS)
      .map((l) => JSON.parse(l) as { _id: string; title: string; text: string })
      .map((d) => ({ id: d._id, text: withTitle(d.title, d.text) }));
    const modelPath = join(ctx.dir, 'lsa.bin');
    saveLsaModel(
      fitLsa(
        docs.map((d) => d.text),
        { dimension: 128, seed: 1 },
      ),
      modelPath,
    );
    lsa = lsaSpace('lsa-128', modelPath);
    for (const s of [hashing, glove, lsa]) await app.addSpace(s);
    await app.createCollection('scifact', 'hashing-256');
    for (let i = 0; i < docs.length; i += 500) await app.ingest('scifact', docs.slice(i, i + 500));
    service = new MigrationService(app, { flushMs: 0 });
  }, 120_000);
  afterAll(async () => {
    await service?.close();
    await ctx?.cleanup();
  });

  it('plan forecasts no-go for GloVe-25 and go for LSA; --cost-only makes no embedding call', async () => {
    const bad = await service.plan({ alias: 'scifact', to: 'glove-25', strategy: 'shadow' });
    expect(bad.forecast?.verdict).toBe('no-go');
    expect(bad.forecast?.label).toBe('probe');
    const m = bad.forecast?.metrics?.['mrr@10'];
    expect(m?.ci95[1]).toBeLessThan(-0.01);
    expect(bad.gates.map((g) => g.rule)).toEqual(
      expect.arrayContaining(['probe.mrr@10 >= old - 0.01', 'probe.recall@10 >= old - 0.02']),
    );
    expect(bad.estimate.latencySource).toBe('measured');
    const good = await service.plan({ alias: 'scifact', to: 'lsa-128', strategy: 'shadow' });
    expect(good.forecast?.verdict).toBe('go');

    let calls = 0;
    for (const space of [hashing, lsa]) {
      const real = await app.embedders.get(space);
      const counted: Embedder = {
        ...real,
        embed: (texts, o) => {
          calls++;
          return real.embed(texts, o);
        },
      };
      app.embedders.set(space, counted);
    }
    const offline = await service.plan(
      { alias: 'scifact', to: 'lsa-128', strategy: 'shadow' },
      { costOnly: true },
    );
    expect(calls).toBe(0);
    expect(offline.forecast).toBeNull();
    expect(offline.estimate.latencySource).toBe('unknown');
    expect(offline.estimate.tokens).toBeGreaterThan(100_000);
    expect(offline.tokenizer.exact).toBe(true);
  }, 120_000);

  it('refuses hashing → GloVe-25 by default, naming the probe figures of both spaces', async () => {
    const { migration, steps } = await service.start({
      alias: 'scifact',
      to: 'glove-25',
      strategy: 'shadow',
    });
    expect(steps.find((s) => s.name === 'probe')?.detail).toMatch(
      /built probe:scifact: 300 known-item queries/,
    );
    expect(migration.options.probe).toBe('scifact');
    await stepUntil(service, migration.id, ['shadowing']);
    const replay = await service.replay(migration.id);
    expect(replay.recorded).toBe(300);
    expect(replay.agreement.samples).toBe(300);
    const refused = (await service.cutover(migration.id).catch((e: unknown) => e)) as Error & {
      code: string;
    };
    expect(refused.code).toBe('GATE_FAILED');
    expect(refused.message).toMatch(
      /on probe:scifact \(300 known-item queries .* not judged\) the new namespace scifact@glove-25 scores MRR@10 0\.\d{4} and recall@10 0\.\d{4}, the old scifact@hashing-256 MRR@10 0\.\d{4} and recall@10 0\.\d{4}/,
    );
    expect(refused.message).toMatch(/refused: gate "probe\.mrr@10 >= old - 0\.01" \(/);
    // How to pass follows the figures, once: keep the old space, or a judged set, or force.
    expect(refused.message).toContain('To pass: probe: the new space finds the collection');
    expect(refused.message).toContain(
      'reembed probe eval scifact --old scifact@hashing-256 --new scifact@glove-25',
    );
    expect(refused.message).toContain(
      'pass --golden DIR|NAME to the cutover (a judged set replaces the probe gates)',
    );
    expect(refused.message).toMatch(/Or pass --force with a reason \(audited\)\.$/);
    expect(refused.message).not.toContain('these rules need a golden set');
    const facts = (refused as unknown as { details: { facts: Record<string, number> } }).details.facts;
    expect(facts['old.probe.mrr@10']).toBeGreaterThan((facts['new.probe.mrr@10'] as number) + 0.1);
    const status = await service.status(migration.id);
    expect(status.gates.map((g) => g.rule)).toContain('probe.mrr@10 >= old - 0.01');
    expect(status.lastGates).toMatchObject({ passed: false, probe: { name: 'scifact', queries: 300 } });
    // A judged set given at the cutover replaces the probe gates (judged queries outrank known-item ones):
    // GloVe-25 is refused again, now by the judged nDCG rule alone.
    const judged = (await service
      .cutover(migration.id, { golden: SCIFACT })
      .catch((e: unknown) => e)) as Error & {
      code: string;
      details: { failed: string[] };
    };
    expect(judged.code).toBe('GATE_FAILED');
    expect(judged.details.failed).toEqual(['ndcg@10 >= old - 0.01']);
    expect(judged.message).not.toContain('probe:scifact');
    await service.rollback(migration.id, { reason: 'refused by the probe' });
  }, 180_000);

  it('holds a progressive migration to GloVe-25 at 0% of traffic: its forecast is no-go', async () => {
    const { migration } = await service.start({
      alias: 'scifact',
      to: 'glove-25',
      strategy: 'progressive',
      options: { steps: [25, 50, 100] },
    });
    const report = await service.step(migration.id);
    const rollout = report.steps.find((s) => s.name === 'rollout');
    expect(rollout?.status).toBe('skipped');
    expect(rollout?.detail).toMatch(/^holding 0%: the pre-flight forecast is no-go/);
    expect((await app.backend.catalog.getAlias('scifact')).routing).toMatchObject({
      kind: 'split',
      percent: 0,
    });
    await stepUntil(service, migration.id, ['rolling-out']);
    const next = await service.step(migration.id);
    expect(next.steps[0]?.detail).toMatch(
      /^holding 0%: waiting on gate "probe\.mrr@10 >= old - 0\.01" .*; on probe:scifact .*To pass: probe:/,
    );
    await service.rollback(migration.id);
  }, 180_000);
  it('lets hashing → LSA cut over with the same default gates', async () => {
    const { migration } = await service.start({ alias: 'scifact', to: 'lsa-128', strategy: 'shadow' });
    await stepUntil(service, migration.id, ['shadowing']);
    await service.replay(migration.id);
    const cut = await service.cutover(migration.id);
    expect(cut.ok).toBe(true);
    const gates = cut.steps.find((s) => s.name === 'gates')?.data as { facts: Record<string, number> };
    expect(gates.facts['new.probe.mrr@10']).toBeGreaterThan(gates.facts['old.probe.mrr@10'] as number);
    expect((await app.backend.catalog.getAlias('scifact')).routing).toEqual({
      kind: 'single',
      namespace: 'scifact@lsa-128',
    });
  }, 180_000);
});
