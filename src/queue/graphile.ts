import { ReembedError } from '../core/errors.js';
import { importPeer } from '../platform/optional-peer.js';
import { applyComponentSchema } from '../stores/pg/component-schema.js';
import type { PgPoolLike } from '../stores/pg/pool.js';
import { QUEUE_COMPONENT, QUEUE_SCHEMA_VERSION, queueDdl, workerSchemaOf } from './sql.js';

/**
 * The job queue under the distributed backfill is graphile-worker 0.17, loaded lazily so that importing
 * reembed never loads it.
 *
 * Why graphile-worker rather than pg-boss 10: workers learn of new jobs through LISTEN/NOTIFY (a batch is
 * picked up within milliseconds, where pg-boss polls, by default every 2 s); jobs are taken with
 * `FOR UPDATE SKIP LOCKED`, so any number of worker processes on any number of machines share one queue
 * without contending; job keys (`jobKey` + `preserve_run_at`) make re-planning idempotent — re-adding a
 * queued range updates it in place; `addJobs` enqueues thousands of ranges in one statement; it runs on
 * the plain `pg` driver reembed already uses (no extra client), supports Node 20, and ships its own
 * versioned migrations into a schema of our choosing. pg-boss has one thing graphile-worker lacks — an
 * expiry for jobs held by a dead worker (graphile-worker frees such locks only after 4 hours) — and
 * `lease.ts` supplies it: workers heartbeat into a table and the survivors release the locks of a worker
 * whose lease lapsed (`forceUnlockWorkers`, graphile-worker's API for exactly this).
 */
export const RANGE_TASK = 'reembed_backfill_range';

/** The subset of graphile-worker's module reembed uses, typed structurally. */
export type GraphileWorker = typeof import('graphile-worker');
export type WorkerUtils = Awaited<ReturnType<GraphileWorker['makeWorkerUtils']>>;

let loaded: Promise<GraphileWorker> | null = null;

export function loadGraphileWorker(): Promise<GraphileWorker> {
  loaded ??= importPeer('graphile-worker', () => import('graphile-worker')).catch((error: unknown) => {
    loaded = null;
    throw error;
  });
  return loaded;
}

/** A graphile-worker logger that forwards warnings and errors to `sink` and drops the chatter. */
export async function quietLogger(
  sink: (level: string, message: string) => void,
): Promise<InstanceType<GraphileWorker['Logger']>> {
  const { Logger } = await loadGraphileWorker();
  return new Logger(() => (level, message) => {
    if (level === 'error' || level === 'warning') sink(level, message);
  });
}

/**
 * Creates reembed's queue tables and graphile-worker's schema (`<schema>_worker`), idempotently.
 * Every process that plans or works calls it; the advisory lock and graphile's own migration lock make
 * concurrent starts safe.
 */
export async function ensureQueueSchema(pool: PgPoolLike, url: string, schema: string): Promise<void> {
  await applyComponentSchema(pool, schema, QUEUE_COMPONENT, QUEUE_SCHEMA_VERSION, queueDdl(schema));
  const gw = await loadGraphileWorker();
  const logger = await quietLogger(() => undefined);
  try {
    await gw.runMigrations({ connectionString: url, schema: workerSchemaOf(schema), logger });
  } catch (error) {
    throw new ReembedError(
      'STORE_FAILED',
      `Could not prepare the job queue schema "${workerSchemaOf(schema)}": ${(error as Error).message}. Check that the database user may create schemas.`,
      { cause: error },
    );
  }
}

/** Worker utilities (addJobs, forceUnlockWorkers) on their own small pool; release them after use. */
export async function openWorkerUtils(url: string, schema: string): Promise<WorkerUtils> {
  const gw = await loadGraphileWorker();
  return gw.makeWorkerUtils({
    connectionString: url,
    schema: workerSchemaOf(schema),
    maxPoolSize: 2,
    logger: await quietLogger(() => undefined),
  });
}

export interface RangeJob {
  readonly key: string;
  readonly priority?: number;
}

/**
 * Enqueues one job per range, keyed by the range's key: a range already queued (not yet taken) is
 * updated in place with its run time kept, so planning twice never doubles the work.
 */
export async function addRangeJobs(
  utils: WorkerUtils,
  jobs: readonly RangeJob[],
  maxAttempts: number,
): Promise<number> {
  let added = 0;
  for (let i = 0; i < jobs.length; i += 1000) {
    const slice = jobs.slice(i, i + 1000);
    const rows = await utils.addJobs(
      slice.map((j) => ({
        identifier: RANGE_TASK,
        payload: { key: j.key },
        jobKey: j.key,
        maxAttempts,
        priority: j.priority ?? 0,
      })),
      true,
    );
    added += rows.length;
  }
  return added;
}
