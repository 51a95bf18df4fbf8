import { ReembedError } from '../../core/errors.js';
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
import { jsonValue } from '../shared/json.js';
import { iso, isoOrNull } from '../shared/timestamps.js';
import type { SqlDialect } from './dialect.js';
import { exec, rows, type SqlExecutor } from './executor.js';
import { SqlRepository, type SqlRepositoryOptions, sqlComponent } from './repository.js';
import { bulkColumns, insertRows, optionalParams, sqlList } from './statements.js';

/**
 * Job rows, dead letters, the priority queue and job leases. Checkpoints live in the store's
 * `checkpoints` table, which the vector store writes in the transaction of a batch. Source ids compare by
 * code point on both dialects, so listings page in the same byte order as the sources and heads.
 */
export function jobsDdl(d: SqlDialect): string[] {
  const t = d.table;
  const counter = `${d.bigint} NOT NULL DEFAULT 0`;
  return [
    `CREATE TABLE IF NOT EXISTS ${t('jobs')} (
      id TEXT PRIMARY KEY,
      type TEXT NOT NULL CHECK (type IN (${sqlList(JOB_TYPES)})),
      namespace TEXT NOT NULL,
      collection TEXT NOT NULL,
      migration_id TEXT,
      state TEXT NOT NULL CHECK (state IN (${sqlList(JOB_STATES)})),
      pass INTEGER NOT NULL DEFAULT 0 CHECK (pass >= 0),
      processed ${counter},
      written ${counter},
      skipped ${counter},
      dead_lettered ${counter},
      retries ${counter},
      error ${d.json},
      created_at ${d.timestamp} NOT NULL,
      updated_at ${d.timestamp} NOT NULL,
      finished_at ${d.timestamp}
    )`,
    `CREATE INDEX IF NOT EXISTS jobs_by_namespace ON ${t('jobs')} (namespace)`,
    `CREATE TABLE IF NOT EXISTS ${t('dead_letters')} (
      namespace TEXT NOT NULL,
      source_id TEXT${d.binaryCollation} NOT NULL,
      source_version ${d.bigint} NOT NULL,
      job_id TEXT NOT NULL,
      code TEXT NOT NULL,
      reason TEXT NOT NULL,
      attempts INTEGER NOT NULL CHECK (attempts >= 1),
      at ${d.timestamp} NOT NULL,
      PRIMARY KEY (namespace, source_id)
    )${d.withoutRowid}`,
    `CREATE TABLE IF NOT EXISTS ${t('reembed_queue')} (
      namespace TEXT NOT NULL,
      source_id TEXT${d.binaryCollation} NOT NULL,
      priority INTEGER NOT NULL,
      seq ${d.name === 'pg' ? 'bigint GENERATED ALWAYS AS IDENTITY' : 'INTEGER NOT NULL'},
      PRIMARY KEY (namespace, source_id)
    )${d.withoutRowid}`,
    `CREATE INDEX IF NOT EXISTS reembed_queue_order ON ${t('reembed_queue')} (namespace, priority DESC, seq)`,
    // Who runs a job (heartbeat): a table of its own, so databases made before it gain it unchanged.
    `CREATE TABLE IF NOT EXISTS ${t('job_leases')} (
      job_id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      host TEXT NOT NULL,
      pid INTEGER NOT NULL,
      started_at ${d.timestamp} NOT NULL,
      heartbeat_at ${d.timestamp} NOT NULL
    )${d.withoutRowid}`,
  ];
}

const DEAD_LETTER_COLUMNS = bulkColumns(
  'namespace text, source_id text, source_version bigint, job_id text, code text, reason text, attempts integer, at timestamptz',
);

/** Statements of the repository in one dialect, as strings (STYLE #6). */
export function jobsSql(d: SqlDialect) {
  const t = d.table;
  const p = d.param;
  const lease = (column: string) =>
    `(SELECT l.${column} FROM ${t('job_leases')} l WHERE l.job_id = ${t('jobs')}.id) AS lease_${column}`;
  const leaseColumns = ['owner', 'host', 'pid', 'started_at', 'heartbeat_at'].map(lease).join(', ');
  const count = (table: string) => `SELECT count(*) AS n FROM ${t(table)} WHERE namespace = ${p(1)}`;
  return {
    insertJob: `INSERT INTO ${t('jobs')} (id, type, namespace, collection, migration_id, state, created_at, updated_at)
      VALUES (${d.params(5)}, 'pending', ${d.params(2, 6)}) ON CONFLICT (id) DO NOTHING`,
    job: `SELECT *, ${leaseColumns} FROM ${t('jobs')} WHERE id = ${p(1)}`,
    listJobs: `SELECT *, ${leaseColumns} FROM ${t('jobs')}
      WHERE (${d.typed(1, 'text')} IS NULL OR namespace = ${p(2)})
        AND (${d.typed(3, 'text')} IS NULL OR migration_id = ${p(4)})
      ORDER BY created_at, id`,
    /** One statement: counters are added under the row lock, so concurrent workers never lose an increment. */
    updateJob: `UPDATE ${t('jobs')} SET
        state = coalesce(${p(1)}, state),
        pass = coalesce(${d.typed(2, 'integer')}, pass),
        processed = processed + ${p(3)}, written = written + ${p(4)}, skipped = skipped + ${p(5)},
        dead_lettered = dead_lettered + ${p(6)}, retries = retries + ${p(7)},
        error = CASE WHEN ${d.typed(8, 'integer')} = 1 THEN ${d.typed(9, d.json)} ELSE error END,
        updated_at = ${p(10)},
        finished_at = CASE coalesce(${d.typed(11, 'text')}, state) WHEN 'done' THEN ${d.typed(12, d.timestamp)}
          WHEN 'running' THEN NULL WHEN 'pending' THEN NULL ELSE finished_at END
      WHERE id = ${p(13)} RETURNING *, ${leaseColumns}`,
    checkpoint: `SELECT job_id, cursor, processed, updated_at FROM ${t('checkpoints')} WHERE job_id = ${p(1)}`,
    saveCheckpoint: `INSERT INTO ${t('checkpoints')} (job_id, namespace, cursor, processed, updated_at)
      VALUES (${d.params(5)})
      ON CONFLICT (job_id) DO UPDATE SET namespace = excluded.namespace, cursor = excluded.cursor,
        processed = excluded.processed, updated_at = excluded.updated_at`,
    deadLettersOnConflict: ` ON CONFLICT (namespace, source_id) DO UPDATE SET source_version = excluded.source_version,
      job_id = excluded.job_id, code = excluded.code, reason = excluded.reason,
      attempts = dead_letters.attempts + excluded.attempts, at = excluded.at`,
    listDeadLetters: `SELECT * FROM ${t('dead_letters')} WHERE namespace = ${p(1)} AND source_id > ${p(2)}
      ORDER BY source_id LIMIT ${p(3)}`,
    countDeadLetters: count('dead_letters'),
    clearDeadLetters: `DELETE FROM ${t('dead_letters')} WHERE namespace = ${p(1)} AND ${d.inList('source_id', 2)}`,
    /**
     * Sources in input order, oldest first: PostgreSQL numbers them by the identity column, SQLite after the
     * highest sequence held. A queued source keeps its place and the higher priority.
     */
    enqueue:
      d.name === 'pg'
        ? `INSERT INTO ${t('reembed_queue')} AS q (namespace, source_id, priority)
          SELECT $1, u.id, $2 FROM unnest($3::text[]) WITH ORDINALITY AS u(id, n) ORDER BY u.n
          ON CONFLICT (namespace, source_id) DO UPDATE SET priority = greatest(q.priority, excluded.priority)`
        : `INSERT INTO reembed_queue (namespace, source_id, priority, seq)
          SELECT ?, j.value, ?, (SELECT COALESCE(MAX(seq), 0) FROM reembed_queue) + j.key + 1 FROM json_each(?) j
          WHERE true
          ON CONFLICT (namespace, source_id) DO UPDATE SET priority = MAX(priority, excluded.priority)`,
    peekQueue: `SELECT source_id FROM ${t('reembed_queue')} WHERE namespace = ${p(1)}
      ORDER BY priority DESC, seq LIMIT ${p(2)}`,
    ack: `DELETE FROM ${t('reembed_queue')} WHERE namespace = ${p(1)} AND ${d.inList('source_id', 2)}`,
    queueSize: count('reembed_queue'),
    purgeLeases: `DELETE FROM ${t('job_leases')}
      WHERE job_id IN (SELECT id FROM ${t('jobs')} WHERE ${d.inList('namespace', 1)})`,
    purge: ['jobs', 'dead_letters', 'reembed_queue'].map(
      (table) => `DELETE FROM ${t(table)} WHERE ${d.inList('namespace', 1)}`,
    ),
    /** The distributed backfill's plans (PostgreSQL only; ranges go by cascade), when that queue was set up. */
    plansPresent: d.name === 'pg' ? 'SELECT to_regclass($1) IS NOT NULL AS present' : null,
    plansTable: t('queue_plans'),
    purgePlans: `DELETE FROM ${t('queue_plans')} WHERE ${d.inList('namespace', 1)}`,
    heartbeat: `INSERT INTO ${t('job_leases')} (job_id, owner, host, pid, started_at, heartbeat_at)
      VALUES (${d.params(6)})
      ON CONFLICT (job_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
        started_at = CASE WHEN job_leases.owner = excluded.owner THEN job_leases.started_at ELSE excluded.started_at END,
        owner = excluded.owner, host = excluded.host, pid = excluded.pid`,
    release: `DELETE FROM ${t('job_leases')} WHERE job_id = ${p(1)} AND owner = ${p(2)}`,
  };
}

/** The jobs component: job rows, dead letters, the priority queue and job leases. */
export const JOBS = sqlComponent('jobs', 1, jobsDdl, jobsSql);

interface JobRow {
  id: string;
  type: string;
  namespace: string;
  collection: string;
  migration_id: string | null;
  state: string;
  pass: number;
  processed: unknown;
  written: unknown;
  skipped: unknown;
  dead_lettered: unknown;
  retries: unknown;
  error: unknown;
  created_at: unknown;
  updated_at: unknown;
  finished_at: unknown;
  lease_owner: string | null;
  lease_host: string | null;
  lease_pid: number | null;
  lease_started_at: unknown;
  lease_heartbeat_at: unknown;
}

interface DeadLetterRow {
  namespace: string;
  source_id: string;
  source_version: unknown;
  job_id: string;
  code: string;
  reason: string;
  attempts: number;
  at: unknown;
}

/**
 * Background-job bookkeeping in a SQL backend (see `JobRepository`; one implementation over `SqlExecutor`
 * for SQLite and PostgreSQL). Each method is one statement where it can be (a backfill calls
 * `updateJob` and `saveCheckpoint` per batch): counter updates are increments in one statement, so any
 * number of worker processes may add to one job row.
 */
export class SqlJobRepository extends SqlRepository<ReturnType<typeof jobsSql>> implements JobRepository {
  /** Creates the tables if needed (idempotent) and returns the repository. */
  static async open(db: SqlExecutor, options: SqlRepositoryOptions = {}): Promise<SqlJobRepository> {
    return new SqlJobRepository(await JOBS.install(db), JOBS, options);
  }

  async ensureJob(input: NewJob): Promise<Job> {
    const now = this.now();
    await this.db.run('create a job', this.sql.insertJob, [
      input.id,
      input.type,
      input.namespace,
      input.collection,
      input.migrationId ?? null,
      now,
      now,
    ]);
    return fromRow((await this.#row(input.id)) as JobRow);
  }

  async getJob(id: string): Promise<Job | null> {
    const row = await this.#row(id);
    return row ? fromRow(row) : null;
  }

  async listJobs(filter: { namespace?: string; migrationId?: string } = {}): Promise<Job[]> {
    const found = await this.db.all<JobRow>(
      'list jobs',
      this.sql.listJobs,
      optionalParams(filter.namespace ?? null, filter.migrationId ?? null),
    );
    return found.map(fromRow);
  }

  async updateJob(id: string, patch: JobPatch): Promise<Job> {
    const add = patch.add ?? {};
    const now = this.now();
    const state = patch.state ?? null;
    const found = await this.db.all<JobRow>('update a job', this.sql.updateJob, [
      state,
      patch.pass ?? null,
      add.processed ?? 0,
      add.written ?? 0,
      add.skipped ?? 0,
      add.deadLettered ?? 0,
      add.retries ?? 0,
      patch.error === undefined ? 0 : 1,
      patch.error ? JSON.stringify(patch.error) : null,
      now,
      state,
      now,
      id,
    ]);
    const row = found[0];
    if (!row) throw new ReembedError('NOT_FOUND', `Unknown job "${id}".`, { details: { job: id } });
    return fromRow(row);
  }

  async checkpoint(jobId: string): Promise<Checkpoint | null> {
    const [row] = await this.db.all<{
      job_id: string;
      cursor: string;
      processed: unknown;
      updated_at: unknown;
    }>('read a checkpoint', this.sql.checkpoint, [jobId]);
    return row
      ? Object.freeze({
          jobId: row.job_id,
          cursor: row.cursor,
          processed: Number(row.processed),
          updatedAt: iso(row.updated_at),
        })
      : null;
  }

  /** The statement the vector store runs inside a batch's transaction, run on its own. */
  async saveCheckpoint(namespace: string, checkpoint: CheckpointWrite): Promise<void> {
    await this.db.run('save a checkpoint', this.sql.saveCheckpoint, [
      checkpoint.jobId,
      namespace,
      checkpoint.cursor,
      checkpoint.processed,
      this.now(),
    ]);
  }

  async addDeadLetters(entries: readonly Omit<DeadLetter, 'at'>[]): Promise<void> {
    if (entries.length === 0) return;
    // A statement cannot upsert one key twice: fold repeats (later entries win, attempts add up).
    const byKey = new Map<string, Omit<DeadLetter, 'at'>>();
    for (const e of entries) {
      const key = `${e.namespace}\u0000${e.sourceId}`;
      const held = byKey.get(key);
      byKey.set(key, { ...e, attempts: Math.max(1, e.attempts) + (held?.attempts ?? 0) });
    }
    const at = this.now();
    const values = [...byKey.values()].map((e) => [
      e.namespace,
      e.sourceId,
      e.sourceVersion,
      e.jobId,
      e.code,
      e.reason,
      e.attempts,
      at,
    ]);
    await this.bulkWrite('record dead letters', ({ d, sql }) =>
      insertRows(d, 'dead_letters', DEAD_LETTER_COLUMNS, values, sql.deadLettersOnConflict),
    );
  }

  async listDeadLetters(
    namespace: string,
    options: { limit?: number; afterSourceId?: string } = {},
  ): Promise<DeadLetter[]> {
    const found = await this.db.all<DeadLetterRow>('list dead letters', this.sql.listDeadLetters, [
      namespace,
      options.afterSourceId ?? '',
      options.limit ?? this.db.dialect.noLimit,
    ]);
    return found.map((r) =>
      Object.freeze({
        namespace: r.namespace,
        sourceId: r.source_id,
        sourceVersion: Number(r.source_version),
        jobId: r.job_id,
        code: r.code as DeadLetter['code'],
        reason: r.reason,
        attempts: r.attempts,
        at: iso(r.at),
      }),
    );
  }

  async countDeadLetters(namespace: string): Promise<number> {
    return this.#count('count dead letters', this.sql.countDeadLetters, namespace);
  }

  async clearDeadLetters(namespace: string, sourceIds: readonly string[]): Promise<number> {
    if (sourceIds.length === 0) return 0;
    const list = this.db.dialect.list(sourceIds);
    return this.db.run('clear dead letters', this.sql.clearDeadLetters, [namespace, list]);
  }

  async enqueue(namespace: string, sourceIds: readonly string[], priority = 0): Promise<void> {
    if (sourceIds.length === 0) return;
    const ids = this.db.dialect.list([...new Set(sourceIds)]);
    await this.db.run('queue sources', this.sql.enqueue, [namespace, priority, ids]);
  }

  async peekQueue(namespace: string, limit: number): Promise<string[]> {
    const found = await this.db.all<{ source_id: string }>('read the queue', this.sql.peekQueue, [
      namespace,
      limit,
    ]);
    return found.map((r) => r.source_id);
  }

  async ack(namespace: string, sourceIds: readonly string[]): Promise<void> {
    if (sourceIds.length === 0) return;
    const list = this.db.dialect.list(sourceIds);
    await this.db.run('acknowledge queued sources', this.sql.ack, [namespace, list]);
  }

  async queueSize(namespace: string): Promise<number> {
    return this.#count('count the queue', this.sql.queueSize, namespace);
  }

  /** Also the distributed backfill's plans (and, by cascade, ranges) of these namespaces, when planned. */
  async purge(namespaces: readonly string[]): Promise<void> {
    if (namespaces.length === 0) return;
    const list = this.db.dialect.list(namespaces);
    await this.transaction('purge jobs', function* ({ sql }) {
      yield* exec(sql.purgeLeases, [list]);
      for (const statement of sql.purge) yield* exec(statement, [list]);
      if (!sql.plansPresent) return;
      const [plans] = yield* rows<{ present: boolean }>(sql.plansPresent, [sql.plansTable]);
      if (plans?.present) yield* exec(sql.purgePlans, [list]);
    });
  }

  async heartbeat(jobId: string, runner: Pick<JobRunner, 'owner' | 'host' | 'pid'>): Promise<void> {
    const now = this.now();
    await this.db.run('record a job heartbeat', this.sql.heartbeat, [
      jobId,
      runner.owner,
      runner.host,
      runner.pid,
      now,
      now,
    ]);
  }

  async release(jobId: string, owner: string): Promise<void> {
    await this.db.run('release a job', this.sql.release, [jobId, owner]);
  }

  async #count(what: string, text: string, namespace: string): Promise<number> {
    const [row] = await this.db.all<{ n: unknown }>(what, text, [namespace]);
    return Number(row?.n ?? 0);
  }

  async #row(id: string): Promise<JobRow | undefined> {
    return (await this.db.all<JobRow>('read a job', this.sql.job, [id]))[0];
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
      processed: Number(row.processed),
      written: Number(row.written),
      skipped: Number(row.skipped),
      deadLettered: Number(row.dead_lettered),
      retries: Number(row.retries),
    }),
    error:
      row.error === null || row.error === undefined
        ? null
        : jsonValue<{ code: string; message: string }>(row.error),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    finishedAt: isoOrNull(row.finished_at),
    runner:
      row.lease_owner === null || row.lease_owner === undefined
        ? null
        : Object.freeze({
            owner: row.lease_owner,
            host: row.lease_host as string,
            pid: row.lease_pid as number,
            startedAt: iso(row.lease_started_at),
            heartbeatAt: iso(row.lease_heartbeat_at),
          }),
  });
}
