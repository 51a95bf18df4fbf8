import { ReembedError } from '../core/errors.js';
import type { Job } from '../ports/jobs.js';
import type { PgBackend } from '../stores/pg/backend.js';
import { iso, isoOrNull, num, run } from '../stores/pg/pool.js';
import { qualified } from '../stores/pg/sql.js';
import { progressSql, workersSql } from './sql.js';

export interface PlanProgress {
  readonly kind: 'distributed-progress';
  readonly planId: string;
  readonly namespace: string;
  readonly collection: string;
  readonly migrationId: string | null;
  readonly generation: number;
  readonly rangeSize: number;
  readonly ranges: number;
  readonly rangesDone: number;
  /** Sources planned, and sources accounted for (finished ranges, plus the checkpoints of ranges in flight). */
  readonly sources: number;
  readonly sourcesDone: number;
  readonly ratio: number;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  /** The plan's job row: counters summed over every worker. */
  readonly job: Job | null;
}

export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly leaseMs: number;
  readonly startedAt: string;
  readonly heartbeatAgeMs: number;
  readonly alive: boolean;
}

export interface DistributedStatus {
  readonly kind: 'distributed-status';
  readonly plans: readonly PlanProgress[];
  readonly workers: readonly WorkerInfo[];
}

/**
 * Global progress of distributed backfills — every plan, or those of one namespace or plan id — from the
 * range table and the checkpoints committed with each batch, plus the workers holding a lease. What
 * `reembed worker status` prints; `migrate status` can show the same for a migration's target.
 */
export async function distributedStatus(backend: PgBackend, target?: string): Promise<DistributedStatus> {
  const { schema } = backend.config;
  const exists = await run<{ present: boolean }>(
    backend.pool,
    'check the queue tables',
    'SELECT to_regclass($1) IS NOT NULL AS present',
    [qualified(schema, 'queue_plans')],
  );
  if (!exists[0]?.present)
    return Object.freeze({ kind: 'distributed-status' as const, plans: [], workers: [] });
  const rows = await run<{
    id: string;
    namespace: string;
    collection: string;
    migration_id: string | null;
    generation: number;
    range_size: number;
    created_at: Date;
    finished_at: Date | null;
    ranges: number;
    ranges_done: number;
    sources: string;
    sources_done: string;
  }>(backend.pool, 'read backfill progress', progressSql(schema), [target ?? null]);
  const plans = await Promise.all(
    rows.map(async (r) => {
      const sources = num(r.sources);
      const sourcesDone = Math.min(sources, num(r.sources_done));
      return Object.freeze({
        kind: 'distributed-progress' as const,
        planId: r.id,
        namespace: r.namespace,
        collection: r.collection,
        migrationId: r.migration_id,
        generation: r.generation,
        rangeSize: r.range_size,
        ranges: r.ranges,
        rangesDone: r.ranges_done,
        sources,
        sourcesDone,
        ratio: sources === 0 ? 1 : sourcesDone / sources,
        createdAt: iso(r.created_at),
        finishedAt: isoOrNull(r.finished_at),
        job: await backend.jobs.getJob(r.id),
      });
    }),
  );
  const workers = (
    await run<{
      id: string;
      host: string;
      pid: number;
      lease_ms: number;
      started_at: Date;
      heartbeat_age_ms: number;
    }>(backend.pool, 'list workers', workersSql(schema))
  ).map((w) =>
    Object.freeze({
      id: w.id,
      host: w.host,
      pid: w.pid,
      leaseMs: w.lease_ms,
      startedAt: iso(w.started_at),
      heartbeatAgeMs: w.heartbeat_age_ms,
      alive: w.heartbeat_age_ms <= w.lease_ms,
    }),
  );
  return Object.freeze({ kind: 'distributed-status' as const, plans, workers });
}

/**
 * Resolves once the plan of `namespace` has finished (every range committed `done`), reporting progress
 * every `pollMs`; rejects with the signal's reason on abort. Workers do the work; this only watches.
 */
export async function waitForPlan(
  backend: PgBackend,
  namespace: string,
  options: { pollMs?: number; signal?: AbortSignal; onProgress?: (p: PlanProgress) => void } = {},
): Promise<PlanProgress> {
  for (;;) {
    options.signal?.throwIfAborted();
    const plan = (await distributedStatus(backend, namespace)).plans[0];
    if (!plan) {
      throw new ReembedError(
        'NOT_FOUND',
        `No distributed backfill is planned for ${namespace}. Plan one: reembed worker plan ${namespace}`,
        {
          details: { namespace },
        },
      );
    }
    options.onProgress?.(plan);
    if (plan.finishedAt || plan.ranges === plan.rangesDone) return plan;
    await backend.clock.sleep(options.pollMs ?? 1_000, options.signal);
  }
}
