import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { embedSources } from '../../src/app/embed-sources.js';
import { MigrationService } from '../../src/app/migrate.js';
import type { Reembed } from '../../src/app/reembed.js';
import { canTransition, isTerminal, MIGRATION_STRATEGIES } from '../../src/core/migration.js';
import { WRITABLE_STATES } from '../../src/core/namespace.js';
import { servingNamespaceOf } from '../../src/core/routing.js';
import { createHashingEmbedder } from '../../src/embedders/hashing.js';
import { BackfillRunner } from '../../src/jobs/backfill.js';
import type { Embedder } from '../../src/ports/embedder.js';
import { assertNamespaceMatchesSource, hashing, liveSources, tempApp } from './helpers.js';

const v1 = hashing('v1', 1);
const v2 = hashing('v2', 2);
const v3 = hashing('v3', 3);
const IDS = ['a', 'b', 'c', 'd', 'e', 'f'];

type Op =
  | { kind: 'upsert'; id: string; variant: number }
  | { kind: 'delete'; id: string }
  | { kind: 'batchStart' }
  | { kind: 'batchFinish' }
  | { kind: 'validate' }
  | { kind: 'cutover' }
  | { kind: 'rollback' }
  | { kind: 'retire' }
  | { kind: 'start'; strategy: (typeof MIGRATION_STRATEGIES)[number]; to: 'v1' | 'v2' | 'v3' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('upsert' as const),
      id: fc.constantFrom(...IDS),
      variant: fc.nat(3),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.constantFrom(...IDS) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'batchStart' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'batchFinish' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'validate' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cutover' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rollback' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'retire' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      strategy: fc.constantFrom(...MIGRATION_STRATEGIES),
      to: fc.constantFrom('v1' as const, 'v2' as const, 'v3' as const),
    }),
  },
);

/**
 * Embeds only when the test lets it: a batch holds its (possibly outdated) documents across other
 * operations. `release` grants one call (now, or when the next call arrives).
 */
function latched(base: Embedder): Embedder & { release(): void; releaseAll(): void; waiting(): number } {
  const waiting: (() => void)[] = [];
  let permits = 0;
  let open = false;
  return {
    ...base,
    embed: async (texts, options) => {
      if (open) return base.embed(texts, options);
      if (permits > 0) permits--;
      else await new Promise<void>((r) => waiting.push(r));
      return base.embed(texts, options);
    },
    waiting: () => waiting.length,
    release: () => {
      const next = waiting.shift();
      if (next) next();
      else permits++;
    },
    releaseAll: () => {
      open = true;
      for (const r of waiting.splice(0)) r();
    },
  };
}

/** Every writable namespace holds each document at its newest version or (unless it serves) not yet; never a deleted one. */
async function invariantProblems(app: Reembed): Promise<string[]> {
  const problems: string[] = [];
  const sources = await liveSources(app, 'docs');
  const serving = servingNamespaceOf((await app.backend.catalog.getAlias('docs')).routing);
  for (const ns of await app.backend.catalog.listNamespaces('docs')) {
    if (!WRITABLE_STATES.includes(ns.state)) continue;
    const heads = await app.backend.store.heads(ns.name, [...sources.keys()]);
    for (const [id, doc] of sources) {
      const head = heads.get(id);
      if (doc.deleted) {
        if (head && !head.deleted)
          problems.push(`${ns.name}: deleted ${id} resurrected at v${head.sourceVersion}`);
      } else if (!head || head.deleted) {
        if (ns.name === serving) problems.push(`${ns.name} (serving): live ${id} missing`);
      } else if (head.sourceVersion !== doc.version || head.contentHash !== doc.contentHash) {
        problems.push(`${ns.name}: ${id} at v${head.sourceVersion}, source at v${doc.version}`);
      }
    }
    const prints = Object.keys((await app.backend.store.stats(ns.name)).fingerprints);
    if (prints.some((p) => p !== ns.space.fingerprint)) problems.push(`${ns.name}: foreign fingerprint`);
  }
  return problems;
}

async function isWritable(app: Reembed, name: string): Promise<boolean> {
  return WRITABLE_STATES.includes((await app.backend.catalog.getNamespace(name)).state);
}

/** A batch in flight when its namespace was retired fails with NOT_FOUND (nothing written); anything else is a bug. */
async function settle(app: Reembed, pending: Promise<boolean>): Promise<void> {
  try {
    await pending;
  } catch (error) {
    if ((error as { code?: string }).code !== 'NOT_FOUND' || (await isWritable(app, 'docs@v2'))) throw error;
  }
}

describe('interleavings of writes, backfill batches, cutover and rollback', () => {
  it('keep every active namespace equal to what the source says', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 4, maxLength: 18 }),
        fc.constantFrom(...MIGRATION_STRATEGIES),
        async (ops, first) => {
          const ctx = await tempApp();
          const app = ctx.app;
          const service = new MigrationService(app, { flushMs: 0 });
          try {
            await app.addSpace(v1);
            await app.addSpace(v2);
            await app.addSpace(v3);
            await app.createCollection('docs', 'v1');
            await app.ingest(
              'docs',
              IDS.slice(0, 5).map((id) => ({ id, text: `${id} initial text` })),
            );
            await app.delete('docs', ['e']); // deleted before any target exists: no tombstone there to stop a backfill
            await service.start({
              alias: 'docs',
              to: 'v2',
              strategy: first,
              options: { sampleRate: 1, minShadowSamples: 0 },
            });
            const embedder = latched(createHashingEmbedder(v2));
            const runner = new BackfillRunner(
              {
                store: app.backend.store,
                sources: app.backend.sources,
                jobs: app.backend.jobs!,
                embedder,
                encode: embedSources,
              },
              {
                collection: 'docs',
                namespace: 'docs@v2',
                jobId: 'interleaved',
                settings: { batchSize: 2, concurrency: 1 },
                pageSize: 2,
              },
            );
            let pending: Promise<boolean> | null = null;
            for (const op of ops) {
              const current = await service.current('docs');
              const active = current && !isTerminal(current.state) ? current : null;
              switch (op.kind) {
                case 'upsert':
                  await app.ingest('docs', [{ id: op.id, text: `${op.id} variant ${op.variant}` }]);
                  break;
                case 'delete':
                  await app.delete('docs', [op.id]);
                  break;
                case 'batchStart':
                  if (!pending && (await isWritable(app, 'docs@v2'))) {
                    // Wait until the batch has read its documents and sits in the embedder (or had nothing to embed).
                    let settled = false;
                    pending = runner.tick().finally(() => {
                      settled = true;
                    });
                    while (!settled && embedder.waiting() === 0) await new Promise((r) => setImmediate(r));
                  }
                  break;
                case 'batchFinish':
                  if (pending) {
                    embedder.release();
                    await settle(app, pending);
                    pending = null;
                  }
                  break;
                case 'validate':
                  if (
                    active &&
                    ['planned', 'backfilling', 'validating', 'rolling-out'].includes(active.state)
                  )
                    await service.step(active.id);
                  break;
                case 'cutover':
                  if (active && canTransition(active.strategy, active.state, 'cut-over')) {
                    await service.cutover(active.id, { force: true, reason: 'property test' });
                  }
                  break;
                case 'rollback':
                  if (active) {
                    const from = await app.backend.catalog.getNamespace(active.from);
                    if (from.state !== 'retired') await service.rollback(active.id);
                  }
                  break;
                case 'retire':
                  await service.retire({ ignoreWindow: true });
                  break;
                case 'start': {
                  const serving = servingNamespaceOf((await app.backend.catalog.getAlias('docs')).routing);
                  if (!active && serving !== `docs@${op.to}`) {
                    await service.start({
                      alias: 'docs',
                      to: op.to,
                      strategy: op.strategy,
                      options: { sampleRate: 1, minShadowSamples: 0 },
                    });
                  }
                  break;
                }
              }
              expect(await invariantProblems(app), `after ${JSON.stringify(op)}`).toEqual([]);
              await app.search('docs', { text: 'variant text', k: 3 });
            }
            embedder.releaseAll();
            if (pending) await settle(app, pending);
            // A full pass over every writable namespace makes each one equal to the source, exactly.
            for (const ns of await app.backend.catalog.listNamespaces('docs')) {
              if (!WRITABLE_STATES.includes(ns.state)) continue;
              const r = await (await service.backfill({ namespace: ns.name })).run();
              expect(r.status).toBe('done');
              expect(await assertNamespaceMatchesSource(app, ns.name)).toEqual([]);
            }
          } finally {
            await service.close();
            await ctx.cleanup();
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});
