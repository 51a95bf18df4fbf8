import { ReembedError } from '../../core/errors.js';
import { type Clock, systemClock } from '../../ports/clock.js';
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
import { applyComponentSchema } from './migrations.js';
import { iso, isoOrNull, num, type PgPoolLike, run, withTransaction } from './pool.js';
import { ident, literal, qualified } from './sql.js';
import { selectCheckpointSql, upsertCheckpointSql } from './sql-records.js';

export const JOBS_COMPONENT = 'jobs';
export const JOBS_SCHEMA_VERSION = 1;

const list = (values: readonly string[]): string => values.map(literal).join(', ');

/**
 * Job rows, dead letters and the priority queue, the same shape as the embedded backend's. Checkpoints
 * live in the base `checkpoints` table, which the vector store writes in the transaction of a batch.
 * Source ids use `COLLATE "C"` so listings page in the same byte order as the sources and heads.
 */
export function pgJobsDdl(schema: string): string[] {
  const t = (name: string): string => qualified(schema, name);
  return [
    `CREATE TABLE IF NOT EXISTS ${t('jobs')} (
      id text PRIMARY KEY,
      type text NOT NULL CHECK (type IN (${list(JOB_TYPES)})),
      namespace text NOT NULL,
      collection text NOT NULL,
      migration_id text,
      state text NOT NULL CHECK (state IN (${list(JOB_STATES)})),
      pass integer NOT NULL DEFAULT 0 CHECK (pass >= 0),
      processed bigint NOT NULL DEFAULT 0,
      written bigint NOT NULL DEFAULT 0,
      skipped bigint NOT NULL DEFAULT 0,
      dead_lettered bigint NOT NULL DEFAULT 0,
      retries bigint NOT NULL DEFAULT 0,
      error jsonb,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      finished_at timestamptz
    )`,
    `CREATE INDEX IF NOT EXISTS jobs_by_namespace ON ${t('jobs')} (namespace)`,
    `CREATE TABLE IF NOT EXISTS ${t('dead_letters')} (
      namespace text NOT NULL,
      source_id text COLLATE "C" NOT NULL,
      source_version bigint NOT NULL,
      job_id text NOT NULL,
      code text NOT NULL,
      reason text NOT NULL,
      attempts integer NOT NULL CHECK (attempts >= 1),
      at timestamptz NOT NULL,
      PRIMARY KEY (namespace, source_id)
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('reembed_queue')} (
      namespace text NOT NULL,
      source_id text COLLATE "C" NOT NULL,
      priority integer NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      PRIMARY KEY (namespace, source_id)
    )`,
    `CREATE INDEX IF NOT EXISTS reembed_queue_order ON ${t('reembed_queue')} (namespace, priority DESC, seq)`,
    // Who runs a job (heartbeat): a table of its own, so schemas made before it gain it unchanged.
    `CREATE TABLE IF NOT EXISTS ${t('job_leases')} (
      job_id text PRIMARY KEY,
      owner text NOT NULL,
      host text NOT NULL,
      pid integer NOT NULL,
      started_at timestamptz NOT NULL,
      heartbeat_at timestamptz NOT NULL
    )`,
  ];
}

const LEASE_COLUMNS = `l.owner AS lease_owner, l.host AS lease_host, l.pid AS lease_pid,
  l.started_at AS lease_started_at, l.heartbeat_at AS lease_heartbeat_at`;

interface JobRow {
  id: string;
  type: string;
  namespace: string;
  collection: string;
  migration_id: string | null;
  state: string;
  pass: number;
  processed: string;
  written: string;
  skipped: string;
  dead_lettered: string;
  retries: string;
  error: { code: string; message: string } | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  lease_owner: string | null;
  lease_host: string | null;
  lease_pid: number | null;
  lease_started_at: Date | null;
  lease_heartbeat_at: Date | null;
}

interface DeadLetterRow {
  namespace: string;
  source_id: string;
  source_version: string;
  job_id: string;
  code: string;
  reason: string;
  attempts: number;
  at: Date;
}

/**
 * Background-job bookkeeping in PostgreSQL (see `JobRepository`). Counter updates are increments in one
 * statement (`processed = processed + $n`), so any number of worker processes may add to one job row.
 */
export class PgJobRepository implements JobRepository {
  readonly #pool: PgPoolLike;
  readonly #schema: string;
  readonly #clock: Clock;

  private constructor(pool: PgPoolLike, schema: string, clock: Clock) {
    this.#pool = pool;
    this.#schema = schema;
    this.#clock = clock;
  }

  /** Creates the tables if needed (idempotent) and returns the repository. */
  static async open(pool: PgPoolLike, options: { schema: string; clock?: Clock }): Promise<PgJobRepository> {
    ident(options.schema);
    await applyComponentSchema(
      pool,
      options.schema,
      JOBS_COMPONENT,
      JOBS_SCHEMA_VERSION,
      pgJobsDdl(options.schema),
    );
    return new PgJobRepository(pool, options.schema, options.clock ?? systemClock);
  }

  async ensureJob(input: NewJob): Promise<Job> {
    const now = this.#now();
    await run(
      this.#pool,
      'create a job',
      `INSERT INTO ${this.#t('jobs')} (id, type, namespace, collection, migration_id, state, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) ON CONFLICT (id) DO NOTHING`,
      [input.id, input.type, input.namespace, input.collection, input.migrationId ?? null, now],
    );
    return fromRow((await this.#row(input.id)) as JobRow);
  }

  async getJob(id: string): Promise<Job | null> {
    const row = await this.#row(id);
    return row ? fromRow(row) : null;
  }

  async listJobs(filter: { namespace?: string; migrationId?: string } = {}): Promise<Job[]> {
    const rows = await run<JobRow>(
      this.#pool,
      'list jobs',
      `SELECT j.*, ${LEASE_COLUMNS} FROM ${this.#t('jobs')} j LEFT JOIN ${this.#t('job_leases')} l ON l.job_id = j.id
       WHERE ($1::text IS NULL OR j.namespace = $1) AND ($2::text IS NULL OR j.migration_id = $2)
       ORDER BY j.created_at, j.id`,
      [filter.namespace ?? null, filter.migrationId ?? null],
    );
    return rows.map(fromRow);
  }

  /** One UPDATE: counters are added under the row lock, so concurrent workers never lose an increment. */
  async updateJob(id: string, patch: JobPatch): Promise<Job> {
    const add = patch.add ?? {};
    const rows = await run<JobRow>(
      this.#pool,
      'update a job',
      `WITH u AS (UPDATE ${this.#t('jobs')} SET
         state = coalesce($2, state),
         pass = coalesce($3, pass),
         processed = processed + $4, written = written + $5, skipped = skipped + $6,
         dead_lettered = dead_lettered + $7, retries = retries + $8,
         error = CASE WHEN $9 THEN $10::jsonb ELSE error END,
         updated_at = $11,
         finished_at = CASE coalesce($2, state) WHEN 'done' THEN $11::timestamptz
           WHEN 'running' THEN NULL WHEN 'pending' THEN NULL ELSE finished_at END
       WHERE id = $1 RETURNING *)
       SELECT u.*, ${LEASE_COLUMNS} FROM u LEFT JOIN ${this.#t('job_leases')} l ON l.job_id = u.id`,
      [
        id,
        patch.state ?? null,
        patch.pass ?? null,
        add.processed ?? 0,
        add.written ?? 0,
        add.skipped ?? 0,
        add.deadLettered ?? 0,
        add.retries ?? 0,
        patch.error !== undefined,
        patch.error ? JSON.stringify(patch.error) : null,
        this.#now(),
      ],
    );
    const row = rows[0];
    if (!row) throw new ReembedError('NOT_FOUND', `Unknown job "${id}".`, { details: { job: id } });
    return fromRow(row);
  }

  async checkpoint(jobId: string): Promise<Checkpoint | null> {
    const rows = await run<{ job_id: string; cursor: string; processed: string; updated_at: Date }>(
      this.#pool,
      'read a checkpoint',
      selectCheckpointSql(this.#schema),
      [jobId],
    );
    const row = rows[0];
    return row
      ? Object.freeze({
          jobId: row.job_id,
          cursor: row.cursor,
          processed: num(row.processed),
          updatedAt: iso(row.updated_at),
        })
      : null;
  }

  /** The statement the vector store runs inside a batch's transaction, run on its own. */
  async saveCheckpoint(namespace: string, checkpoint: CheckpointWrite): Promise<void> {
    await run(this.#pool, 'save a checkpoint', upsertCheckpointSql(this.#schema), [
      checkpoint.jobId,
      namespace,
      checkpoint.cursor,
      checkpoint.processed,
      this.#now(),
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
    const folded = [...byKey.values()];
    const col = <K extends keyof Omit<DeadLetter, 'at'>>(k: K) => folded.map((e) => e[k]);
    await run(
      this.#pool,
      'record dead letters',
      `INSERT INTO ${this.#t('dead_letters')} AS d (namespace, source_id, source_version, job_id, code, reason, attempts, at)
       SELECT u.*, $8::timestamptz FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
         $7::int[]) AS u
       ON CONFLICT (namespace, source_id) DO UPDATE SET source_version = EXCLUDED.source_version,
         job_id = EXCLUDED.job_id, code = EXCLUDED.code, reason = EXCLUDED.reason,
         attempts = d.attempts + EXCLUDED.attempts, at = EXCLUDED.at`,
      [
        col('namespace'),
        col('sourceId'),
        col('sourceVersion'),
        col('jobId'),
        col('code'),
        col('reason'),
        col('attempts'),
        this.#now(),
      ],
    );
  }

  async listDeadLetters(
    namespace: string,
    options: { limit?: number; afterSourceId?: string } = {},
  ): Promise<DeadLetter[]> {
    const rows = await run<DeadLetterRow>(
      this.#pool,
      'list dead letters',
      `SELECT * FROM ${this.#t('dead_letters')} WHERE namespace = $1 AND source_id > $2 ORDER BY source_id LIMIT $3`,
      [namespace, options.afterSourceId ?? '', options.limit ?? null],
    );
    return rows.map((r) =>
      Object.freeze({
        namespace: r.namespace,
        sourceId: r.source_id,
        sourceVersion: num(r.source_version),
        jobId: r.job_id,
        code: r.code as DeadLetter['code'],
        reason: r.reason,
        attempts: r.attempts,
        at: iso(r.at),
      }),
    );
  }

  async countDeadLetters(namespace: string): Promise<number> {
    return this.#count('count dead letters', 'dead_letters', namespace);
  }

  async clearDeadLetters(namespace: string, sourceIds: readonly string[]): Promise<number> {
    if (sourceIds.length === 0) return 0;
    const rows = await run(
      this.#pool,
      'clear dead letters',
      `DELETE FROM ${this.#t('dead_letters')} WHERE namespace = $1 AND source_id = ANY($2::text[]) RETURNING 1`,
      [namespace, [...sourceIds]],
    );
    return rows.length;
  }

  async enqueue(namespace: string, sourceIds: readonly string[], priority = 0): Promise<void> {
    if (sourceIds.length === 0) return;
    const ids = [...new Set(sourceIds)];
    // Rows are inserted in input order, so the identity column keeps "oldest first" within one call.
    await run(
      this.#pool,
      'queue sources',
      `INSERT INTO ${this.#t('reembed_queue')} AS q (namespace, source_id, priority)
       SELECT $1, u.id, $3 FROM unnest($2::text[]) WITH ORDINALITY AS u(id, n) ORDER BY u.n
       ON CONFLICT (namespace, source_id) DO UPDATE SET priority = greatest(q.priority, EXCLUDED.priority)`,
      [namespace, ids, priority],
    );
  }

  async peekQueue(namespace: string, limit: number): Promise<string[]> {
    const rows = await run<{ source_id: string }>(
      this.#pool,
      'read the queue',
      `SELECT source_id FROM ${this.#t('reembed_queue')} WHERE namespace = $1 ORDER BY priority DESC, seq LIMIT $2`,
      [namespace, limit],
    );
    return rows.map((r) => r.source_id);
  }

  async ack(namespace: string, sourceIds: readonly string[]): Promise<void> {
    if (sourceIds.length === 0) return;
    await run(
      this.#pool,
      'acknowledge queued sources',
      `DELETE FROM ${this.#t('reembed_queue')} WHERE namespace = $1 AND source_id = ANY($2::text[])`,
      [namespace, [...sourceIds]],
    );
  }

  async queueSize(namespace: string): Promise<number> {
    return this.#count('count the queue', 'reembed_queue', namespace);
  }

  /** Also the distributed backfill's plans (and, by cascade, ranges) of these namespaces, when planned. */
  async purge(namespaces: readonly string[]): Promise<void> {
    if (namespaces.length === 0) return;
    await withTransaction(this.#pool, 'purge jobs', async (tx) => {
      await tx.query(
        `DELETE FROM ${this.#t('job_leases')} WHERE job_id IN (SELECT id FROM ${this.#t('jobs')} WHERE namespace = ANY($1::text[]))`,
        [namespaces],
      );
      for (const table of ['jobs', 'dead_letters', 'reembed_queue'])
        await tx.query(`DELETE FROM ${this.#t(table)} WHERE namespace = ANY($1::text[])`, [namespaces]);
      const plans = await tx.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
        this.#t('queue_plans'),
      ]);
      if (plans.rows[0]?.present)
        await tx.query(`DELETE FROM ${this.#t('queue_plans')} WHERE namespace = ANY($1::text[])`, [
          namespaces,
        ]);
    });
  }

  async #count(what: string, table: string, namespace: string): Promise<number> {
    const rows = await run<{ n: string }>(
      this.#pool,
      what,
      `SELECT count(*) AS n FROM ${this.#t(table)} WHERE namespace = $1`,
      [namespace],
    );
    return num(rows[0]?.n ?? 0);
  }

  async heartbeat(jobId: string, runner: Pick<JobRunner, 'owner' | 'host' | 'pid'>): Promise<void> {
    const leases = this.#t('job_leases');
    await run(
      this.#pool,
      'record a job heartbeat',
      `INSERT INTO ${leases} (job_id, owner, host, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (job_id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at,
         started_at = CASE WHEN ${leases}.owner = EXCLUDED.owner THEN ${leases}.started_at ELSE EXCLUDED.started_at END,
         owner = EXCLUDED.owner, host = EXCLUDED.host, pid = EXCLUDED.pid`,
      [jobId, runner.owner, runner.host, runner.pid, this.#now()],
    );
  }

  async release(jobId: string, owner: string): Promise<void> {
    await run(
      this.#pool,
      'release a job',
      `DELETE FROM ${this.#t('job_leases')} WHERE job_id = $1 AND owner = $2`,
      [jobId, owner],
    );
  }

  async #row(id: string): Promise<JobRow | undefined> {
    return (
      await run<JobRow>(
        this.#pool,
        'read a job',
        `SELECT j.*, ${LEASE_COLUMNS} FROM ${this.#t('jobs')} j LEFT JOIN ${this.#t('job_leases')} l ON l.job_id = j.id
         WHERE j.id = $1`,
        [id],
      )
    )[0];
  }

  #t(table: string): string {
    return qualified(this.#schema, table);
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
      processed: num(row.processed),
      written: num(row.written),
      skipped: num(row.skipped),
      deadLettered: num(row.dead_lettered),
      retries: num(row.retries),
    }),
    error: row.error,
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
            startedAt: iso(row.lease_started_at as Date),
            heartbeatAt: iso(row.lease_heartbeat_at as Date),
          }),
  });
}
