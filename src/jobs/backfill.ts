import { EventEmitter } from 'node:events';
import { type ErrorCode, ReembedError } from '../core/errors.js';
import type { BackfillSettings } from '../core/migration.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { Embedder } from '../ports/embedder.js';
import { checkpointKey, type Job, type JobCounters, type JobRepository } from '../ports/jobs.js';
import type { SourceRepository } from '../ports/sources.js';
import type { VectorStore } from '../ports/vector-store.js';
import { type EncodeSources, embedIsolating } from './backfill-embed.js';
import {
  type BackfillBatch,
  type BatchSourceOptions,
  deadLetterBatches,
  initialCursor,
  passBatches,
} from './backfill-source.js';
import { ContiguousCursor } from './contiguous.js';
import { RateLimiter } from './rate-limit.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';

export const DEFAULT_BACKFILL: BackfillSettings = Object.freeze({
  batchSize: 128,
  maxBatchTokens: null,
  concurrency: 4,
  requestsPerMinute: null,
  tokensPerMinute: null,
  maxRetries: DEFAULT_RETRY.maxRetries,
  timeoutMs: 60_000,
});

export interface BackfillDeps {
  readonly store: VectorStore;
  readonly sources: SourceRepository;
  readonly jobs: JobRepository;
  /** The target namespace's embedder (its space is the namespace's space). */
  readonly embedder: Embedder;
  readonly encode: EncodeSources;
  readonly clock?: Clock;
  readonly random?: () => number;
}

export interface BackfillOptions {
  readonly collection: string;
  readonly namespace: string;
  /** Default `backfill:<namespace>`: one resumable job per target namespace. */
  readonly jobId?: string;
  readonly migrationId?: string | null;
  readonly settings?: Partial<BackfillSettings>;
  readonly order?: 'id' | 'hottest';
  readonly hotLimit?: number;
  readonly useQueue?: boolean;
  readonly pageSize?: number;
  readonly retry?: Partial<Omit<RetryPolicy, 'maxRetries'>>;
  /** `dead-letters`: retry the dead-lettered sources instead of a pass. */
  readonly mode?: 'pass' | 'dead-letters';
}

export interface BackfillProgress {
  readonly jobId: string;
  readonly namespace: string;
  /** Sources of the pass accounted for (embedded, deleted, already current, dead-lettered). */
  readonly done: number;
  readonly total: number;
  readonly written: number;
  readonly skipped: number;
  readonly deadLettered: number;
  readonly retries: number;
  /** Sources per second since this run started. */
  readonly rate: number;
  readonly etaSeconds: number | null;
  readonly elapsedMs: number;
}

export type BackfillStatus = 'done' | 'paused' | 'aborted' | 'failed';

export interface BackfillReport extends BackfillProgress {
  readonly kind: 'backfill-report';
  readonly status: BackfillStatus;
  readonly pass: number;
  readonly checkpoint: string;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Stop (status `paused`, resumable) after this many batches or milliseconds. */
  readonly maxBatches?: number;
  readonly maxMs?: number;
}

const COUNTER_FLUSH_MS = 2_000;
const SKIP_CHECKPOINT_MS = 1_000;

/**
 * Re-encodes a collection's sources into one namespace: bounded memory (keyset pages), skips what the
 * namespace already holds, batches by count and tokens, runs `concurrency` batches at once under
 * request and token rate limits, retries transient failures with jittered backoff, dead-letters poison
 * items, and commits each batch together with its checkpoint. Versioned writes make re-runs idempotent
 * and keep a backfill from overwriting a newer dual-write (invariant 4) or resurrecting a delete (5).
 *
 * Events: `progress` (BackfillProgress), `batch`, `retry`, `dead-letter`, `done` (BackfillReport).
 *
 * @example
 * const runner = new BackfillRunner(deps, { collection: 'docs', namespace: 'docs@v2' });
 * runner.on('progress', (p) => bar.update(p.done));
 * const report = await runner.run({ signal });
 */
export class BackfillRunner extends EventEmitter {
  readonly jobId: string;
  readonly settings: BackfillSettings;
  readonly #deps: Required<BackfillDeps>;
  readonly #options: BackfillOptions;
  readonly #limiter: RateLimiter;
  readonly #retry: RetryPolicy;
  readonly #claimed = new Set<string>();
  #abort = new AbortController();
  #job: Job | null = null;
  #tracker = new ContiguousCursor('', 0);
  #batches: AsyncGenerator<BackfillBatch> | null = null;
  #total = 0;
  #done = 0;
  #delta: JobCounters = zeroCounters();
  #run: JobCounters = zeroCounters();
  #startedAt = 0;
  #lastFlush = 0;
  #lastSkipSave = 0;
  #skipDirty = false;
  #deadLetters = 0;
  #writeChain: Promise<unknown> = Promise.resolve();
  #finished = false;

  constructor(deps: BackfillDeps, options: BackfillOptions) {
    super();
    const clock = deps.clock ?? systemClock;
    this.#deps = { ...deps, clock, random: deps.random ?? Math.random };
    this.#options = options;
    this.settings = resolveSettings(options.settings);
    this.jobId =
      options.jobId ?? `backfill:${options.namespace}${options.mode === 'dead-letters' ? ':dead' : ''}`;
    this.#limiter = new RateLimiter(this.settings, clock);
    this.#retry = { ...DEFAULT_RETRY, ...options.retry, maxRetries: this.settings.maxRetries };
  }

  /**
   * Runs batches until the pass ends, the signal aborts, or a budget is spent. Resolves with a report
   * whose `status` says which (`failed` carries the error); the job row and checkpoint are saved first.
   */
  async run(options: RunOptions = {}): Promise<BackfillReport> {
    this.#abort = new AbortController();
    const abort = this.#abort;
    const onAbort = (): void => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    try {
      await this.#start();
      const deadline =
        options.maxMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + options.maxMs;
      let budget = options.maxBatches ?? Number.POSITIVE_INFINITY;
      const failed: { error?: unknown; failed: boolean } = { failed: false };
      const worker = async (): Promise<void> => {
        while (!abort.signal.aborted && !failed.failed && budget > 0 && performance.now() < deadline) {
          budget--;
          try {
            if (!(await this.#processNext())) return;
          } catch (error) {
            // The other workers finish the batch they hold and stop; a resume repeats only those.
            if (!failed.failed) Object.assign(failed, { failed: true, error });
            return;
          }
        }
      };
      await Promise.all(Array.from({ length: this.settings.concurrency }, worker));
      if (abort.signal.aborted) return await this.#finish('aborted', failed.error);
      if (failed.failed) return await this.#finish('failed', failed.error);
      return await this.#finish(this.#finished ? 'done' : 'paused');
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Processes exactly one batch (tests drive the runner with this). Returns false once the pass has ended. */
  async tick(): Promise<boolean> {
    await this.#start();
    const more = await this.#processNext();
    if (!more) await this.#finish('done');
    return more;
  }

  progress(): BackfillProgress {
    const elapsedMs = Math.max(1, performance.now() - this.#startedAt);
    const rate = ((this.#run.processed || 0) / elapsedMs) * 1000;
    const remaining = Math.max(0, this.#total - this.#done);
    return Object.freeze({
      jobId: this.jobId,
      namespace: this.#options.namespace,
      done: this.#done,
      total: this.#total,
      written: this.#run.written,
      skipped: this.#run.skipped,
      deadLettered: this.#run.deadLettered,
      retries: this.#run.retries,
      rate,
      etaSeconds: rate > 0 ? remaining / rate : null,
      elapsedMs,
    });
  }

  async #start(): Promise<void> {
    if (this.#batches) return;
    const { jobs, sources } = this.#deps;
    const o = this.#options;
    let job = await jobs.ensureJob({
      id: this.jobId,
      type: 'backfill',
      namespace: o.namespace,
      collection: o.collection,
      migrationId: o.migrationId ?? null,
    });
    job = await jobs.updateJob(job.id, { state: 'running', error: null });
    this.#job = job;
    this.#finished = false;
    this.#startedAt = performance.now();
    this.#lastFlush = this.#startedAt;
    this.#deadLetters = await jobs.countDeadLetters(o.namespace);
    const order = o.order ?? 'id';
    const batchOptions: BatchSourceOptions = {
      collection: o.collection,
      namespace: o.namespace,
      batchSize: this.settings.batchSize,
      maxBatchTokens: this.settings.maxBatchTokens,
      pageSize: o.pageSize ?? Math.max(256, this.settings.batchSize * 8),
      order,
      hotLimit: o.hotLimit ?? 10_000,
      useQueue: o.useQueue ?? false,
      countTokens: this.settings.maxBatchTokens === null ? null : (t) => this.#deps.embedder.countTokens(t),
    };
    if (o.mode === 'dead-letters') {
      this.#total = this.#deadLetters;
      this.#batches = deadLetterBatches(this.#deps, batchOptions);
      return;
    }
    const saved = await jobs.checkpoint(checkpointKey(job));
    const counts = await sources.count(o.collection);
    const hot = order === 'hottest' ? Math.min(batchOptions.hotLimit, counts.live) : 0;
    this.#total = counts.live + counts.deleted + hot;
    this.#tracker = new ContiguousCursor(saved?.cursor ?? initialCursor(order), saved?.processed ?? 0);
    this.#done = this.#tracker.processed;
    this.#batches = passBatches(this.#deps, batchOptions, this.#tracker.cursor, this.#claimed);
  }

  async #processNext(): Promise<boolean> {
    const next = await (this.#batches as AsyncGenerator<BackfillBatch>).next();
    if (next.done) {
      this.#finished = true;
      return false;
    }
    await this.#process(next.value);
    return true;
  }

  async #process(batch: BackfillBatch): Promise<void> {
    const started = performance.now();
    const { writes, failures } = await embedIsolating(
      {
        embedder: this.#deps.embedder,
        encode: this.#deps.encode,
        limiter: this.#limiter,
        retry: this.#retry,
        timeoutMs: this.settings.timeoutMs,
        signal: this.#abort.signal,
        clock: this.#deps.clock,
        random: this.#deps.random,
        onRetry: (e) => {
          this.#count({ retries: 1 });
          this.emit('retry', { ...e, error: errorInfo(e.error) });
        },
      },
      batch.docs,
    );
    const result = await this.#serialized(() => this.#commit(batch, writes, failures));
    this.#count({
      processed: batch.scanned + (batch.seq === null ? batch.docs.length : 0),
      written: result.written + result.deleted,
      skipped: batch.current + result.skipped,
      deadLettered: failures.length,
    });
    this.#done += this.#options.mode === 'dead-letters' ? batch.docs.length : batch.scanned;
    this.emit('batch', {
      seq: batch.seq,
      docs: batch.docs.length,
      written: result.written,
      deleted: result.deleted,
      skipped: batch.current + result.skipped,
      deadLettered: failures.length,
      ms: performance.now() - started,
    });
    this.emit('progress', this.progress());
    await this.#flushCounters(false);
  }

  /** Writes run one at a time, so the checkpoint computed for a batch is the one that commits with it. */
  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writeChain.then(fn);
    this.#writeChain = run.catch(() => undefined);
    return run;
  }

  async #commit(
    batch: BackfillBatch,
    writes: Awaited<ReturnType<typeof embedIsolating>>['writes'],
    failures: Awaited<ReturnType<typeof embedIsolating>>['failures'],
  ): Promise<{ written: number; skipped: number; deleted: number }> {
    const { store, jobs, embedder } = this.#deps;
    const ns = this.#options.namespace;
    const job = this.#job as Job;
    const next =
      batch.seq === null ? null : this.#tracker.preview(batch.seq, batch.cursor as string, batch.scanned);
    const checkpoint = next
      ? { jobId: checkpointKey(job), cursor: next.cursor, processed: next.processed }
      : undefined;
    const shared = store.capabilities.sharedCatalogTransaction;
    let deleted = 0;
    if (batch.deletes.length > 0) deleted = (await store.delete(ns, batch.deletes)).written;
    let written = 0;
    let skipped = 0;
    const skipOnly = writes.length === 0;
    const saveNow = !skipOnly || this.#deps.clock.now().getTime() - this.#lastSkipSave >= SKIP_CHECKPOINT_MS;
    if (!skipOnly || (checkpoint && shared && saveNow)) {
      const r = await store.write(
        ns,
        embedder.space.fingerprint,
        writes,
        checkpoint && shared ? { checkpoint } : {},
      );
      written = r.written;
      skipped = r.skipped;
    }
    if (checkpoint && (!shared || skipOnly)) {
      if (saveNow) {
        if (!shared) await jobs.saveCheckpoint(ns, checkpoint);
        this.#lastSkipSave = this.#deps.clock.now().getTime();
        this.#skipDirty = false;
      } else this.#skipDirty = true;
    } else if (checkpoint) this.#skipDirty = false;
    if (failures.length > 0) {
      await jobs.addDeadLetters(
        failures.map((f) => ({
          namespace: ns,
          sourceId: f.doc.id,
          sourceVersion: f.doc.version,
          jobId: this.jobId,
          code: f.error.code,
          reason: f.error.message,
          attempts: 1,
        })),
      );
      this.#deadLetters += failures.length;
      for (const f of failures)
        this.emit('dead-letter', { sourceId: f.doc.id, code: f.error.code, reason: f.error.message });
    }
    if (this.#deadLetters > 0 && writes.length > 0) {
      this.#deadLetters -= await jobs.clearDeadLetters(
        ns,
        writes.map((w) => w.sourceId),
      );
    }
    if (batch.ack.length > 0) {
      await jobs.ack(ns, batch.ack);
      for (const id of batch.ack) this.#claimed.delete(id);
    }
    if (batch.seq !== null) this.#tracker.complete(batch.seq, batch.cursor as string, batch.scanned);
    return { written, skipped, deleted };
  }

  async #finish(status: BackfillStatus, error?: unknown): Promise<BackfillReport> {
    const { jobs } = this.#deps;
    const job = this.#job as Job;
    await this.#writeChain;
    if (this.#skipDirty && this.#options.mode !== 'dead-letters') {
      await jobs.saveCheckpoint(this.#options.namespace, {
        jobId: checkpointKey(job),
        cursor: this.#tracker.cursor,
        processed: this.#tracker.processed,
      });
      this.#skipDirty = false;
    }
    await this.#flushCounters(true);
    const info = error === undefined ? null : errorInfo(error);
    const passDone = status === 'done' && this.#options.mode !== 'dead-letters';
    const jobState = status === 'done' ? 'done' : status === 'paused' ? 'pending' : status;
    this.#job = await jobs.updateJob(job.id, {
      state: jobState,
      error: info,
      ...(passDone ? { pass: job.pass + 1 } : {}),
    });
    const report: BackfillReport = Object.freeze({
      ...this.progress(),
      kind: 'backfill-report' as const,
      status,
      pass: job.pass,
      checkpoint: this.#tracker.cursor,
      error: info,
    });
    // A finished runner starts a fresh pass when run again, like a new runner would.
    if (passDone) this.#batches = null;
    if (status === 'done' || status === 'failed' || status === 'aborted') this.emit('done', report);
    return report;
  }

  #count(add: Partial<JobCounters>): void {
    this.#delta = addCounters(this.#delta, add);
    this.#run = addCounters(this.#run, add);
  }

  async #flushCounters(force: boolean): Promise<void> {
    const now = performance.now();
    if (!force && now - this.#lastFlush < COUNTER_FLUSH_MS) return;
    this.#lastFlush = now;
    const add = this.#delta;
    this.#delta = zeroCounters();
    if (Object.values(add).some((v) => v !== 0)) await this.#deps.jobs.updateJob(this.jobId, { add });
  }
}

export function resolveSettings(input: Partial<BackfillSettings> = {}): BackfillSettings {
  const s = { ...DEFAULT_BACKFILL, ...stripUndefined(input) };
  const positive = (name: keyof BackfillSettings, value: number | null, nullable: boolean): void => {
    if (value === null && nullable) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Backfill setting ${name} must be a positive number, got ${value}.`,
        {
          details: { field: name, value },
        },
      );
    }
  };
  positive('batchSize', s.batchSize, false);
  positive('concurrency', s.concurrency, false);
  positive('maxBatchTokens', s.maxBatchTokens, true);
  positive('requestsPerMinute', s.requestsPerMinute, true);
  positive('tokensPerMinute', s.tokensPerMinute, true);
  positive('timeoutMs', s.timeoutMs, true);
  if (!Number.isInteger(s.maxRetries) || s.maxRetries < 0) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Backfill setting maxRetries must be a non-negative integer, got ${s.maxRetries}.`,
      {
        details: { field: 'maxRetries' },
      },
    );
  }
  return Object.freeze({ ...s, batchSize: Math.floor(s.batchSize), concurrency: Math.floor(s.concurrency) });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function zeroCounters(): JobCounters {
  return { processed: 0, written: 0, skipped: 0, deadLettered: 0, retries: 0 };
}

function addCounters(a: JobCounters, b: Partial<JobCounters>): JobCounters {
  return {
    processed: a.processed + (b.processed ?? 0),
    written: a.written + (b.written ?? 0),
    skipped: a.skipped + (b.skipped ?? 0),
    deadLettered: a.deadLettered + (b.deadLettered ?? 0),
    retries: a.retries + (b.retries ?? 0),
  };
}

function errorInfo(error: unknown): { code: ErrorCode | 'INTERNAL'; message: string } {
  if (error instanceof ReembedError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
