import { ReembedError } from '../core/errors.js';
import type { BackfillSettings } from '../core/migration.js';
import { resolveSettings } from '../jobs/backfill.js';
import type { PgBackend } from '../stores/pg/backend.js';
import { num, run, withTransaction } from '../stores/pg/pool.js';
import { configureBuckets } from './global-rate.js';
import { addRangeJobs, ensureQueueSchema, openWorkerUtils } from './graphile.js';
import * as Q from './sql.js';

export interface DistributedPlanOptions {
  readonly namespace: string;
  readonly migrationId?: string | null;
  /** Sources per range (one queue job each). Default 500. */
  readonly rangeSize?: number;
  /**
   * Start a new generation: every source is planned again (a reconciliation pass after the namespace
   * fell behind). Without it, planning again only adds ranges for sources beyond the last planned id.
   */
  readonly fresh?: boolean;
  /**
   * Backfill settings the workers apply: `batchSize` and `maxBatchTokens` (sources and tokens per embedding
   * call), `maxRetries`, `timeoutMs`, and the GLOBAL `requestsPerMinute` / `tokensPerMinute` shared by all
   * workers.
   */
  readonly settings?: Partial<BackfillSettings>;
  /** Queue attempts per range before it is left failed (a re-plan revives it). Default 25. */
  readonly maxAttempts?: number;
}

export interface DistributedPlanReport {
  readonly kind: 'distributed-plan';
  readonly planId: string;
  readonly namespace: string;
  readonly generation: number;
  /** Ranges of this generation, and how many this call created. */
  readonly ranges: number;
  readonly created: number;
  /** Jobs added or refreshed in the queue (pending ranges no live worker holds). */
  readonly enqueued: number;
  readonly done: number;
  readonly sources: number;
  readonly settings: BackfillSettings;
}

/** One distributed plan per target namespace; its job row carries the aggregated counters. */
export function planIdOf(namespace: string): string {
  return `backfill:${namespace}:distributed`;
}

const MAX_RANGES_PER_INSERT = 500;

interface PlanRow {
  id: string;
  generation: number;
  range_size: number;
  high_water: string;
  next_range: number;
}

/**
 * The coordinator: splits a namespace's backfill into key ranges of source ids (a keyset walk over the
 * sources' primary key, `rangeSize` ids each) and enqueues one job per range keyed by the range, so any
 * number of `reembed worker` processes share the work. Idempotent: ranges are stored, planning again
 * extends them only past the last planned id, finished ranges (checkpoint `done`) are never enqueued
 * again, and a range still queued is refreshed in place rather than duplicated.
 *
 * @example
 * const plan = await planDistributedBackfill(backend, { namespace: 'docs@v2', settings: { requestsPerMinute: 3000 } });
 * // then, on any machines: reembed --pg $URL worker
 */
export async function planDistributedBackfill(
  backend: PgBackend,
  options: DistributedPlanOptions,
): Promise<DistributedPlanReport> {
  const { schema, url } = backend.config;
  const ns = await backend.catalog.getNamespace(options.namespace);
  if (ns.state === 'retired') {
    throw new ReembedError(
      'INVALID_INPUT',
      `Namespace ${ns.name} is retired; there is nothing to backfill.`,
      {
        details: { namespace: ns.name },
      },
    );
  }
  const settings = resolveSettings(options.settings);
  const rangeSize = options.rangeSize ?? 500;
  if (!Number.isInteger(rangeSize) || rangeSize < 1 || rangeSize > 100_000) {
    throw new ReembedError(
      'INVALID_INPUT',
      `rangeSize must be an integer from 1 to 100000, got ${rangeSize}.`,
      {
        details: { field: 'rangeSize' },
      },
    );
  }
  await ensureQueueSchema(backend.pool, url, schema);
  // The range boundaries are keyset jumps over the sources: they need the planner's statistics.
  await backend.sources.ensureStatistics();
  const planId = planIdOf(ns.name);
  const stored = JSON.stringify(settings);
  const planned = await withTransaction(backend.pool, 'plan a distributed backfill', async (tx) => {
    const inserted = await tx.query(Q.insertPlanSql(schema), [
      planId,
      ns.name,
      ns.collection,
      options.migrationId ?? null,
      rangeSize,
      stored,
    ]);
    let plan = (await tx.query<PlanRow>(Q.lockPlanSql(schema), [planId])).rows[0] as PlanRow;
    if (options.fresh && inserted.rowCount === 0) {
      plan = (await tx.query<PlanRow>(Q.renewPlanSql(schema), [planId, rangeSize, stored]))
        .rows[0] as PlanRow;
    }
    let after = plan.high_water;
    let next = plan.next_range;
    let created = 0;
    for (let more = true; more; ) {
      const batch: { no: number; key: string; after: string; last: string; n: number }[] = [];
      while (batch.length < MAX_RANGES_PER_INSERT) {
        const row = (
          await tx.query<{ last_id: string | null; n: number }>(Q.nextBoundarySql(schema), [
            ns.collection,
            after,
            plan.range_size,
          ])
        ).rows[0];
        if (!row?.last_id || row.n === 0) {
          more = false;
          break;
        }
        batch.push({
          no: next,
          key: Q.rangeKey(planId, plan.generation, next),
          after,
          last: row.last_id,
          n: row.n,
        });
        after = row.last_id;
        next++;
      }
      if (batch.length === 0) break;
      await tx.query(Q.insertRangesSql(schema), [
        planId,
        plan.generation,
        batch.map((b) => b.no),
        batch.map((b) => b.key),
        batch.map((b) => b.after),
        batch.map((b) => b.last),
        batch.map((b) => b.n),
      ]);
      created += batch.length;
    }
    await tx.query(Q.advancePlanSql(schema), [planId, after, next, stored]);
    await configureBuckets(tx, schema, planId, settings);
    return { generation: plan.generation, created };
  });

  const job = await backend.jobs.ensureJob({
    id: planId,
    type: 'backfill',
    namespace: ns.name,
    collection: ns.collection,
    migrationId: options.migrationId ?? null,
  });
  const read = async () =>
    (
      await run<{ ranges: number; ranges_done: number; sources: string }>(
        backend.pool,
        'read plan progress',
        Q.progressSql(schema),
        [planId],
      )
    )[0] ?? { ranges: 0, ranges_done: 0, sources: '0' };
  const progress = await read();
  let enqueued = 0;
  if (progress.ranges_done === progress.ranges) {
    await run(backend.pool, 'finish the plan', Q.finishPlanSql(schema), [planId]);
    if (job.state !== 'done')
      await backend.jobs.updateJob(job.id, { state: 'done', pass: planned.generation });
  } else {
    if (job.state !== 'running') {
      await backend.jobs.updateJob(job.id, { state: 'running', pass: planned.generation - 1, error: null });
    }
    const pending = await run<{ key: string }>(
      backend.pool,
      'list pending ranges',
      Q.pendingRangesSql(schema),
      [planId],
    );
    if (pending.length > 0) {
      const utils = await openWorkerUtils(url, schema);
      try {
        enqueued = await addRangeJobs(utils, pending, options.maxAttempts ?? 25);
      } finally {
        await utils.release();
      }
    }
  }
  return Object.freeze({
    kind: 'distributed-plan' as const,
    planId,
    namespace: ns.name,
    generation: planned.generation,
    ranges: progress.ranges,
    created: planned.created,
    enqueued,
    done: progress.ranges_done,
    sources: num(progress.sources),
    settings,
  });
}
