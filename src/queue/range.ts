import type { BackfillSettings } from '../core/migration.js';
import type { Namespace } from '../core/namespace.js';
import type { SourceDelete, SourceDocument } from '../core/records.js';
import type { Semaphore } from '../core/semaphore.js';
import { type EmbedOutcome, type EncodeSources, embedIsolating } from '../jobs/backfill-embed.js';
import { actionFor } from '../jobs/backfill-source.js';
import { RateLimiter } from '../jobs/rate-limit.js';
import { DEFAULT_RETRY } from '../jobs/retry.js';
import type { Clock } from '../ports/clock.js';
import type { Embedder } from '../ports/embedder.js';
import type { JobCounters } from '../ports/jobs.js';
import type { PgBackend } from '../stores/pg/backend.js';
import { run } from '../stores/pg/pool.js';
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
interface PreparedBatch extends EmbedOutcome {
  readonly scanned: number;
  readonly current: number;
  readonly lastId: string | undefined;
  /** The range ends with this batch. */
  readonly last: boolean;
  readonly deletes: SourceDelete[];
}

const zero = (): Mutable<JobCounters> => ({
  processed: 0,
  written: 0,
  skipped: 0,
  deadLettered: 0,
  retries: 0,
});

/**
 * Does one range of a distributed backfill: pages through its sources in id order (`batchSize` per
 * embedding call), tombstones what the namespace missed, embeds the rest (poison items bisected out and
 * dead-lettered, transient failures retried) and writes with the versioned store write. Each write
 * commits the range's checkpoint in its own transaction — `scan:<last id>` mid-range, `done` with the last
 * batch — so a range interrupted anywhere resumes after its last committed batch, and a range delivered
 * twice (at-least-once) finds `done` and returns. Newer dual-writes and tombstones always win (invariants
 * 4 and 5): the store only applies a source version newer than the one it holds.
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
  const retry = { ...DEFAULT_RETRY, maxRetries: settings.maxRetries };
  const limiter = new RateLimiter({ requestsPerMinute: null, tokensPerMinute: null });
  // Clearing dead letters costs a statement per batch; skip it while the namespace has none.
  let deadLetters = row.dead_letters;

  /** Reads, classifies and embeds one batch. Pure: nothing is written, so it may run ahead. */
  const prepare = async (after: string): Promise<PreparedBatch> => {
    const page = await backend.sources.scan(row.collection, {
      afterId: after === '' ? undefined : after,
      limit: settings.batchSize,
      includeDeleted: true,
    });
    const end = page.findIndex((d) => d.id === row.last_id || d.id > row.last_id);
    const inRange = end === -1 ? page : page.slice(0, page[end]?.id === row.last_id ? end + 1 : end);
    const heads = await backend.store.heads(
      ns.name,
      inRange.map((d) => d.id),
    );
    const docs: SourceDocument[] = [];
    const deletes: SourceDelete[] = [];
    for (const doc of inRange) {
      const action = actionFor(doc, heads.get(doc.id));
      if (action === 'embed') docs.push(doc);
      else if (action === 'delete') deletes.push({ sourceId: doc.id, sourceVersion: doc.version });
    }
    const release = await deps.slots?.embed.acquire(signal);
    const embedded = await embedIsolating(
      {
        embedder,
        encode: deps.encode,
        limiter,
        retry,
        timeoutMs: settings.timeoutMs,
        signal,
        clock: deps.clock,
        random: deps.random,
        onRetry: (e) => {
          counters.retries++;
          deps.onRetry?.({ key, attempt: e.attempt, delayMs: e.delayMs, error: e.error });
        },
        // The embedder's own retries (a provider's 429s and 5xx it absorbed) count as well.
        onEmbedderRetry: () => {
          counters.retries++;
        },
      },
      docs,
    ).finally(() => release?.());
    return {
      scanned: inRange.length,
      current: inRange.length - docs.length - deletes.length,
      lastId: inRange[inRange.length - 1]?.id,
      last: end !== -1 || page.length < settings.batchSize,
      deletes,
      ...embedded,
    };
  };

  let processed = saved?.processed ?? 0;
  let next = prepare(saved ? saved.cursor.replace(/^scan:/, '') : row.after_id);
  for (;;) {
    signal.throwIfAborted();
    const batch = await next;
    // The next batch is read and embedded while this one commits (its writes still go in order).
    if (!batch.last && batch.lastId !== undefined) {
      next = prepare(batch.lastId);
      next.catch(() => undefined);
    }
    if (batch.deletes.length > 0)
      counters.written += (await backend.store.delete(ns.name, batch.deletes)).written;
    // Dead letters first: once the checkpoint moves past them, they must already be on record.
    if (batch.failures.length > 0) {
      deadLetters = true;
      await backend.jobs.addDeadLetters(
        batch.failures.map((f) => ({
          namespace: ns.name,
          sourceId: f.doc.id,
          sourceVersion: f.doc.version,
          jobId: row.plan_id,
          code: f.error.code,
          reason: f.error.message,
          attempts: 1,
        })),
      );
    }
    processed += batch.scanned;
    const cursor = batch.last || batch.lastId === undefined ? Q.RANGE_DONE : `scan:${batch.lastId}`;
    // Vectors come from embedSources, which validated every one (as the single-process runner's do).
    const releaseWrite = await deps.slots?.write.acquire(signal);
    const result = await backend.store
      .write(ns.name, ns.space.fingerprint, batch.writes, {
        checkpoint: { jobId: key, cursor, processed },
        prevalidated: true,
      })
      .finally(() => releaseWrite?.());
    if (deadLetters && batch.writes.length > 0) {
      await backend.jobs.clearDeadLetters(
        ns.name,
        batch.writes.map((w) => w.sourceId),
      );
    }
    counters.processed += batch.scanned;
    counters.written += result.written;
    counters.skipped += batch.current + result.skipped;
    counters.deadLettered += batch.failures.length;
    if (cursor === Q.RANGE_DONE) break;
  }
  const finished = await run<{ plan_finished: boolean }>(
    backend.pool,
    'finish a range',
    Q.finishRangeSql(schema),
    [key, processed, counters.written, counters.skipped, counters.deadLettered, row.plan_id],
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
