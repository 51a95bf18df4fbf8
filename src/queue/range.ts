import type { BackfillSettings } from '../core/migration.js';
import type { Namespace } from '../core/namespace.js';
import type { Semaphore } from '../core/semaphore.js';
import type { EncodeSources } from '../jobs/backfill-embed.js';
import { BackfillPipeline } from '../jobs/backfill-pipeline.js';
import { ContiguousCursor } from '../jobs/contiguous.js';
import { RateLimiter } from '../jobs/rate-limit.js';
import { DEFAULT_RETRY } from '../jobs/retry.js';
import type { Clock } from '../ports/clock.js';
import type { Embedder } from '../ports/embedder.js';
import type { JobCounters } from '../ports/jobs.js';
import type { PgBackend } from '../stores/pg/backend.js';
import { run } from '../stores/pg/pool.js';
import { rangeBatches } from './range-batches.js';
import * as Q from './sql.js';

export interface RangeRow {
  key: string;
  plan_id: string;
  generation: number;
  current_generation: number;
  range_no: number;
  after_id: string;
  last_id: string;
  sources: number;
  namespace: string;
  collection: string;
  settings: BackfillSettings;
}

/** A range as `startRangeSql` returns it. */
interface StartedRange extends RangeRow {
  saved_cursor: string | null;
  saved_processed: string | number | null;
  dead_letters: boolean;
}

/** Bounds shared by a worker's ranges (see `BackfillWorkerOptions.concurrency`). */
export interface RangeSlots {
  readonly embed: Semaphore;
  readonly write: Semaphore;
}

export interface RangeDeps {
  readonly backend: PgBackend;
  readonly workerId: string;
  /** Embedding calls and writes in flight across the worker's ranges; unbounded when absent. */
  readonly slots?: RangeSlots;
  /** The range's namespace (its descriptor does not change within a plan generation). */
  namespaceFor(row: RangeRow): Promise<Namespace>;
  /** The namespace's embedder, already wrapped in this worker's and the plan's rate limits. */
  embedderFor(row: RangeRow): Promise<Embedder>;
  readonly encode: EncodeSources;
  readonly clock: Clock;
  readonly random: () => number;
  readonly onRetry?: (event: { key: string; attempt: number; delayMs: number; error: unknown }) => void;
}

export type RangeStatus = 'done' | 'already-done' | 'superseded' | 'gone';

export interface RangeOutcome {
  readonly key: string;
  readonly status: RangeStatus;
  /** What this attempt did (a resumed range counts only the part after its checkpoint). */
  readonly counters: JobCounters;
  readonly planFinished: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const zero = (): Mutable<JobCounters> => ({
  processed: 0,
  written: 0,
  skipped: 0,
  deadLettered: 0,
  retries: 0,
});

/**
 * Does one range of a distributed backfill with the backfill pipeline (`BackfillPipeline`, the one the
 * single-process runner uses), fed by the range's batches (`rangeBatches`): its sources in id order,
 * `batchSize` per embedding call, tombstones the namespace missed applied, poison items bisected out and
 * dead-lettered, transient failures retried, versioned writes. Each write commits the range's checkpoint
 * in its own transaction — `scan:<last id>` mid-range, `done` with the last batch — so a range interrupted
 * anywhere resumes after its last committed batch, and a range delivered twice (at-least-once) finds
 * `done` and returns. Newer dual-writes and tombstones always win (invariants 4 and 5): the store only
 * applies a source version newer than the one it holds.
 */
export async function processRange(deps: RangeDeps, key: string, signal: AbortSignal): Promise<RangeOutcome> {
  const { backend } = deps;
  const { schema } = backend.config;
  const row = (
    await run<StartedRange>(backend.pool, 'start a range', Q.startRangeSql(schema), [key, deps.workerId])
  )[0];
  if (!row) return { key, status: 'gone', counters: zero(), planFinished: false };
  if (row.generation !== row.current_generation)
    return { key, status: 'superseded', counters: zero(), planFinished: false };
  if (row.saved_cursor === Q.RANGE_DONE) {
    return { key, status: 'already-done', counters: zero(), planFinished: await finishPlan(deps, row) };
  }
  const saved =
    row.saved_cursor === null ? null : { cursor: row.saved_cursor, processed: Number(row.saved_processed) };

  const ns = await deps.namespaceFor(row);
  const embedder = await deps.embedderFor(row);
  const settings = row.settings;
  const counters = zero();
  const tracker = new ContiguousCursor(saved?.cursor ?? `scan:${row.after_id}`, saved?.processed ?? 0);
  const batches = rangeBatches(backend, {
    collection: row.collection,
    namespace: ns.name,
    batchSize: settings.batchSize,
    maxBatchTokens: settings.maxBatchTokens,
    countTokens: settings.maxBatchTokens === null ? null : (text) => embedder.countTokens(text),
    after: saved ? saved.cursor.replace(/^scan:/, '') : row.after_id,
    lastId: row.last_id,
  });
  // One batch embeds at a time (a range is one id-ordered sequence); a worker's ranges share its slots.
  const pipeline = new BackfillPipeline(
    {
      store: backend.store,
      jobs: backend.jobs,
      embedder,
      encode: deps.encode,
      clock: deps.clock,
      random: deps.random,
    },
    {
      namespace: ns.name,
      jobId: row.plan_id,
      checkpointKey: key,
      tracker,
      // Only their presence is known: clear the dead letters of every source written.
      deadLetters: row.dead_letters ? Number.POSITIVE_INFINITY : 0,
      concurrency: 1,
      parallelCommits: 1,
      // The embedder is wrapped in the worker's and the plan's limits already (`rateLimitedEmbedder`).
      limiter: new RateLimiter({ requestsPerMinute: null, tokensPerMinute: null }),
      retry: { ...DEFAULT_RETRY, maxRetries: settings.maxRetries },
      timeoutMs: settings.timeoutMs,
      slots: deps.slots,
    },
    batches,
    {
      onRetry: (e) => {
        counters.retries++;
        deps.onRetry?.({ key, attempt: e.attempt, delayMs: e.delayMs, error: e.error });
      },
      onEmbedderRetry: () => {
        counters.retries++;
      },
      onCommitted: (_batch, result) => {
        if (!result) return;
        for (const b of result.batches) {
          counters.processed += b.scanned;
          counters.skipped += b.current;
        }
        counters.written += result.written + result.deleted;
        counters.skipped += result.skipped;
        counters.deadLettered += result.failures.length;
      },
    },
  );
  const outcome = await pipeline.run({ signal });
  // Saves a checkpoint that batches without writes advanced (the range's `done` among them).
  await pipeline.flush().catch((error: unknown) => {
    if (!outcome.failed) throw error;
  });
  if (outcome.failed) throw outcome.error;
  signal.throwIfAborted();
  const finished = await run<{ plan_finished: boolean }>(
    backend.pool,
    'finish a range',
    Q.finishRangeSql(schema),
    [key, tracker.processed, counters.written, counters.skipped, counters.deadLettered, row.plan_id],
  );
  await backend.jobs.updateJob(row.plan_id, { add: counters });
  const planFinished = finished[0]?.plan_finished === true;
  if (planFinished) await markJobDone(deps, row);
  return { key, status: 'done', counters, planFinished };
}

/** Marks the plan and its job row done when this was the last range (exactly one caller sees true). */
async function finishPlan(deps: RangeDeps, row: RangeRow): Promise<boolean> {
  const { backend } = deps;
  const flipped = await run(backend.pool, 'finish the plan', Q.finishPlanSql(backend.config.schema), [
    row.plan_id,
  ]);
  if (flipped.length === 0) return false;
  await markJobDone(deps, row);
  return true;
}

async function markJobDone(deps: RangeDeps, row: RangeRow): Promise<void> {
  await deps.backend.jobs.updateJob(row.plan_id, { state: 'done', pass: row.generation, error: null });
}
