import { afterEach, describe, expect, it } from 'vitest';
import { composeFactories } from '../../app/embedders.js';
import { MigrationService } from '../../app/migrate.js';
import { Reembed } from '../../app/reembed.js';
import { defineSpace } from '../../core/space.js';
import { createLocalEmbedderFactory } from '../../embedders/factory.js';
import type { PgBackend } from './backend.js';
import { openTestBackend, PG_SKIP_LINE, PG_URL } from './test-support.js';

/**
 * The migration service end to end on PostgreSQL, now that the backend provides the migration and job
 * repositories: start → backfill (in-process runner, checkpoint committed with each batch) → validate
 * → cutover → rollback, with dual-writes and deletes during the migration.
 */
const hashing = (name: string, seed: number) =>
  defineSpace(name, { provider: 'hashing', model: 'fnv1a', dimension: 32, params: { seed } });

let backend: PgBackend | undefined;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
});

if (!PG_URL) {
  console.warn(PG_SKIP_LINE);
  it.skip(PG_SKIP_LINE, () => undefined);
} else {
  describe('MigrationService on PostgreSQL', () => {
    it('runs a shadow migration: backfill, validate, cutover, rollback — audited and dual-written', async () => {
      backend = await openTestBackend();
      const app = new Reembed(backend, composeFactories(createLocalEmbedderFactory()), { actor: 'pg-test' });
      await app.addSpace(hashing('v1', 1));
      await app.addSpace(hashing('v2', 2));
      await app.createCollection('docs', 'v1');
      const docs = Array.from({ length: 60 }, (_, i) => ({
        id: `d${String(i).padStart(3, '0')}`,
        text: `document ${i} about topic ${i % 7}`,
      }));
      await app.ingest('docs', docs);
      const service = new MigrationService(app, { flushMs: 0 });
      try {
        const started = await service.start({
          alias: 'docs',
          to: 'v2',
          strategy: 'shadow',
          options: { backfill: { batchSize: 16 } },
        });
        const id = started.migration.id;
        expect(started.migration.state).toBe('backfilling');
        // Dual-writes reach the new namespace during the migration; a delete tombstones it there too.
        await app.ingest('docs', [{ id: 'd000', text: 'rewritten during the migration' }]);
        await app.delete('docs', ['d001']);

        const step = await service.step(id);
        expect(step.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['backfill:done', 'validate:done']);
        expect(step.migration.state).toBe('validating');
        const status = await service.status(id);
        expect(status.coverage.ratio).toBe(1);
        expect(status.job).toMatchObject({ state: 'done', pass: 1, counters: { written: 58 } });
        // The pass's checkpoint committed with its batches (pass 0; the finished job now points at pass 1).
        expect((await backend.jobs.checkpoint('backfill:docs@v2#0'))?.processed).toBe(60);
        const heads = await backend.store.heads('docs@v2', ['d000', 'd001']);
        expect(heads.get('d000')?.sourceVersion).toBe((await backend.sources.get('docs', 'd000'))?.version);
        expect(heads.get('d001')?.deleted).toBe(true);
        expect((await backend.store.stats('docs@v2')).sources).toBe(59);

        expect((await service.step(id)).migration.state).toBe('shadowing');
        const cut = await service.cutover(id, { force: true, reason: 'no shadow traffic in a test' });
        expect(cut.migration.state).toBe('retiring');
        expect((await backend.catalog.getAlias('docs')).routing).toEqual({
          kind: 'single',
          namespace: 'docs@v2',
        });
        const back = await service.rollback(id, { reason: 'test' });
        expect(back.migration.state).toBe('rolled-back');
        expect((await backend.catalog.getAlias('docs')).routing).toEqual({
          kind: 'single',
          namespace: 'docs@v1',
        });
        const audit = await backend.catalog.listAudit({ subject: id });
        expect(audit.filter((a) => a.action === 'migration.transition').map((a) => a.details.to)).toEqual([
          'backfilling',
          'validating',
          'shadowing',
          'cut-over',
          'retiring',
          'rolled-back',
        ]);
      } finally {
        await service.close();
      }
    });
  });
}
