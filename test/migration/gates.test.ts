import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveGoldenSet } from '../../src/app/golden-sets.js';
import { MigrationService } from '../../src/app/migrate.js';
import type { Reembed } from '../../src/app/reembed.js';
import { defineSpace } from '../../src/core/space.js';
import { noiseFactory } from './embedders.js';
import { corpus, hashing, stepUntil, tempApp } from './helpers.js';

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
let service: MigrationService;
let golden: string;
const v1 = hashing('v1', 1, 1024);
const v2 = hashing('v2', 2, 1024);
const noise = defineSpace('noise', { provider: 'noise', model: 'random', dimension: 1024 });
const DOCS = corpus(150);

beforeEach(async () => {
  ctx = await tempApp({ embedders: [noiseFactory] });
  app = ctx.app;
  for (const s of [v1, v2, noise]) await app.addSpace(s);
  await app.createCollection('docs', 'v1');
  await app.ingest('docs', DOCS);
  // Each query names a document's distinctive token: a model with any sense of words finds it.
  golden = join(ctx.dir, 'golden.jsonl');
  const lines = DOCS.filter((_, i) => i % 10 === 3).map((d, i) => {
    const token = d.text.split(' ').at(-1) as string;
    return JSON.stringify({ id: `q${i}`, query: token, relevant: [d.id] });
  });
  writeFileSync(golden, `${lines.join('\n')}\n`);
  service = new MigrationService(app, { flushMs: 0 });
});
afterEach(async () => {
  await service.close();
  await ctx.cleanup();
});

describe('cutover gates', () => {
  it('refuse a worse model, naming the failing rule; --force needs a reason and is audited', async () => {
    const { migration } = await service.start({
      alias: 'docs',
      to: 'noise',
      strategy: 'blue-green',
      options: { golden },
    });
    expect(migration.options.gates).toContain('ndcg@10 >= old - 0.01');
    await stepUntil(service, migration.id, ['validating']);

    const refused = await service.cutover(migration.id).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'GATE_FAILED', details: { failed: ['ndcg@10 >= old - 0.01'] } });
    expect((refused as Error).message).toContain('"ndcg@10 >= old - 0.01"');
    const facts = (refused as { details: { facts: Record<string, number> } }).details.facts;
    expect(facts['old.ndcg@10']).toBeGreaterThan(0.9);
    expect(facts['new.ndcg@10']).toBeLessThan(0.5);
    expect((await app.backend.catalog.getAlias('docs')).routing).toEqual({
      kind: 'single',
      namespace: 'docs@v1',
    });
    expect((await service.get(migration.id)).state).toBe('validating');

    await expect(service.cutover(migration.id, { force: true })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const forced = await service.cutover(migration.id, {
      force: true,
      reason: 'accepted: recall traded for cost',
    });
    expect(forced.ok).toBe(true);
    expect(forced.migration.state).toBe('retiring');
    const audit = await app.backend.catalog.listAudit({ subject: migration.id, action: 'gate.forced' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'test',
      details: {
        reason: 'accepted: recall traded for cost',
        failed: [expect.objectContaining({ rule: 'ndcg@10 >= old - 0.01' })],
      },
    });
    const aliasAudit = await app.backend.catalog.listAudit({ subject: 'docs', action: 'alias.set' });
    expect(aliasAudit.at(-1)?.details.reason).toContain('(forced)');
  });

  it('read a golden set stored by name (eval --save-as), as the README says gates may', async () => {
    await resolveGoldenSet(app.backend, golden, { saveAs: 'docs-golden' });
    const { migration } = await service.start({
      alias: 'docs',
      to: 'noise',
      strategy: 'blue-green',
      options: { golden: 'docs-golden' },
    });
    await stepUntil(service, migration.id, ['validating']);
    const refused = await service.cutover(migration.id).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'GATE_FAILED', details: { failed: ['ndcg@10 >= old - 0.01'] } });
    const facts = (refused as { details: { facts: Record<string, number> } }).details.facts;
    expect(facts['old.ndcg@10']).toBeGreaterThan(0.9);
  });

  it('pass for a model at least as good, and refuse custom rules that fail', async () => {
    const ok = await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'blue-green',
      options: {
        golden,
        gates: ['coverage >= 1.0', 'errors == 0', 'ndcg@10 >= old - 0.1', 'recall@10 >= 0.8'],
      },
    });
    await stepUntil(service, ok.migration.id, ['validating']);
    const cut = await service.cutover(ok.migration.id, { reason: 'quarterly model upgrade' });
    // A reason given to a cutover that needed no force is still recorded (the alias history and the audit).
    const aliasHistory = await app.backend.catalog.listAudit({ subject: 'docs', action: 'alias.set' });
    expect(aliasHistory.at(-1)?.details).toMatchObject({
      reason: `cutover ${ok.migration.id}: quarterly model upgrade`,
    });
    const transitions = await app.backend.catalog.listAudit({ subject: ok.migration.id });
    expect(
      transitions.some((e) => (e.details as { reason?: string }).reason === 'quarterly model upgrade'),
    ).toBe(true);
    const gates = cut.steps[0]?.data?.results as { rule: string; passed: boolean }[];
    expect(gates.map((g) => [g.rule, g.passed])).toEqual([
      ['coverage >= 1.0', true],
      ['errors == 0', true],
      ['ndcg@10 >= old - 0.1', true],
      ['recall@10 >= 0.8', true],
    ]);
    await expect(
      service.start({
        alias: 'docs',
        to: 'v1',
        strategy: 'blue-green',
        options: { gates: ['recall@10 >= = 1'] },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('cutover atomicity (invariant 7)', () => {
  it.each(['blue-green', 'shadow', 'lazy'] as const)(
    '%s: concurrent queries see the old routing or the new, never a mix',
    async (strategy) => {
      const { migration } = await service.start({
        alias: 'docs',
        to: 'v2',
        strategy,
        options: { sampleRate: 1, minShadowSamples: 0 },
      });
      await stepUntil(service, migration.id, strategy === 'shadow' ? ['shadowing'] : ['validating']);
      const before = (await app.backend.catalog.getAlias('docs')).version;
      // Four clients query continuously while the cutover runs, and a little after it.
      let cutDone = false;
      const responses: Awaited<ReturnType<typeof app.search>>[] = [];
      const client = async (c: number): Promise<void> => {
        for (let i = 0, after = 0; after < 5; i++) {
          if (cutDone) after++;
          const d = DOCS[(c * 37 + i) % DOCS.length] as { text: string };
          responses.push(
            await app.search('docs', {
              text: d.text.split(' ').slice(0, 3).join(' '),
              k: 5,
              routingKey: `${c}-${i}`,
            }),
          );
        }
      };
      const clients = [0, 1, 2, 3].map(client);
      const cut = await service.cutover(migration.id);
      cutDone = true;
      await Promise.all(clients);
      expect(cut.ok).toBe(true);
      const after = (await app.backend.catalog.getAlias('docs')).version;
      expect(after).toBe(before + 1);
      const seen = new Set<string>();
      for (const r of responses) {
        const served = r.trace.reads.filter((x) => x.role !== 'shadow').map((x) => x.namespace);
        if (r.trace.aliasVersion === before) {
          seen.add('old');
          expect(r.trace.routing).toBe(
            strategy === 'blue-green' ? 'single' : strategy === 'shadow' ? 'shadow' : 'fused',
          );
          expect(served).toEqual(strategy === 'lazy' ? ['docs@v1', 'docs@v2'] : ['docs@v1']);
        } else {
          seen.add('new');
          expect(r.trace.aliasVersion).toBe(after);
          expect(r.trace.routing).toBe('single');
          expect(served).toEqual(['docs@v2']);
          expect(r.hits.every((h) => h.namespace === 'docs@v2')).toBe(true);
        }
        expect(r.trace.mixedVersion).toBe(false);
      }
      // Both sides were observed, so the cutover really happened while queries were running.
      expect([...seen].sort()).toEqual(['new', 'old']);
    },
  );
});
