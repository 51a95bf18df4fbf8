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
  ];
}

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
        `SELECT * FROM jobs WHERE (@namespace IS NULL OR namespace = @namespace)
           AND (@migration IS NULL OR migration_id = @migration) ORDER BY created_at, id`,
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
      for (const table of ['jobs', 'dead_letters', 'reembed_queue']) {
        const del = this.#sql.get(`DELETE FROM ${table} WHERE namespace = ?`);
        for (const ns of namespaces) del.run(ns);
      }
    });
  }

  #row(id: string): JobRow | undefined {
    return this.#sql.get('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
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
  });
}
