import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import { openReembed } from '../../src/app/open.js';
import type { Reembed } from '../../src/app/reembed.js';
import { PG_SKIP_LINE, PG_URL, uniqueSchema } from '../../src/stores/pg/test-support.js';
import { sampleProbe } from '../../src/testing/probe-set-suite.js';
import { corpus, hashing } from '../migration/helpers.js';

/**
 * The operator's control plane on both production backends: audit log filters, aliases, space removal,
 * collection deletion and closing a migration early. Everything here touches storage, so every case runs
 * on SQLite and on PostgreSQL.
 */
interface Backend {
  readonly name: string;
  readonly skip: string | null;
  open(actor?: string): Promise<Reembed>;
  cleanup(): void;
}

function sqliteBackend(): Backend {
  let dir = '';
  return {
    name: 'sqlite',
    skip: null,
    async open(actor = 'alice') {
      if (!dir) dir = mkdtempSync(join(tmpdir(), 'reembed-ops-'));
      return openReembed({ db: join(dir, 'r.db'), actor });
    },
    cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = '';
    },
  };
}

function pgBackend(): Backend {
  let schema = '';
  const opened: Reembed[] = [];
  return {
    name: 'postgres',
    skip: PG_URL ? null : PG_SKIP_LINE,
    async open(actor = 'alice') {
      schema ||= uniqueSchema();
      // The first app opened drops the schema when it closes (cleanup closes it last).
      const app = await openReembed({
        pg: PG_URL,
        pgSchema: schema,
        pgDropSchemaOnClose: opened.length === 0,
        actor,
      });
      opened.push(app);
      return app;
    },
    cleanup() {
      schema = '';
      opened.length = 0;
    },
  };
}

for (const backend of [sqliteBackend(), pgBackend()]) {
  describe.skipIf(backend.skip !== null)(
    `control plane on ${backend.name}${backend.skip ? ` (${backend.skip})` : ''}`,
    () => {
      let app: Reembed;
      let service: MigrationService;
      const extra: Reembed[] = [];
      beforeEach(async () => {
        app = await backend.open();
        service = new MigrationService(app);
        for (const s of [hashing('v1', 1), hashing('v2', 2), hashing('v3', 3)]) await app.addSpace(s);
        await app.createCollection('docs', 'v1');
        await app.ingest('docs', corpus(40));
        await app.createCollection('mini', 'v1');
        await app.ingest('mini', corpus(5, 9, 'mini'));
      });
      afterEach(async () => {
        await service.close();
        for (const other of extra.splice(0)) await other.close();
        await app.close();
        backend.cleanup();
      });
      const as = async (actor: string): Promise<Reembed> => {
        const other = await backend.open(actor);
        extra.push(other);
        return other;
      };

      it('audit: filters by actor, target, action (with * wildcards), time range and limit', async () => {
        const bob = await as('bob');
        await bob.setAlias('docs-pin', 'docs@v1', { reason: 'pin for export' });
        const all = await app.auditLog();
        expect(all.length).toBeGreaterThan(8);
        expect((await app.auditLog({ actor: 'bob' })).map((e) => e.action)).toEqual(['alias.set']);
        expect((await app.auditLog({ actor: 'b*' })).length).toBe(1);
        const docsV1 = await app.auditLog({ target: 'docs@v1' });
        expect(docsV1.map((e) => e.action)).toEqual(['namespace.create']);
        const namespaces = await app.auditLog({ target: '*@v1' });
        expect(new Set(namespaces.map((e) => e.subject))).toEqual(new Set(['docs@v1', 'mini@v1']));
        expect((await app.auditLog({ action: 'space.*' })).map((e) => e.subject)).toEqual(['v1', 'v2', 'v3']);
        expect(await app.auditLog({ action: 'space' })).toEqual([]); // exact unless a * is given
        const pin = (await app.auditLog({ target: 'docs-pin' }))[0];
        expect(pin?.details).toMatchObject({ reason: 'pin for export' });
        expect(await app.auditLog({ since: new Date(Date.now() + 60_000) })).toEqual([]);
        expect(await app.auditLog({ until: '2000-01-01' })).toEqual([]);
        expect((await app.auditLog({ since: '1h' })).length).toBe(all.length);
        const newest = await app.auditLog({ limit: 2 });
        expect(newest.map((e) => e.id)).toEqual(all.slice(-2).map((e) => e.id));
        await expect(app.auditLog({ since: 'yesterday-ish' })).rejects.toMatchObject({
          code: 'INVALID_INPUT',
        });
        await expect(app.auditLog({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      });

      it('alias set: validates the namespace and its collection, refuses during a migration, audits with the reason', async () => {
        await expect(app.setAlias('docs-pin', 'docs@nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(app.setAlias('docs', 'mini@v1')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
        const pinned = await app.setAlias('docs-pin', 'docs@v1', { reason: 'pin' });
        expect(pinned).toMatchObject({
          changed: true,
          previous: null,
          alias: { collection: 'docs', version: 1 },
        });
        expect((await app.setAlias('docs-pin', 'docs@v1')).changed).toBe(false);
        expect((await app.listAliases('docs')).map((v) => v.alias.name)).toEqual(['docs', 'docs-pin']);

        const { migration } = await service.start({ alias: 'docs', to: 'v2', strategy: 'shadow' });
        await expect(app.setAlias('docs', 'docs@v1')).rejects.toMatchObject({ code: 'CONFLICT' });
        await expect(app.setAlias('docs-pin', 'docs@v2')).rejects.toMatchObject({ code: 'CONFLICT' });
        expect((await app.getAlias('docs')).migration).toMatchObject({
          id: migration.id,
          state: 'backfilling',
        });
        await service.rollback(migration.id, { reason: 'test' });

        // docs@v2 is retiring after the rollback, and holds nothing yet: serving it would lose recall.
        const partial = await app.setAlias('docs-pin', 'docs@v2').catch((e) => e);
        expect(partial).toMatchObject({ code: 'INVALID_STATE' });
        expect(partial.message).toContain('0 of 40 live documents');
        await expect(app.setAlias('docs-pin', 'docs@v2', { force: true })).rejects.toMatchObject({
          code: 'INVALID_INPUT',
        });
        const forced = await app.setAlias('docs-pin', 'docs@v2', { force: true, reason: 'drill' });
        expect(forced.states).toEqual([{ namespace: 'docs@v2', from: 'retiring', to: 'serving' }]);
        const entry = (await app.auditLog({ target: 'docs-pin', action: 'alias.set' })).at(-1);
        expect(entry?.details.reason).toBe('drill (forced: 0/40 current)');
        await expect(app.setAlias('docs-pin', 'docs@v1')).resolves.toMatchObject({ previous: 'docs@v2' });
        expect((await app.backend.catalog.getNamespace('docs@v2')).state).toBe('active');
      });

      it('space remove: refused while a namespace uses it, audited, NOT_FOUND or a no-op when missing', async () => {
        const inUse = await app.removeSpace('v1').catch((e) => e);
        expect(inUse).toMatchObject({ code: 'CONFLICT' });
        expect(inUse.message).toContain('docs@v1 (serving)');
        expect(inUse.message).toContain('mini@v1 (serving)');
        const { removed } = await app.removeSpace('v3', { reason: 'unused' });
        expect(removed?.name).toBe('v3');
        expect((await app.backend.catalog.listSpaces()).map((s) => s.name)).toEqual(['v1', 'v2']);
        expect((await app.auditLog({ action: 'space.remove' }))[0]).toMatchObject({
          subject: 'v3',
          details: { reason: 'unused' },
        });
        await expect(app.removeSpace('v3')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await app.removeSpace('v3', { ifExists: true })).toEqual({ removed: null });
        await app.addSpace(hashing('v3', 3)); // the name is free again
      });

      it('collection delete: refused during a migration; drops vectors, aliases, sources, jobs and migrations; audited', async () => {
        const { migration } = await service.start({ alias: 'docs', to: 'v2', strategy: 'blue-green' });
        await service.step(migration.id);
        await expect(app.deleteCollection('docs')).rejects.toMatchObject({ code: 'CONFLICT' });
        await service.rollback(migration.id);
        // Derived from the collection, deleted with it: its probe sets and any query texts a migration kept.
        await app.backend.probes?.save('docs', sampleProbe('docs'));
        await app.backend.migrations?.recordQueries?.(
          [{ migrationId: migration.id, at: new Date().toISOString(), text: 'kept query', tenant: null }],
          { max: 10, before: new Date(Date.now() - 3_600_000).toISOString() },
        );
        expect(await app.backend.migrations?.recentQueries?.(migration.id, 10)).toHaveLength(1);
        const preview = await app.deleteCollection('docs', { dryRun: true });
        expect(preview).toMatchObject({
          dryRun: true,
          aliases: ['docs'],
          sources: { live: 40, deleted: 0 },
          migrations: [{ id: migration.id, state: 'rolled-back' }],
          probes: ['docs'],
        });
        expect(preview.namespaces.map((n) => [n.name, n.records])).toEqual([
          ['docs@v1', 40],
          ['docs@v2', 40],
        ]);
        expect(await app.backend.store.describeNamespace('docs@v1')).not.toBeNull(); // dry run changed nothing

        await app.deleteCollection('docs', { reason: 'decommissioned' });
        expect((await app.backend.catalog.listCollections()).map((c) => c.name)).toEqual(['mini']);
        expect(await app.backend.store.describeNamespace('docs@v1')).toBeNull();
        expect(await app.backend.store.describeNamespace('docs@v2')).toBeNull();
        await expect(app.backend.catalog.getAlias('docs')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await app.backend.sources.count('docs')).toEqual({ live: 0, deleted: 0 });
        expect(await service.list({ collection: 'docs' })).toEqual([]);
        expect(await app.backend.jobs?.getJob('backfill:docs@v2')).toBeNull();
        expect(await app.backend.probes?.list()).toEqual([]);
        expect(await app.backend.migrations?.recentQueries?.(migration.id, 10)).toEqual([]);
        const entry = (await app.auditLog({ action: 'collection.delete' }))[0];
        expect(entry).toMatchObject({
          subject: 'docs',
          details: { reason: 'decommissioned', aliases: ['docs'] },
        });
        // The history stays: the namespaces' and the migration's entries are still in the log.
        expect((await app.auditLog({ target: migration.id })).length).toBeGreaterThan(2);

        expect((await app.search('mini', { text: 'backfill', k: 3 })).hits.length).toBeGreaterThan(0);
        await app.createCollection('docs', 'v2'); // the name can be used again
        await app.ingest('docs', corpus(3));
        expect((await app.search('docs', { text: 'cutover', k: 5 })).hits.length).toBe(3);
        await expect(app.deleteCollection('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });

      it('migrate finish: closes the rollback window early so a new migration can start; the old namespace keeps its schedule', async () => {
        // 40 short documents give no probe, so quality would gate the cutover: this test is about finish.
        const options = { gates: ['coverage >= 1.0', 'errors == 0'] };
        const { migration } = await service.start({
          alias: 'docs',
          to: 'v2',
          strategy: 'blue-green',
          options,
        });
        await expect(service.finish(migration.id, { reason: 'early' })).rejects.toMatchObject({
          code: 'INVALID_STATE',
        });
        await service.step(migration.id); // backfill → validating
        await service.cutover(migration.id);
        const conflict = await service
          .start({ alias: 'docs', to: 'v3', strategy: 'blue-green' })
          .catch((e) => e);
        expect(conflict).toMatchObject({ code: 'CONFLICT' });
        expect(conflict.message).toContain('reembed migrate finish docs');
        await expect(service.finish(migration.id, { reason: ' ' })).rejects.toMatchObject({
          code: 'INVALID_INPUT',
        });

        const finished = await service.finish(migration.id, { reason: 'v2 verified' });
        expect(finished.ok).toBe(true);
        expect(finished.migration.state).toBe('retired');
        expect(finished.migration.info).toMatchObject({ finishReason: 'v2 verified', finishedBy: 'alice' });
        await expect(service.rollback(migration.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
        // Default rule: the old namespace keeps its vectors and its window; retire run drops it later.
        expect((await app.backend.catalog.getNamespace('docs@v1')).state).toBe('retiring');
        expect(await app.backend.store.describeNamespace('docs@v1')).not.toBeNull();
        expect((await app.auditLog({ action: 'migration.finish' }))[0]?.details).toMatchObject({
          reason: 'v2 verified',
          retireNow: false,
        });
        expect((await service.retire()).namespaces[0]).toMatchObject({
          namespace: 'docs@v1',
          status: 'kept',
        });
        const later = new Date(Date.now() + 8 * 86_400_000);
        expect((await service.retire({ now: later })).namespaces[0]).toMatchObject({ status: 'retired' });

        const next = await service.start({ alias: 'docs', to: 'v3', strategy: 'blue-green', options });
        await service.step(next.migration.id);
        await service.cutover(next.migration.id);
        const now = await service.finish(next.migration.id, { reason: 'done', retireNow: true });
        expect(now.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['finish:done', 'retire:done']);
        expect((await app.backend.catalog.getNamespace('docs@v2')).state).toBe('retired');
        expect(await app.backend.store.describeNamespace('docs@v2')).toBeNull();
        expect((await app.search('docs', { text: 'rollback', k: 3 })).trace.reads[0]?.namespace).toBe(
          'docs@v3',
        );
      });
    },
  );
}
