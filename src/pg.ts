/**
 * `reembed/pg`: the PostgreSQL + pgvector backend and the distributed backfill on it.
 * Needs the optional peer dependencies `pg` (and `graphile-worker` for the distributed backfill); they
 * load on first use, and a missing one is a `DEPENDENCY_MISSING` error naming the `npm install` to run.
 *
 * @example
 * import { createLocalEmbedderFactory, Reembed } from 'reembed';
 * import { openPgBackend } from 'reembed/pg';
 * const backend = await openPgBackend({ url: process.env.REEMBED_PG_URL! });
 * const app = new Reembed(backend, createLocalEmbedderFactory());
 * // or simply openReembed({ pg: url }) from 'reembed', which opens this backend the same way
 */
export {
  type DistributedPlanOptions,
  type DistributedPlanReport,
  type DistributedStatus,
  distributedStatus,
  type PlanProgress,
  planDistributedBackfill,
  type WorkerInfo,
  waitForPlan,
} from './queue/index.js';
export {
  BackfillWorker,
  type BackfillWorkerOptions,
  type WorkerReport,
  type WorkerStopReason,
} from './queue/worker.js';
export { type OpenPgBackendOptions, openPgBackend, type PgBackend } from './stores/pg/backend.js';
export { PG_MAX_DIMENSION, type PgBackendOptions } from './stores/pg/config.js';
