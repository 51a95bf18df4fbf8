import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { ReembedError } from '../core/errors.js';
import type { BackfillSettings } from '../core/migration.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { Embedder } from '../ports/embedder.js';
import { checkpointKey, type Job, type JobCounters, type JobRepository } from '../ports/jobs.js';
import type { SourceRepository } from '../ports/sources.js';
import type { VectorStore } from '../ports/vector-store.js';
import type { CommitResult } from './backfill-commit.js';
import { abortedError, type EncodeSources } from './backfill-embed.js';
import { BackfillPipeline } from './backfill-pipeline.js';
import {
  addCounters,
  type BackfillProgress,
  type BackfillReport,
  type BackfillStatus,
  errorInfo,
  zeroCounters,
} from './backfill-report.js';
import { resolveSettings } from './backfill-settings.js';
import {
  type BackfillBatch,
  type BatchSourceOptions,
  deadLetterBatches,
  initialCursor,
  passBatches,
  scanStart,
} from './backfill-source.js';
import { ContiguousCursor } from './contiguous.js';
import { HEARTBEAT_MS, LEASE_MS, runnerHealth } from './liveness.js';
import { RateLimiter } from './rate-limit.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import {
  MIN_PAGE_SIZE,
  offersReaderThread,
  passPages,
  type ReaderThreadMode,
  type SourcePages,
} from './source-pages.js';

export type { BackfillProgress, BackfillReport, BackfillStatus } from './backfill-report.js';
export { DEFAULT_BACKFILL, resolveSettings } from './backfill-settings.js';
export { type ReaderThreadEvent, type ReaderThreadMode, THREAD_MIN_PAGES } from './source-pages.js';

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
  /** How often the runner refreshes its heartbeat on the job (default `HEARTBEAT_MS`, 5 s). */
  readonly heartbeatMs?: number;
  /**
   * Read, preprocess and chunk the scan's pages on a worker thread when the source repository offers a
   * `readerThreads` (the embedded SQLite backend does), leaving this thread to embed and write; the
   * thread also checkpoints the WAL, so writes do not stall on it. `auto` (default): for passes of at
   * least `THREAD_MIN_PAGES` pages, and the first pages are read here while a new thread loads; `on`:
   * always, waiting for the thread to load; `off`: never. The batches, checkpoints and results are the
   * same either way, and a thread that fails hands reading back to this one.
   */
  readonly readerThread?: ReaderThreadMode;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Stop (status `paused`, resumable) after this many batches or milliseconds. */
  readonly maxBatches?: number;
  readonly maxMs?: number;
}

const COUNTER_FLUSH_MS = 2_000;

/**
 * Re-encodes a collection's sources into one namespace: bounded memory (keyset pages), skips what the
 * namespace already holds, batches by count and tokens, runs `concurrency` batches at once under
 * request and token rate limits, retries transient failures with jittered backoff, dead-letters poison
 * items, and commits each batch together with its checkpoint (batches that finish together commit as one
 * group). Versioned writes make re-runs idempotent and keep a backfill from overwriting a newer dual-write
 * (invariant 4) or resurrecting a delete (5).
 *
 * Events: `progress` (BackfillProgress), `batch` (one per commit, which may carry several batches),
 * `retry`, `dead-letter`, `done` (BackfillReport), `reader-thread` (ReaderThreadEvent: the reader thread
 * took over, or failed and handed reading back).
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
  #pipeline: BackfillPipeline | null = null;
  #pages: SourcePages | null = null;
  #total = 0;
  #live: number | null = null;
  /** The source count of a pass that started reading before it arrived; sets `#total` (see `#start`). */
  #counted: Promise<void> | null = null;
  #done = 0;
  #delta: JobCounters = zeroCounters();
  #run: JobCounters = zeroCounters();
  #startedAt = 0;
  #lastFlush = 0;
  /** This run's identity on the job row's lease, and the heartbeat that keeps it fresh. */
  readonly #runner = {
    owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    host: hostname(),
    pid: process.pid,
  };
  #heartbeat: NodeJS.Timeout | null = null;

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
      const pipeline = await this.#start();
      const outcome = await pipeline.run({
        signal: abort.signal,
        maxBatches: options.maxBatches,
        deadline: options.maxMs === undefined ? undefined : performance.now() + options.maxMs,
      });
      // Whatever a worker was doing when the signal came (a rate-limit sleep, an embedding call) rejects
      // with its own abort error; the pass reports one ABORTED that says it resumes from its checkpoint.
      if (abort.signal.aborted) return await this.#finish('aborted', abortedError(abort.signal));
      if (outcome.failed) return await this.#finish('failed', outcome.error);
      return await this.#finish(pipeline.ended ? 'done' : 'paused');
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await this.#release();
    }
  }

  /** Processes exactly one batch (tests drive the runner with this). Returns false once the pass has ended. */
  async tick(): Promise<boolean> {
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
    const pipeline = await this.#start();
    if (await pipeline.step(this.#abort.signal)) return true;
    await this.#finish('done');
    return false;
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
      live: this.#live,
      written: this.#run.written,
      skipped: this.#run.skipped,
      deadLettered: this.#run.deadLettered,
      retries: this.#run.retries,
      rate,
      etaSeconds: rate > 0 ? remaining / rate : null,
      elapsedMs,
    });
  }

  async #start(): Promise<BackfillPipeline> {
    if (this.#pipeline) {
      // A runner run again after it paused: hold the job again, as a fresh start would.
      if (!this.#heartbeat && this.#job) {
        await this.#claim(this.#job);
        this.#job = await this.#deps.jobs.updateJob(this.#job.id, { state: 'running' });
      }
      return this.#pipeline;
    }
    const { jobs, sources } = this.#deps;
    const o = this.#options;
    const ensured = await jobs.ensureJob({
      id: this.jobId,
      type: 'backfill',
      namespace: o.namespace,
      collection: o.collection,
      migrationId: o.migrationId ?? null,
    });
    await this.#claim(ensured);
    const pass = o.mode !== 'dead-letters';
    const order = o.order ?? 'id';
    const mode = o.readerThread ?? 'auto';
    // Counting a large collection's sources is a scan of its table. The pass waits for the count only
    // where it decides something — the hot phase's length, or whether an `auto` pass takes a reader
    // thread — and otherwise reads its first page meanwhile (the count then only sets the progress total).
    const counting = pass ? sources.count(o.collection) : null;
    // Handled where it is awaited (below, or before the first progress report); never an unhandled rejection.
    counting?.catch(() => undefined);
    const countFirst = order === 'hottest' || (mode === 'auto' && offersReaderThread(sources));
    // Independent reads at once rather than one round trip after another: the first batch waits on them.
    const [job, deadLetters, saved, counts] = await Promise.all([
      jobs.updateJob(ensured.id, { state: 'running', error: null }),
      jobs.countDeadLetters(o.namespace),
      pass ? jobs.checkpoint(checkpointKey(ensured)) : null,
      countFirst ? counting : null,
    ]);
    this.#job = job;
    this.#startedAt = performance.now();
    this.#lastFlush = this.#startedAt;
    const batchOptions: BatchSourceOptions = {
      collection: o.collection,
      namespace: o.namespace,
      batchSize: this.settings.batchSize,
      maxBatchTokens: this.settings.maxBatchTokens,
      pageSize: o.pageSize ?? Math.max(MIN_PAGE_SIZE, this.settings.batchSize * 8),
      order,
      hotLimit: o.hotLimit ?? 10_000,
      useQueue: o.useQueue ?? false,
      countTokens: this.settings.maxBatchTokens === null ? null : (t) => this.#deps.embedder.countTokens(t),
    };
    let batches: AsyncGenerator<BackfillBatch>;
    if (counting === null) {
      // dead-letters mode: no pass, no checkpoint, no count
      this.#total = deadLetters;
      this.#counted = null;
      this.#tracker = new ContiguousCursor('', 0);
      batches = deadLetterBatches(this.#deps, batchOptions);
    } else {
      const total = (c: { live: number; deleted: number }): number => {
        this.#live = c.live;
        return c.live + c.deleted + (order === 'hottest' ? Math.min(batchOptions.hotLimit, c.live) : 0);
      };
      if (counts) this.#total = total(counts);
      this.#counted = counts
        ? null
        : counting.then((c) => {
            this.#total = total(c);
          });
      // Awaited before the first progress report: a failed count fails the run there.
      this.#counted?.catch(() => undefined);
      this.#tracker = new ContiguousCursor(saved?.cursor ?? initialCursor(order), saved?.processed ?? 0);
      this.#done = this.#tracker.processed;
      this.#pages = passPages(sources, {
        collection: o.collection,
        pageSize: batchOptions.pageSize,
        // The first batch starts after a batch-sized read; the prefetch reads the next, full page meanwhile.
        firstPageSize: Math.min(batchOptions.pageSize, this.settings.batchSize),
        after: scanStart(this.#tracker.cursor),
        // Unknown (not awaited) only where it decides nothing.
        remaining: counts ? this.#total - this.#done : 0,
        mode,
        pipeline: this.#deps.embedder.space.spec,
        onThread: (event) => this.emit('reader-thread', event),
      });
      batches = passBatches(this.#deps, batchOptions, this.#tracker.cursor, this.#claimed, this.#pages);
    }
    this.#pipeline = new BackfillPipeline(
      this.#deps,
      {
        namespace: o.namespace,
        jobId: this.jobId,
        checkpointKey: checkpointKey(job),
        tracker: this.#tracker,
        deadLetters,
        concurrency: this.settings.concurrency,
        // Commits at once: `concurrency` on a store whose writes may run concurrently, else one.
        parallelCommits: this.#deps.store.capabilities.concurrentWrites ? this.settings.concurrency : 1,
        limiter: this.#limiter,
        retry: this.#retry,
        timeoutMs: this.settings.timeoutMs,
      },
      batches,
      {
        onRetry: (e) => {
          this.#count({ retries: 1 });
          this.emit('retry', { ...e, error: errorInfo(e.error) });
        },
        // The embedder's own retries (an HTTP provider's 429s and 5xx): the provider failed those
        // requests as surely as the ones that reached the runner.
        onEmbedderRetry: (r, batch) => {
          this.#count({ retries: 1 });
          this.emit('retry', { ...r, docs: batch.docs.length, source: 'embedder' });
        },
        onCommitted: (batch, result, started) => this.#committed(batch, result, started),
      },
    );
    return this.#pipeline;
  }

  /**
   * Takes the job's lease, refusing (`CONFLICT`) while another live process runs it: two runners of one
   * job would race on its checkpoint. A holder that died (gone pid, or silent for a lease) is taken over.
   */
  async #claim(job: Job): Promise<void> {
    const { jobs, clock } = this.#deps;
    const holder = job.runner;
    if (
      job.state === 'running' &&
      holder &&
      holder.owner !== this.#runner.owner &&
      holder.pid !== process.pid
    ) {
      const health = runnerHealth(holder, { now: clock.now() });
      if (health.alive) {
        throw new ReembedError(
          'CONFLICT',
          `The backfill of ${this.#options.namespace} is already running (${health.detail}). Wait for it, or stop it ` +
            `(Ctrl-C, or kill ${holder.pid} on ${holder.host}); a runner that dies is taken over once its heartbeat is ${LEASE_MS / 1000} s old.`,
          { details: { job: job.id, runner: holder } },
        );
      }
    }
    await jobs.heartbeat(job.id, this.#runner);
    if (this.#heartbeat) return;
    const every = this.#options.heartbeatMs ?? HEARTBEAT_MS;
    this.#heartbeat = setInterval(() => {
      jobs.heartbeat(job.id, this.#runner).catch(() => this.#stopHeartbeat());
    }, every);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }

  /** Stops the heartbeat and gives the lease back (a killed runner cannot: its lease lapses). */
  async #release(): Promise<void> {
    if (!this.#heartbeat) return;
    this.#stopHeartbeat();
    await this.#deps.jobs.release(this.jobId, this.#runner.owner).catch(() => undefined);
  }

  /**
   * Accounts for a committed batch. A commit may carry several batches that finished together (group
   * commit): the group is counted, and its `batch` event emitted, once, with its last batch's `result`.
   */
  async #committed(batch: BackfillBatch, result: CommitResult | null, started: number): Promise<void> {
    await this.#counted;
    for (const id of batch.ack) this.#claimed.delete(id);
    if (!result) return;
    for (const f of result.failures)
      this.emit('dead-letter', { sourceId: f.doc.id, code: f.error.code, reason: f.error.message });
    let processed = 0;
    let current = 0;
    let docs = 0;
    for (const b of result.batches) {
      processed += b.scanned + (b.seq === null ? b.docs.length : 0);
      current += b.current;
      docs += b.docs.length;
      this.#done += this.#options.mode === 'dead-letters' ? b.docs.length : b.scanned;
    }
    this.#count({
      processed,
      written: result.written + result.deleted,
      skipped: current + result.skipped,
      deadLettered: result.failures.length,
    });
    this.emit('batch', {
      seq: batch.seq,
      batches: result.batches.length,
      docs,
      written: result.written,
      deleted: result.deleted,
      skipped: current + result.skipped,
      deadLettered: result.failures.length,
      ms: performance.now() - started,
    });
    this.emit('progress', this.progress());
    await this.#flushCounters(false);
  }

  async #finish(status: BackfillStatus, error?: unknown): Promise<BackfillReport> {
    const { jobs } = this.#deps;
    const job = this.#job as Job;
    await this.#pipeline?.flush();
    await this.#counted?.catch(() => undefined);
    // A paused or stopped pass holds no reader thread; a resumed one starts another.
    this.#pages?.suspend();
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
    if (passDone) {
      this.#pipeline = null;
      await this.#afterBackfill();
    }
    await this.#release();
    if (status === 'done' || status === 'failed' || status === 'aborted') this.emit('done', report);
    return report;
  }

  /** The store readies the namespace for serving (`VectorStore.afterBackfill`); its failure fails no pass. */
  async #afterBackfill(): Promise<void> {
    const { store } = this.#deps;
    if (!store.afterBackfill) return;
    try {
      await store.afterBackfill(this.#options.namespace);
    } catch (error) {
      process.emitWarning(
        `The backfill of ${this.#options.namespace} completed, but readying it for serving failed: ${error instanceof Error ? error.message : String(error)}. Searches still work; the store retries at its next maintenance.`,
        { type: 'BackfillWarning' },
      );
    }
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
