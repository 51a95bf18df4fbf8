import { ReembedError } from '../core/errors.js';
import { ident, qualified } from '../stores/pg/sql.js';

/**
 * Pure SQL of the distributed backfill (STYLE #6): plans, key ranges, worker leases and shared rate
 * buckets, each statement a printable string. Values are bind parameters; identifiers are validated.
 */

export const QUEUE_COMPONENT = 'queue';
export const QUEUE_SCHEMA_VERSION = 1;

/** The cursor a range's checkpoint holds once its last batch committed. */
export const RANGE_DONE = 'done';

/** graphile-worker's own schema next to reembed's: `<schema>_worker` (e.g. `reembed_worker`). */
export function workerSchemaOf(schema: string): string {
  const name = `${schema}_worker`;
  if (name.length > 63) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Schema "${schema}" is too long for its job-queue schema "${name}" (63 bytes max).`,
      {
        details: { schema },
      },
    );
  }
  ident(name);
  return name;
}

/** Checkpoint id and graphile job key of one range: re-planning the same range yields the same key. */
export function rangeKey(planId: string, generation: number, rangeNo: number): string {
  return `${planId}#g${generation}#r${rangeNo}`;
}

export function queueDdl(schema: string): string[] {
  const t = (name: string): string => qualified(schema, name);
  return [
    `CREATE TABLE IF NOT EXISTS ${t('queue_plans')} (
      id text PRIMARY KEY,
      namespace text NOT NULL,
      collection text NOT NULL,
      migration_id text,
      generation integer NOT NULL CHECK (generation >= 1),
      range_size integer NOT NULL CHECK (range_size >= 1),
      high_water text COLLATE "C" NOT NULL DEFAULT '',
      next_range integer NOT NULL DEFAULT 0,
      settings jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    )`,
    // (after_id, last_id] in byte order: the same keyset order as the sources table (COLLATE "C").
    `CREATE TABLE IF NOT EXISTS ${t('queue_ranges')} (
      plan_id text NOT NULL REFERENCES ${t('queue_plans')}(id) ON DELETE CASCADE,
      generation integer NOT NULL,
      range_no integer NOT NULL CHECK (range_no >= 0),
      key text NOT NULL UNIQUE,
      after_id text COLLATE "C" NOT NULL,
      last_id text COLLATE "C" NOT NULL CHECK (last_id > after_id),
      sources integer NOT NULL CHECK (sources >= 1),
      attempts integer NOT NULL DEFAULT 0,
      worker text,
      done_at timestamptz,
      processed bigint NOT NULL DEFAULT 0,
      written bigint NOT NULL DEFAULT 0,
      skipped bigint NOT NULL DEFAULT 0,
      dead_lettered bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (plan_id, generation, range_no)
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('queue_workers')} (
      id text PRIMARY KEY,
      host text NOT NULL,
      pid integer NOT NULL,
      lease_ms integer NOT NULL CHECK (lease_ms > 0),
      started_at timestamptz NOT NULL DEFAULT now(),
      heartbeat_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('queue_rate_buckets')} (
      name text PRIMARY KEY,
      per_minute double precision NOT NULL CHECK (per_minute > 0),
      capacity double precision NOT NULL CHECK (capacity > 0),
      level double precision NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`,
  ];
}

/** The plan row under FOR UPDATE: coordinators of one plan run one at a time. $1 plan id. */
export function lockPlanSql(schema: string): string {
  return `SELECT * FROM ${qualified(schema, 'queue_plans')} WHERE id = $1 FOR UPDATE`;
}

/** $1 id, $2 namespace, $3 collection, $4 migration, $5 range size, $6 settings. */
export function insertPlanSql(schema: string): string {
  return `INSERT INTO ${qualified(schema, 'queue_plans')} (id, namespace, collection, migration_id, generation, range_size, settings)
VALUES ($1, $2, $3, $4, 1, $5, $6) ON CONFLICT (id) DO NOTHING`;
}

/** A fresh pass: new generation, ranges start again from the first source. $1 id, $2 range size, $3 settings. */
export function renewPlanSql(schema: string): string {
  return `UPDATE ${qualified(schema, 'queue_plans')} SET generation = generation + 1, high_water = '', next_range = 0,
  range_size = $2, settings = $3, finished_at = NULL, updated_at = now() WHERE id = $1 RETURNING *`;
}

/** $1 id, $2 high water, $3 next range, $4 settings. */
export function advancePlanSql(schema: string): string {
  return `UPDATE ${qualified(schema, 'queue_plans')} SET high_water = $2, next_range = $3, settings = $4,
  finished_at = CASE WHEN $3 > next_range THEN NULL ELSE finished_at END, updated_at = now() WHERE id = $1`;
}

/**
 * The next range boundary after $2: the id `range_size` sources further (an index-only jump on the
 * sources' primary key), or the last id and the count when fewer remain. $1 collection, $2 after, $3 size.
 */
export function nextBoundarySql(schema: string): string {
  return `SELECT max(id) AS last_id, count(*)::int AS n FROM (
  SELECT id FROM ${qualified(schema, 'sources')} WHERE collection = $1 AND id > $2 ORDER BY id LIMIT $3
) page`;
}

/** $1 plan, $2 generation, $3 range numbers, $4 keys, $5 after ids, $6 last ids, $7 counts. */
export function insertRangesSql(schema: string): string {
  return `INSERT INTO ${qualified(schema, 'queue_ranges')} (plan_id, generation, range_no, key, after_id, last_id, sources)
SELECT $1, $2, u.* FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::int[]) AS u
ON CONFLICT DO NOTHING`;
}

/**
 * Ranges of the plan's generation whose checkpoint is not `done`, skipping those a live job holds
 * (re-adding a locked job would start a second copy). $1 plan id.
 */
export function pendingRangesSql(schema: string): string {
  const gw = qualified(workerSchemaOf(schema), 'jobs');
  return `SELECT r.range_no, r.key FROM ${qualified(schema, 'queue_ranges')} r
JOIN ${qualified(schema, 'queue_plans')} p ON p.id = r.plan_id AND p.generation = r.generation
LEFT JOIN ${qualified(schema, 'checkpoints')} c ON c.job_id = r.key
WHERE r.plan_id = $1 AND c.cursor IS DISTINCT FROM '${RANGE_DONE}'
  AND NOT EXISTS (SELECT 1 FROM ${gw} j WHERE j.key = r.key AND j.locked_at IS NOT NULL)
ORDER BY r.range_no`;
}

/**
 * A delivered range, read and claimed in one statement: the range with its plan, the checkpoint it
 * saved (`saved_cursor`, `saved_processed`; NULL before the first batch) and whether its namespace has
 * dead letters. The claim (`attempts + 1`, `worker`) is taken only when the range is of the plan's
 * current generation and not done yet (a data-modifying CTE runs whether or not the query reads it; the
 * caller tells the cases apart from the generations and `saved_cursor`). $1 key, $2 worker.
 */
export function startRangeSql(schema: string): string {
  const t = (name: string): string => qualified(schema, name);
  return `WITH r AS (
  SELECT r.*, p.namespace, p.collection, p.migration_id, p.settings, p.generation AS current_generation,
    c.cursor AS saved_cursor, c.processed AS saved_processed,
    EXISTS (SELECT FROM ${t('dead_letters')} d WHERE d.namespace = p.namespace) AS dead_letters
  FROM ${t('queue_ranges')} r JOIN ${t('queue_plans')} p ON p.id = r.plan_id
    LEFT JOIN ${t('checkpoints')} c ON c.job_id = r.key
  WHERE r.key = $1
),
claim AS (
  UPDATE ${t('queue_ranges')} q SET attempts = q.attempts + 1, worker = $2 FROM r
  WHERE q.key = r.key AND r.generation = r.current_generation AND r.saved_cursor IS DISTINCT FROM '${RANGE_DONE}'
  RETURNING 1
)
SELECT r.* FROM r`;
}

/**
 * A finished range: its statistics (its completion itself is the checkpoint committed with its last
 * batch), then the plan marked finished if no range of its generation lacks a `done` checkpoint — one
 * statement; `plan_finished` is true for the one caller that flipped the plan.
 * $1 key, $2-$5 counters (processed, written, skipped, dead-lettered), $6 plan id.
 */
export function finishRangeSql(schema: string): string {
  return `WITH stats AS (
  UPDATE ${qualified(schema, 'queue_ranges')} SET done_at = coalesce(done_at, now()),
    processed = $2, written = $3, skipped = $4, dead_lettered = $5 WHERE key = $1
  RETURNING 1
),
finished AS (
  ${finishPlanSql(schema, '$6')}
)
SELECT EXISTS (SELECT FROM finished) AS plan_finished, (SELECT count(*) FROM stats)::int AS ranges`;
}

/**
 * Marks the plan finished once no range of its generation lacks a `done` checkpoint; returns the row
 * only to the one caller that flipped it. `planParam` (default $1): the plan id.
 */
export function finishPlanSql(schema: string, planParam = '$1'): string {
  return `UPDATE ${qualified(schema, 'queue_plans')} p SET finished_at = now(), updated_at = now()
WHERE p.id = ${planParam} AND p.finished_at IS NULL AND NOT EXISTS (
  SELECT 1 FROM ${qualified(schema, 'queue_ranges')} r LEFT JOIN ${qualified(schema, 'checkpoints')} c ON c.job_id = r.key
  WHERE r.plan_id = p.id AND r.generation = p.generation AND c.cursor IS DISTINCT FROM '${RANGE_DONE}'
) RETURNING p.id`;
}

/** Global progress of every plan (or one, $1), from the range table and the checkpoints. */
export function progressSql(schema: string): string {
  return `SELECT p.id, p.namespace, p.collection, p.migration_id, p.generation, p.range_size, p.created_at, p.finished_at,
  count(r.key)::int AS ranges,
  (count(r.key) FILTER (WHERE c.cursor = '${RANGE_DONE}'))::int AS ranges_done,
  coalesce(sum(r.sources), 0)::bigint AS sources,
  coalesce(sum(CASE WHEN c.cursor = '${RANGE_DONE}' THEN r.sources ELSE coalesce(c.processed, 0) END), 0)::bigint AS sources_done
FROM ${qualified(schema, 'queue_plans')} p
LEFT JOIN ${qualified(schema, 'queue_ranges')} r ON r.plan_id = p.id AND r.generation = p.generation
LEFT JOIN ${qualified(schema, 'checkpoints')} c ON c.job_id = r.key
WHERE $1::text IS NULL OR p.id = $1 OR p.namespace = $1
GROUP BY p.id ORDER BY p.created_at, p.id`;
}

/** Ranges not done in unfinished plans, and how many of them still have a runnable job. */
export function outstandingSql(schema: string, taskIdentifier: string): string {
  const gw = qualified(workerSchemaOf(schema), 'jobs');
  return `SELECT count(*)::int AS pending,
  (count(*) FILTER (WHERE EXISTS (
    SELECT 1 FROM ${gw} j WHERE j.key = r.key AND j.task_identifier = '${taskIdentifier.replace(/'/g, "''")}'
      AND (j.locked_at IS NOT NULL OR j.attempts < j.max_attempts))))::int AS runnable
FROM ${qualified(schema, 'queue_ranges')} r
JOIN ${qualified(schema, 'queue_plans')} p ON p.id = r.plan_id AND p.generation = r.generation
LEFT JOIN ${qualified(schema, 'checkpoints')} c ON c.job_id = r.key
WHERE c.cursor IS DISTINCT FROM '${RANGE_DONE}'`;
}

/** $1 id, $2 host, $3 pid, $4 lease ms. Database time, so clocks of worker machines do not matter. */
export function heartbeatSql(schema: string): string {
  return `INSERT INTO ${qualified(schema, 'queue_workers')} (id, host, pid, lease_ms) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = clock_timestamp(), lease_ms = EXCLUDED.lease_ms`;
}

/**
 * Lock owners to release: jobs locked longer than $1 ms whose owner has no live lease (its heartbeat is
 * older than its own lease, or it never registered). graphile-worker itself only frees locks after 4 hours.
 */
export function staleOwnersSql(schema: string): string {
  const gw = qualified(workerSchemaOf(schema), 'jobs');
  return `SELECT DISTINCT j.locked_by AS id FROM ${gw} j
WHERE j.locked_by IS NOT NULL AND j.locked_at < clock_timestamp() - $1 * interval '1 millisecond'
  AND NOT EXISTS (SELECT 1 FROM ${qualified(schema, 'queue_workers')} w
    WHERE w.id = j.locked_by AND w.heartbeat_at > clock_timestamp() - w.lease_ms * interval '1 millisecond')`;
}

/** $1 ids. */
export function forgetWorkersSql(schema: string): string {
  return `DELETE FROM ${qualified(schema, 'queue_workers')} WHERE id = ANY($1::text[])`;
}

/** Live workers with the age of their heartbeat. */
export function workersSql(schema: string): string {
  return `SELECT id, host, pid, lease_ms, started_at,
  (extract(epoch FROM clock_timestamp() - heartbeat_at) * 1000)::int AS heartbeat_age_ms
FROM ${qualified(schema, 'queue_workers')} ORDER BY started_at, id`;
}

/** Creates or re-rates a bucket (a full bucket holds one second of refill). $1 name, $2 per minute. */
export function upsertBucketSql(schema: string): string {
  return `INSERT INTO ${qualified(schema, 'queue_rate_buckets')} AS b (name, per_minute, capacity, level)
VALUES ($1, $2::float8, greatest(1, $2::float8 / 60), greatest(1, $2::float8 / 60))
ON CONFLICT (name) DO UPDATE SET per_minute = EXCLUDED.per_minute, capacity = EXCLUDED.capacity,
  level = least(b.level, EXCLUDED.capacity)`;
}

/** Like `upsertBucketSql` with the capacity given: $1 name, $2 per minute, $3 capacity. */
export function upsertSizedBucketSql(schema: string): string {
  return `INSERT INTO ${qualified(schema, 'queue_rate_buckets')} AS b (name, per_minute, capacity, level)
VALUES ($1, $2::float8, greatest(1, $3::float8), greatest(1, $3::float8))
ON CONFLICT (name) DO UPDATE SET per_minute = EXCLUDED.per_minute, capacity = EXCLUDED.capacity,
  level = least(b.level, EXCLUDED.capacity)`;
}

/** $1 name. */
export function deleteBucketSql(schema: string): string {
  return `DELETE FROM ${qualified(schema, 'queue_rate_buckets')} WHERE name = $1`;
}

/**
 * Takes $2 from bucket $1 atomically when the refilled level covers min($2, capacity); the level may go
 * negative (borrowing), so a request larger than the bucket still passes and later takers wait longer.
 * Returns no row when the caller must wait.
 */
export function takeBucketSql(schema: string): string {
  const refilled =
    'least(b.capacity, b.level + extract(epoch FROM n.t - b.updated_at) * b.per_minute / 60.0)';
  return `UPDATE ${qualified(schema, 'queue_rate_buckets')} b SET level = ${refilled} - $2::float8, updated_at = n.t
FROM (SELECT clock_timestamp() AS t) n
WHERE b.name = $1 AND ${refilled} >= least($2::float8, b.capacity) RETURNING b.level`;
}

/** The refilled level and rate of bucket $1, to compute how long to wait. */
export function peekBucketSql(schema: string): string {
  return `SELECT least(capacity, level + extract(epoch FROM clock_timestamp() - updated_at) * per_minute / 60.0) AS level,
  per_minute, capacity FROM ${qualified(schema, 'queue_rate_buckets')} WHERE name = $1`;
}
