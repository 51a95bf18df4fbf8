import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveMigrationOptions } from '../../src/app/migrate-options.js';
import type { Reembed } from '../../src/app/reembed.js';
import type { JobRepository } from '../../src/ports/jobs.js';
import type { MigrationRepository } from '../../src/ports/migrations.js';
import type { SqliteBackend } from '../../src/stores/sqlite/backend.js';
import { SqliteJobRepository } from '../../src/stores/sqlite/jobs.js';
import { SqliteMigrationRepository } from '../../src/stores/sqlite/migrations.js';
import { hashing, tempApp } from './helpers.js';

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
let migrations: MigrationRepository;
let jobs: JobRepository;

beforeEach(async () => {
  ctx = await tempApp();
  app = ctx.app;
  await app.addSpace(hashing('v1', 1));
  await app.addSpace(hashing('v2', 2));
  await app.createCollection('docs', 'v1');
  await app.createNamespace('docs', hashing('v2', 2), 'active', 'docs@v1');
  migrations = app.backend.migrations as MigrationRepository;
  jobs = app.backend.jobs as JobRepository;
});
afterEach(async () => ctx.cleanup());

const input = (id: string) => ({
  id,
  collection: 'docs',
  alias: 'docs',
  from: 'docs@v1',
  to: 'docs@v2',
  strategy: 'shadow' as const,
  options: resolveMigrationOptions('shadow'),
});

describe('SqliteMigrationRepository', () => {
  it('stores migrations, enforces the transition table and compare-and-set, and audits each change', async () => {
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
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(migrations.transition('m1', 'cut-over', 'bob')).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });
    expect((await migrations.get('m1')).version).toBe(2);

    await migrations.transition('m1', 'validating', 'bob');
    await migrations.transition('m1', 'shadowing', 'bob');
    const cut = await migrations.transition('m1', 'cut-over', 'bob');
    expect(cut.completedAt).not.toBeNull();
    const rolled = await migrations.transition('m1', 'rolled-back', 'carol', { details: { reason: 'p99' } });
    expect(rolled.completedAt).toBe(cut.completedAt);
    // A finished migration frees the alias for the next one.
    await migrations.create(input('m2'), 'alice');
    expect((await migrations.list({ alias: 'docs', active: true })).map((x) => x.id)).toEqual(['m2']);

    const audit = await app.backend.catalog.listAudit({ subject: 'm1' });
    expect(audit.map((a) => [a.actor, a.action, a.details.to ?? null])).toEqual([
      ['alice', 'migration.create', 'docs@v2'],
      ['alice', 'migration.transition', 'backfilling'],
      ['bob', 'migration.transition', 'validating'],
      ['bob', 'migration.transition', 'shadowing'],
      ['bob', 'migration.transition', 'cut-over'],
      ['carol', 'migration.transition', 'rolled-back'],
    ]);
    expect(audit.at(-1)?.details.reason).toBe('p99');
  });

  it('enforces one unfinished migration per alias in the database itself', async () => {
    await migrations.create(input('m1'), 'alice');
    const db = (app.backend as SqliteBackend).db;
    expect(() =>
      db
        .prepare(
          `INSERT INTO migrations (id, collection, alias, from_ns, to_ns, strategy, state, options, version, created_at, updated_at)
           VALUES ('rogue', 'docs', 'docs', 'docs@v1', 'docs@v2', 'shadow', 'backfilling', '{}', 1, 'now', 'now')`,
        )
        .run(),
    ).toThrow(/UNIQUE/);
    expect(() => db.prepare("UPDATE migrations SET state = 'cut-over' WHERE id = 'm1'").run()).toThrow(
      /CHECK/,
    );
  });

  it('summarises shadow agreement per phase, k and tenant, and keeps the latest read time', async () => {
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

    await migrations.recordReads([
      { namespace: 'docs@v1', reads: 3, lastReadAt: '2025-01-02T00:00:00.000Z' },
    ]);
    await migrations.recordReads([
      { namespace: 'docs@v1', reads: 2, lastReadAt: '2025-01-01T00:00:00.000Z' },
    ]);
    expect(await migrations.traffic('docs@v1')).toEqual({
      namespace: 'docs@v1',
      reads: 5,
      lastReadAt: '2025-01-02T00:00:00.000Z',
    });
    expect(await migrations.traffic('docs@v2')).toBeNull();
  });

  it('is idempotent to open twice on the same file', async () => {
    const db = (app.backend as SqliteBackend).db;
    expect(() => new SqliteMigrationRepository(db)).not.toThrow();
    expect(() => new SqliteJobRepository(db)).not.toThrow();
  });
});

describe('SqliteJobRepository', () => {
  it('keeps job rows, reads checkpoints the store committed with a batch, and counts', async () => {
    const job = await jobs.ensureJob({
      id: 'backfill:docs@v2',
      type: 'backfill',
      namespace: 'docs@v2',
      collection: 'docs',
    });
    expect(job).toMatchObject({ state: 'pending', pass: 0, counters: { processed: 0 } });
    expect(
      await jobs.ensureJob({
        id: 'backfill:docs@v2',
        type: 'backfill',
        namespace: 'docs@v2',
        collection: 'docs',
      }),
    ).toEqual(job);
    await jobs.updateJob(job.id, { state: 'running', add: { written: 5, processed: 7 } });
    const done = await jobs.updateJob(job.id, { state: 'done', add: { written: 1 }, pass: 1 });
    expect(done).toMatchObject({ state: 'done', pass: 1, counters: { written: 6, processed: 7 } });
    expect(done.finishedAt).not.toBeNull();

    await app.backend.store.write('docs@v2', hashing('v2', 2).fingerprint, [], {
      checkpoint: { jobId: 'backfill:docs@v2#1', cursor: 'scan:k', processed: 11 },
    });
    expect(await jobs.checkpoint('backfill:docs@v2#1')).toMatchObject({ cursor: 'scan:k', processed: 11 });
    await jobs.saveCheckpoint('docs@v2', { jobId: 'backfill:docs@v2#1', cursor: 'scan:z', processed: 20 });
    expect(await jobs.checkpoint('backfill:docs@v2#1')).toMatchObject({ cursor: 'scan:z', processed: 20 });
    await app.backend.store.dropNamespace('docs@v2');
    expect(await jobs.checkpoint('backfill:docs@v2#1')).toBeNull();
  });

  it('upserts dead letters and serves the queue by priority, then age', async () => {
    const entry = {
      namespace: 'docs@v2',
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
    const dead = await jobs.listDeadLetters('docs@v2');
    expect(dead.map((d) => [d.sourceId, d.attempts, d.reason, d.sourceVersion])).toEqual([
      ['a', 2, 'NaN again', 4],
      ['b', 1, 'NaN', 3],
    ]);
    expect(await jobs.listDeadLetters('docs@v2', { afterSourceId: 'a' })).toHaveLength(1);
    expect(await jobs.clearDeadLetters('docs@v2', ['a', 'zz'])).toBe(1);
    expect(await jobs.countDeadLetters('docs@v2')).toBe(1);

    await jobs.enqueue('docs@v2', ['x', 'y']);
    await jobs.enqueue('docs@v2', ['z'], 5);
    await jobs.enqueue('docs@v2', ['x'], 0);
    expect(await jobs.peekQueue('docs@v2', 10)).toEqual(['z', 'x', 'y']);
    await jobs.ack('docs@v2', ['z', 'x']);
    expect(await jobs.peekQueue('docs@v2', 10)).toEqual(['y']);
    expect(await jobs.queueSize('docs@v2')).toBe(1);
  });
});
