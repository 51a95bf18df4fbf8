import { ReembedError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../ports/clock.js';
import {
  type Checkpoint,
  type DeadLetter,
  JOB_STATES,
  JOB_TYPES,
  type Job,
  type JobPatch,
  type JobRepository,
  type JobRunner,
  type JobState,
  type JobType,
  type NewJob,
} from '../../ports/jobs.js';
import type { CheckpointWrite } from '../../ports/vector-store.js';
import { applyComponentSchema, sqlList } from './migrations.js';
import type { SqliteDatabase } from './schema.js';
import { StatementCache } from './statements.js';

export const JOBS_COMPONENT = 'jobs';
export const JOBS_SCHEMA_VERSION = 1;

/** Job rows, dead letters and the priority queue. Checkpoints live in the store's `checkpoints` table. */
export function jobsDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY,
      type TEXT NOT NULL CHECK (type IN (${sqlList(JOB_TYPES)})),
      namespace TEXT NOT NULL,
      collection TEXT NOT NULL,
      migration_id TEXT,
      state TEXT NOT NULL CHECK (state IN (${sqlList(JOB_STATES)})),
      pass INTEGER NOT NULL DEFAULT 0 CHECK (pass >= 0),
      processed INTEGER NOT NULL DEFAULT 0,
      written INTEGER NOT NULL DEFAULT 0,
      skipped INTEGER NOT NULL DEFAULT 0,
      dead_lettered INTEGER NOT NULL DEFAULT 0,
      retries INTEGER NOT NULL DEFAULT 0,
      error TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      finished_at TEXT
    )`,
    'CREATE INDEX IF NOT EXISTS jobs_by_namespace ON jobs(namespace)',
    `CREATE TABLE IF NOT EXISTS dead_letters (
      namespace TEXT NOT NULL,
      source_id TEXT NOT NULL,
      source_version INTEGER NOT NULL,
      job_id TEXT NOT NULL,
      code TEXT NOT NULL,
      reason TEXT NOT NULL,
      attempts INTEGER NOT NULL CHECK (attempts >= 1),
      at TEXT NOT NULL,
      PRIMARY KEY (namespace, source_id)
    ) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS reembed_queue (
      namespace TEXT NOT NULL,
      source_id TEXT NOT NULL,
      priority INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      PRIMARY KEY (namespace, source_id)
    ) WITHOUT ROWID`,
    'CREATE INDEX IF NOT EXISTS reembed_queue_order ON reembed_queue(namespace, priority DESC, seq)',
    // Who runs a job (heartbeat): a table of its own, so databases made before it gain it unchanged.
    `CREATE TABLE IF NOT EXISTS job_leases (
      job_id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      host TEXT NOT NULL,
      pid INTEGER NOT NULL,
      started_at TEXT NOT NULL,
      heartbeat_at TEXT NOT NULL
    ) WITHOUT ROWID`,
  ];
}

const JOB_SELECT = `SELECT j.*, l.owner AS lease_owner, l.host AS lease_host, l.pid AS lease_pid,
  l.started_at AS lease_started_at, l.heartbeat_at AS lease_heartbeat_at
  FROM jobs j LEFT JOIN job_leases l ON l.job_id = j.id`;

interface JobRow {
  id: string;
  type: string;
  namespace: string;
  collection: string;
  migration_id: string | null;
  state: string;
  pass: number;
  processed: number;
  written: number;
  skipped: number;
  dead_lettered: number;
  retries: number;
  error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  lease_owner: string | null;
  lease_host: string | null;
  lease_pid: number | null;
  lease_started_at: string | null;
  lease_heartbeat_at: string | null;
}

interface DeadLetterRow {
  namespace: string;
  source_id: string;
  source_version: number;
  job_id: string;
  code: string;
  reason: string;
  attempts: number;
  at: string;
}

/** Background-job bookkeeping in the backend's SQLite file (see `JobRepository`). */
export class SqliteJobRepository implements JobRepository {
  readonly #sql: StatementCache;
  readonly #clock: Clock;

  constructor(db: SqliteDatabase, options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    applyComponentSchema(db, JOBS_COMPONENT, JOBS_SCHEMA_VERSION, jobsDdl(), this.#now());
    this.#sql = new StatementCache(db);
  }

  async ensureJob(input: NewJob): Promise<Job> {
    return this.#sql.write('create a job', () => {
      const now = this.#now();
      this.#sql
        .get(
          `INSERT INTO jobs (id, type, namespace, collection, migration_id, state, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (id) DO NOTHING`,
        )
        .run(input.id, input.type, input.namespace, input.collection, input.migrationId ?? null, now, now);
      return fromRow(this.#row(input.id) as JobRow);
    });
  }

  async getJob(id: string): Promise<Job | null> {
    const row = this.#row(id);
    return row ? fromRow(row) : null;
  }

  async listJobs(filter: { namespace?: string; migrationId?: string } = {}): Promise<Job[]> {
    const rows = this.#sql
      .get(
        `${JOB_SELECT} WHERE (@namespace IS NULL OR j.namespace = @namespace)
           AND (@migration IS NULL OR j.migration_id = @migration) ORDER BY j.created_at, j.id`,
      )
      .all({ namespace: filter.namespace ?? null, migration: filter.migrationId ?? null }) as JobRow[];
    return rows.map(fromRow);
  }

  async updateJob(id: string, patch: JobPatch): Promise<Job> {
    return this.#sql.write('update a job', () => {
      const row = this.#row(id);
      if (!row) throw new ReembedError('NOT_FOUND', `Unknown job "${id}".`, { details: { job: id } });
      const add = patch.add ?? {};
      const state = patch.state ?? (row.state as JobState);
      const now = this.#now();
      const finished =
        state === 'done' ? now : state === 'running' || state === 'pending' ? null : row.finished_at;
      const error =
        patch.error === undefined ? row.error : patch.error === null ? null : JSON.stringify(patch.error);
      this.#sql
        .get(
          `UPDATE jobs SET state = ?, pass = ?, processed = processed + ?, written = written + ?, skipped = skipped + ?,
             dead_lettered = dead_lettered + ?, retries = retries + ?, error = ?, updated_at = ?, finished_at = ?
           WHERE id = ?`,
        )
        .run(
          state,
          patch.pass ?? row.pass,
          add.processed ?? 0,
          add.written ?? 0,
          add.skipped ?? 0,
          add.deadLettered ?? 0,
          add.retries ?? 0,
          error,
          now,
          finished,
          id,
        );
      return fromRow(this.#row(id) as JobRow);
    });
  }

  async checkpoint(jobId: string): Promise<Checkpoint | null> {
    const row = this.#sql
      .get('SELECT job_id, cursor, processed, updated_at FROM checkpoints WHERE job_id = ?')
      .get(jobId) as { job_id: string; cursor: string; processed: number; updated_at: string } | undefined;
    return row
      ? Object.freeze({
          jobId: row.job_id,
          cursor: row.cursor,
          processed: row.processed,
          updatedAt: row.updated_at,
        })
      : null;
  }

  async saveCheckpoint(namespace: string, checkpoint: CheckpointWrite): Promise<void> {
    this.#sql.write('save a checkpoint', () => {
      this.#sql
        .get(
          `INSERT INTO checkpoints (job_id, namespace, cursor, processed, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (job_id) DO UPDATE SET cursor = excluded.cursor, processed = excluded.processed,
             updated_at = excluded.updated_at`,
        )
        .run(checkpoint.jobId, namespace, checkpoint.cursor, checkpoint.processed, this.#now());
    });
  }

  async addDeadLetters(entries: readonly Omit<DeadLetter, 'at'>[]): Promise<void> {
    if (entries.length === 0) return;
    this.#sql.write('record dead letters', () => {
      const upsert = this.#sql.get(
        `INSERT INTO dead_letters (namespace, source_id, source_version, job_id, code, reason, attempts, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (namespace, source_id) DO UPDATE SET source_version = excluded.source_version,
           job_id = excluded.job_id, code = excluded.code, reason = excluded.reason,
           attempts = dead_letters.attempts + excluded.attempts, at = excluded.at`,
      );
      const at = this.#now();
      for (const e of entries) {
        upsert.run(
          e.namespace,
          e.sourceId,
          e.sourceVersion,
          e.jobId,
          e.code,
          e.reason,
          Math.max(1, e.attempts),
          at,
        );
      }
    });
  }

  async listDeadLetters(
    namespace: string,
    options: { limit?: number; afterSourceId?: string } = {},
  ): Promise<DeadLetter[]> {
    const rows = this.#sql
      .get('SELECT * FROM dead_letters WHERE namespace = ? AND source_id > ? ORDER BY source_id LIMIT ?')
      .all(namespace, options.afterSourceId ?? '', options.limit ?? -1) as DeadLetterRow[];
    return rows.map((r) =>
      Object.freeze({
        namespace: r.namespace,
        sourceId: r.source_id,
        sourceVersion: r.source_version,
        jobId: r.job_id,
        code: r.code as DeadLetter['code'],
        reason: r.reason,
        attempts: r.attempts,
        at: r.at,
      }),
    );
  }

  async countDeadLetters(namespace: string): Promise<number> {
    return this.#sql
      .get('SELECT COUNT(*) FROM dead_letters WHERE namespace = ?')
      .pluck()
      .get(namespace) as number;
  }

  async clearDeadLetters(namespace: string, sourceIds: readonly string[]): Promise<number> {
    if (sourceIds.length === 0) return 0;
    return this.#sql.write('clear dead letters', () => {
      const del = this.#sql.get('DELETE FROM dead_letters WHERE namespace = ? AND source_id = ?');
      let removed = 0;
      for (const id of sourceIds) removed += del.run(namespace, id).changes;
      return removed;
    });
  }

  async enqueue(namespace: string, sourceIds: readonly string[], priority = 0): Promise<void> {
    if (sourceIds.length === 0) return;
    this.#sql.write('queue sources', () => {
      let seq = this.#sql.get('SELECT COALESCE(MAX(seq), 0) FROM reembed_queue').pluck().get() as number;
      const upsert = this.#sql.get(
        `INSERT INTO reembed_queue (namespace, source_id, priority, seq) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, source_id) DO UPDATE SET priority = MAX(priority, excluded.priority)`,
      );
      for (const id of sourceIds) upsert.run(namespace, id, priority, ++seq);
    });
  }

  async peekQueue(namespace: string, limit: number): Promise<string[]> {
    return this.#sql
      .get('SELECT source_id FROM reembed_queue WHERE namespace = ? ORDER BY priority DESC, seq LIMIT ?')
      .pluck()
      .all(namespace, limit) as string[];
  }

  async ack(namespace: string, sourceIds: readonly string[]): Promise<void> {
    if (sourceIds.length === 0) return;
    this.#sql.write('acknowledge queued sources', () => {
      const del = this.#sql.get('DELETE FROM reembed_queue WHERE namespace = ? AND source_id = ?');
      for (const id of sourceIds) del.run(namespace, id);
    });
  }

  async queueSize(namespace: string): Promise<number> {
    return this.#sql
      .get('SELECT COUNT(*) FROM reembed_queue WHERE namespace = ?')
      .pluck()
      .get(namespace) as number;
  }

  async purge(namespaces: readonly string[]): Promise<void> {
    if (namespaces.length === 0) return;
    this.#sql.write('purge jobs', () => {
      const leases = this.#sql.get(
        'DELETE FROM job_leases WHERE job_id IN (SELECT id FROM jobs WHERE namespace = ?)',
      );
      for (const ns of namespaces) leases.run(ns);
      for (const table of ['jobs', 'dead_letters', 'reembed_queue']) {
        const del = this.#sql.get(`DELETE FROM ${table} WHERE namespace = ?`);
        for (const ns of namespaces) del.run(ns);
      }
    });
  }

  async heartbeat(jobId: string, runner: Pick<JobRunner, 'owner' | 'host' | 'pid'>): Promise<void> {
    this.#sql.write('record a job heartbeat', () => {
      const now = this.#now();
      this.#sql
        .get(
          `INSERT INTO job_leases (job_id, owner, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (job_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
             started_at = CASE WHEN job_leases.owner = excluded.owner THEN job_leases.started_at ELSE excluded.started_at END,
             owner = excluded.owner, host = excluded.host, pid = excluded.pid`,
        )
        .run(jobId, runner.owner, runner.host, runner.pid, now, now);
    });
  }

  async release(jobId: string, owner: string): Promise<void> {
    this.#sql.write('release a job', () => {
      this.#sql.get('DELETE FROM job_leases WHERE job_id = ? AND owner = ?').run(jobId, owner);
    });
  }

  #row(id: string): JobRow | undefined {
    return this.#sql.get(`${JOB_SELECT} WHERE j.id = ?`).get(id) as JobRow | undefined;
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }
}

function fromRow(row: JobRow): Job {
  return Object.freeze({
    kind: 'job' as const,
    id: row.id,
    type: row.type as JobType,
    namespace: row.namespace,
    collection: row.collection,
    migrationId: row.migration_id,
    state: row.state as JobState,
    pass: row.pass,
    counters: Object.freeze({
      processed: row.processed,
      written: row.written,
      skipped: row.skipped,
      deadLettered: row.dead_lettered,
      retries: row.retries,
    }),
    error: row.error === null ? null : (JSON.parse(row.error) as { code: string; message: string }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    runner:
      row.lease_owner === null
        ? null
        : Object.freeze({
            owner: row.lease_owner,
            host: row.lease_host as string,
            pid: row.lease_pid as number,
            startedAt: row.lease_started_at as string,
            heartbeatAt: row.lease_heartbeat_at as string,
          }),
  });
}
