import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveMigrationOptions } from '../app/migrate-options.js';
import type { Space } from '../core/space.js';
import type { Backend } from '../ports/backend.js';
import type { JobRepository } from '../ports/jobs.js';
import type { MigrationRepository } from '../ports/migrations.js';
import { descriptorOf, testSpace } from './fixtures.js';

/**
 * The behaviour every `MigrationRepository` / `JobRepository` pair must show, run against the embedded
 * backend and PostgreSQL alike (src/stores/pg/repositories.test.ts runs them on both). `raw` runs one SQL statement on the backend's own connection, for the storage rules.
 */
export interface RepositoryHarness {
  readonly backend: Backend;
  readonly migrations: MigrationRepository;
  readonly jobs: JobRepository;
  /** Runs a statement against the backend's tables (unqualified names resolve to its schema). */
  raw(sql: string): Promise<void>;
  /** Opens the repositories a second time over the same tables. */
  reopen(): Promise<void>;
  cleanup(): Promise<void>;
}

const v1: Space = testSpace('repo-v1');
const v2: Space = testSpace('repo-v2');
const NS1 = 'docs@repo-v1';
const NS2 = 'docs@repo-v2';

async function seed(b: Backend): Promise<void> {
  await b.catalog.addSpace(v1, 'alice');
  await b.catalog.addSpace(v2, 'alice');
  await b.catalog.createCollection('docs', 'alice');
  for (const [space, state] of [
    [v1, 'serving'],
    [v2, 'active'],
  ] as const) {
    await b.store.createNamespace(descriptorOf('docs', space));
    await b.catalog.createNamespace({ collection: 'docs', space, state }, 'alice');
  }
}

const input = (id: string) => ({
  id,
  collection: 'docs',
  alias: 'docs',
  from: NS1,
  to: NS2,
  strategy: 'shadow' as const,
  options: resolveMigrationOptions('shadow'),
});

export function describeRepositoryCases(name: string, open: () => Promise<RepositoryHarness>): void {
  describe(`${name} migration and job repositories`, () => {
    let h: RepositoryHarness;
    beforeEach(async () => {
      h = await open();
      await seed(h.backend);
    });
    afterEach(async () => h.cleanup());

    it('stores migrations, enforces the transition table and compare-and-set, and audits each change', async () => {
      const { migrations } = h;
      const m = await migrations.create(input('m1'), 'alice');
      expect(m).toMatchObject({ kind: 'migration', state: 'planned', version: 1, completedAt: null });
      expect(Object.isFrozen(m.options)).toBe(true);
      await expect(migrations.create(input('m2'), 'alice')).rejects.toMatchObject({ code: 'CONFLICT' });

      const b = await migrations.transition('m1', 'backfilling', 'alice', {
        expectedVersion: 1,
        info: { note: 'x' },
      });
      expect(b).toMatchObject({ state: 'backfilling', version: 2, info: { note: 'x' } });
      await expect(
        migrations.transition('m1', 'validating', 'bob', { expectedVersion: 1 }),
      ).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      await expect(migrations.transition('m1', 'cut-over', 'bob')).rejects.toMatchObject({
        code: 'INVALID_TRANSITION',
      });
      expect((await migrations.get('m1')).version).toBe(2);
      await expect(migrations.get('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });

      await migrations.transition('m1', 'validating', 'bob');
      await migrations.transition('m1', 'shadowing', 'bob');
      const cut = await migrations.transition('m1', 'cut-over', 'bob');
      expect(cut.completedAt).not.toBeNull();
      const rolled = await migrations.transition('m1', 'rolled-back', 'carol', {
        details: { reason: 'p99' },
      });
      expect(rolled.completedAt).toBe(cut.completedAt);
      await migrations.create(input('m2'), 'alice');
      expect((await migrations.list({ alias: 'docs', active: true })).map((x) => x.id)).toEqual(['m2']);
      expect((await migrations.list({ collection: 'docs' })).map((x) => x.id).sort()).toEqual(['m1', 'm2']);
      const info = await migrations.updateInfo('m2', { rolloutPercent: 5 }, 'dave');
      expect(info).toMatchObject({ version: 2, info: { rolloutPercent: 5 } });

      const audit = await h.backend.catalog.listAudit({ subject: 'm1' });
      expect(audit.map((a) => [a.actor, a.action, a.details.to ?? null])).toEqual([
        ['alice', 'migration.create', NS2],
        ['alice', 'migration.transition', 'backfilling'],
        ['bob', 'migration.transition', 'validating'],
        ['bob', 'migration.transition', 'shadowing'],
        ['bob', 'migration.transition', 'cut-over'],
        ['carol', 'migration.transition', 'rolled-back'],
      ]);
      expect(audit.at(-1)?.details.reason).toBe('p99');
      expect((await h.backend.catalog.listAudit({ subject: 'm2' })).map((a) => a.action)).toEqual([
        'migration.create',
        'migration.info',
      ]);
    });

    it('serialises concurrent transitions: exactly one compare-and-set wins', async () => {
      await h.migrations.create(input('m1'), 'alice');
      const outcomes = await Promise.allSettled(
        ['a', 'b', 'c'].map((actor) =>
          h.migrations.transition('m1', 'backfilling', actor, { expectedVersion: 1 }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect((await h.migrations.get('m1')).version).toBe(2);
    });

    it('enforces one unfinished migration per alias and completed_at in the database itself', async () => {
      await h.migrations.create(input('m1'), 'alice');
      await expect(
        h.raw(
          `INSERT INTO migrations (id, collection, alias, from_ns, to_ns, strategy, state, options, version, created_at, updated_at)
           VALUES ('rogue', 'docs', 'docs', '${NS1}', '${NS2}', 'shadow', 'backfilling', '{}', 1, '2025-01-01', '2025-01-01')`,
        ),
      ).rejects.toThrow(/unique|UNIQUE/);
      await expect(h.raw("UPDATE migrations SET state = 'cut-over' WHERE id = 'm1'")).rejects.toThrow(
        /check|CHECK/,
      );
    });

    it('summarises shadow agreement per phase, k and tenant, and keeps the latest read time', async () => {
      const { migrations } = h;
      await migrations.create(input('m1'), 'alice');
      const sample = (i: number, phase: 'backfilling' | 'shadowing', tenant: string | null) => ({
        migrationId: 'm1',
        at: new Date(1_700_000_000_000 + i).toISOString(),
        phase,
        tenant,
        k: 10,
        overlap: i / 10,
        rbo: i / 20,
        servedMs: i,
        shadowMs: 2 * i,
      });
      await migrations.recordAgreement([
        sample(1, 'backfilling', null),
        ...[2, 4, 6, 8, 10].map((i) => sample(i, 'shadowing', i > 5 ? 't1' : null)),
      ]);
      const s = await migrations.agreementSummary('m1', { phase: 'shadowing' });
      expect(s.samples).toBe(5);
      expect(s.overlap[10]).toBeCloseTo(0.6, 10);
      expect(s.rbo).toBeCloseTo(0.3, 10);
      expect(s.servedMs).toEqual({ p50: 6, p99: 10 });
      expect(s.shadowMs).toEqual({ p50: 12, p99: 20 });
      expect(Object.keys(s.tenants).sort()).toEqual(['', 't1']);
      expect(s.tenants['']?.samples).toBe(2);
      expect(s.tenants['']?.rbo).toBeCloseTo(0.15, 10);
      expect(s.tenants.t1?.samples).toBe(3);
      expect(s.tenants.t1?.rbo).toBeCloseTo(0.4, 10);
      expect((await migrations.agreementSummary('m1')).samples).toBe(6);
      expect(await migrations.agreementSummary('m1', { phase: 'validating' })).toMatchObject({
        samples: 0,
        rbo: null,
        servedMs: { p50: null, p99: null },
      });

      await migrations.recordReads([{ namespace: NS1, reads: 3, lastReadAt: '2025-01-02T00:00:00.000Z' }]);
      await migrations.recordReads([
        { namespace: NS1, reads: 2, lastReadAt: '2025-01-01T00:00:00.000Z' },
        { namespace: NS1, reads: 1, lastReadAt: '2025-01-01T12:00:00.000Z' },
      ]);
      expect(await migrations.traffic(NS1)).toEqual({
        namespace: NS1,
        reads: 6,
        lastReadAt: '2025-01-02T00:00:00.000Z',
      });
      expect(await migrations.traffic(NS2)).toBeNull();
    });

    it('is idempotent to open twice on the same tables', async () => {
      await h.migrations.create(input('m1'), 'alice');
      await expect(h.reopen()).resolves.toBeUndefined();
      expect((await h.migrations.get('m1')).state).toBe('planned');
    });

    it('keeps job rows, reads checkpoints the store committed with a batch, and counts', async () => {
      const { jobs } = h;
      const job = await jobs.ensureJob({
        id: `backfill:${NS2}`,
        type: 'backfill',
        namespace: NS2,
        collection: 'docs',
      });
      expect(job).toMatchObject({ state: 'pending', pass: 0, counters: { processed: 0 }, finishedAt: null });
      expect(
        await jobs.ensureJob({ id: job.id, type: 'backfill', namespace: NS2, collection: 'docs' }),
      ).toEqual(job);
      await jobs.updateJob(job.id, { state: 'running', add: { written: 5, processed: 7 } });
      const failed = await jobs.updateJob(job.id, {
        state: 'failed',
        error: { code: 'STORE_FAILED', message: 'x' },
      });
      expect(failed.error).toEqual({ code: 'STORE_FAILED', message: 'x' });
      const done = await jobs.updateJob(job.id, { state: 'done', add: { written: 1 }, pass: 1, error: null });
      expect(done).toMatchObject({
        state: 'done',
        pass: 1,
        counters: { written: 6, processed: 7 },
        error: null,
      });
      expect(done.finishedAt).not.toBeNull();
      await expect(jobs.updateJob('nope', { state: 'done' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // Counters added from many writers at once are never lost.
      await Promise.all(Array.from({ length: 20 }, () => jobs.updateJob(job.id, { add: { retries: 1 } })));
      expect((await jobs.getJob(job.id))?.counters.retries).toBe(20);
      expect((await jobs.listJobs({ namespace: NS2 })).map((j) => j.id)).toEqual([job.id]);
      expect(await jobs.listJobs({ migrationId: 'none' })).toEqual([]);

      await h.backend.store.write(NS2, v2.fingerprint, [], {
        checkpoint: { jobId: `${job.id}#1`, cursor: 'scan:k', processed: 11 },
      });
      expect(await jobs.checkpoint(`${job.id}#1`)).toMatchObject({ cursor: 'scan:k', processed: 11 });
      await jobs.saveCheckpoint(NS2, { jobId: `${job.id}#1`, cursor: 'scan:z', processed: 20 });
      expect(await jobs.checkpoint(`${job.id}#1`)).toMatchObject({ cursor: 'scan:z', processed: 20 });
      expect(await h.backend.store.readCheckpoint?.(`${job.id}#1`)).toMatchObject({ cursor: 'scan:z' });
      await h.backend.store.dropNamespace(NS2);
      expect(await jobs.checkpoint(`${job.id}#1`)).toBeNull();
    });

    it('upserts dead letters and serves the queue by priority, then age', async () => {
      const { jobs } = h;
      const entry = {
        namespace: NS2,
        sourceVersion: 3,
        jobId: 'j',
        code: 'INVALID_VECTOR' as const,
        reason: 'NaN',
        attempts: 1,
      };
      await jobs.addDeadLetters([
        { ...entry, sourceId: 'b' },
        { ...entry, sourceId: 'a' },
      ]);
      await jobs.addDeadLetters([{ ...entry, sourceId: 'a', reason: 'NaN again', sourceVersion: 4 }]);
      await jobs.addDeadLetters([
        { ...entry, sourceId: 'C' },
        { ...entry, sourceId: 'C', reason: 'twice' },
      ]);
      const dead = await jobs.listDeadLetters(NS2);
      expect(dead.map((d) => [d.sourceId, d.attempts, d.reason, d.sourceVersion])).toEqual([
        ['C', 2, 'twice', 3],
        ['a', 2, 'NaN again', 4],
        ['b', 1, 'NaN', 3],
      ]);
      expect(await jobs.listDeadLetters(NS2, { afterSourceId: 'a' })).toHaveLength(1);
      expect(await jobs.listDeadLetters(NS2, { limit: 1 })).toHaveLength(1);
      expect(await jobs.clearDeadLetters(NS2, ['a', 'zz'])).toBe(1);
      expect(await jobs.countDeadLetters(NS2)).toBe(2);
      expect(await jobs.countDeadLetters(NS1)).toBe(0);

      await jobs.enqueue(NS2, ['x', 'y']);
      await jobs.enqueue(NS2, ['z'], 5);
      await jobs.enqueue(NS2, ['x'], 0);
      await jobs.enqueue(NS2, ['y'], 7);
      expect(await jobs.peekQueue(NS2, 10)).toEqual(['y', 'z', 'x']);
      await jobs.ack(NS2, ['z', 'y']);
      expect(await jobs.peekQueue(NS2, 10)).toEqual(['x']);
      expect(await jobs.queueSize(NS2)).toBe(1);
      expect(await jobs.queueSize(NS1)).toBe(0);
    });
  });
}
