/**
 * Distributed backfill on PostgreSQL: a coordinator splits a namespace's backfill into key ranges of
 * source ids and enqueues one graphile-worker job per range; `reembed worker` processes anywhere take
 * ranges, embed under per-worker and global (shared through Postgres) rate limits, and write with the
 * versioned store write, committing each range's checkpoint with its batches. See `graphile.ts` for why
 * graphile-worker, `lease.ts` for how a dead worker's ranges move to the living.
 */
export { isDatabaseFailure, retryDatabase } from './db-retry.js';
export {
  bucketNames,
  configureBuckets,
  LearnedPgLimiter,
  type Limiter,
  PgRateBucket,
  PgRateLimiter,
} from './global-rate.js';
export { ensureQueueSchema, RANGE_TASK } from './graphile.js';
export { WorkerLease } from './lease.js';
export { rateLimitedEmbedder } from './limited-embedder.js';
export {
  type DistributedPlanOptions,
  type DistributedPlanReport,
  planDistributedBackfill,
  planIdOf,
} from './plan.js';
export {
  type DistributedStatus,
  distributedStatus,
  type PlanProgress,
  type WorkerInfo,
  waitForPlan,
} from './progress.js';
export { processRange, type RangeOutcome } from './range.js';
export { makeRangeTask } from './range-task.js';
export { RANGE_DONE, rangeKey, workerSchemaOf } from './sql.js';
export {
  BackfillWorker,
  type BackfillWorkerOptions,
  type WorkerReport,
  type WorkerStopReason,
} from './worker.js';
