import type { Semaphore } from '../core/semaphore.js';
import type { Clock } from '../ports/clock.js';
import type { Embedder, EmbedOptions } from '../ports/embedder.js';
import type { JobRepository } from '../ports/jobs.js';
import type { VectorStore } from '../ports/vector-store.js';
import { BatchCommitter, type CommitResult } from './backfill-commit.js';
import { type EmbedOutcome, type EncodeSources, embedIsolating } from './backfill-embed.js';
import type { BackfillBatch } from './backfill-source.js';
import type { ContiguousCursor } from './contiguous.js';
import type { RateLimiter } from './rate-limit.js';
import type { RetryPolicy } from './retry.js';

export interface PipelineDeps {
  readonly store: VectorStore;
  readonly jobs: JobRepository;
  /** The target namespace's embedder. */
  readonly embedder: Embedder;
  readonly encode: EncodeSources;
  readonly clock: Clock;
  readonly random: () => number;
}

export interface PipelineOptions {
  readonly namespace: string;
  /** Job id recorded with dead letters. */
  readonly jobId: string;
  /** Key of the checkpoint row the commits advance. */
  readonly checkpointKey: string;
  readonly tracker: ContiguousCursor;
  /** Dead letters the namespace had when the pass started (see `CommitterOptions.deadLetters`). */
  readonly deadLetters: number;
  /** Batches embedded at once. */
  readonly concurrency: number;
  /** Commits that may run at once (see `CommitterOptions.parallel`). */
  readonly parallelCommits: number;
  readonly limiter: RateLimiter;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | null;
  /**
   * Bounds shared with other pipelines of the process (a worker's ranges): an embedding call holds an
   * `embed` permit, a commit a `write` permit.
   */
  readonly slots?: { readonly embed?: Semaphore; readonly write?: Semaphore } | undefined;
}

export interface PipelineEvents {
  /** A failed embedding call the pipeline will retry after `delayMs`. */
  onRetry(event: { attempt: number; delayMs: number; docs: number; error: unknown }): void;
  /** A retry the embedder made inside one of the pipeline's calls (a provider's 429 or 5xx it absorbed). */
  onEmbedderRetry(retry: Parameters<NonNullable<EmbedOptions['onRetry']>>[0], batch: BackfillBatch): void;
  /**
   * A batch committed. A commit may carry several batches (group commit): `result` is the group's for the
   * last batch of the group and null for the others, so that a group is counted once.
   */
  onCommitted(batch: BackfillBatch, result: CommitResult | null, startedMs: number): Promise<void> | void;
}

export interface RunLimits {
  readonly signal: AbortSignal;
  /** Stop after this many batches, or at this `performance.now()` time. */
  readonly maxBatches?: number;
  readonly deadline?: number;
}

export interface RunOutcome {
  readonly failed: boolean;
  readonly error?: unknown;
}

interface Embedded {
  readonly batch: BackfillBatch;
  readonly outcome: EmbedOutcome;
  readonly started: number;
}

/**
 * The backfill pipeline: plan → embed → validate → commit. It pulls planned batches from a batch source —
 * a pass's local cursor over the sources (`passBatches`, `deadLetterBatches`) or one range of a
 * distributed plan (`queue/range-batches.ts`) — embeds up to `concurrency` of them at once under the rate
 * limits and retries (poison items bisected out, every vector validated by `encode`), and hands each to
 * the `BatchCommitter`, which writes it with its checkpoint and dead letters in one crash-safe order.
 *
 * Writes are queued, not awaited: a worker starts its next embedding call while its batch waits for its
 * commit, so provider latency and store writes overlap instead of convoying. Up to one embedded batch per
 * worker waits beyond the commits running, so a commit that ends is followed at once by the next instead
 * of after an embedding call.
 */
export class BackfillPipeline {
  readonly #deps: PipelineDeps;
  readonly #options: PipelineOptions;
  readonly #batches: AsyncIterator<BackfillBatch>;
  readonly #events: PipelineEvents;
  readonly #committer: BatchCommitter;
  /** Embedding calls in flight (commits yield the thread to them, see `BatchCommitter.commit`). */
  #embedding = 0;
  #ended = false;

  constructor(
    deps: PipelineDeps,
    options: PipelineOptions,
    batches: AsyncIterator<BackfillBatch>,
    events: PipelineEvents,
  ) {
    this.#deps = deps;
    this.#options = options;
    this.#batches = batches;
    this.#events = events;
    this.#committer = new BatchCommitter(deps, {
      namespace: options.namespace,
      fingerprint: deps.embedder.space.fingerprint,
      jobId: options.jobId,
      checkpointKey: options.checkpointKey,
      tracker: options.tracker,
      deadLetters: options.deadLetters,
      busy: () => this.#embedding > 0,
      parallel: options.parallelCommits,
      slot: options.slots?.write,
    });
  }

  /** True once the batch source has run out (the pass, or the range, is complete when its commits are). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Embeds and commits batches with `concurrency` workers until the source runs out, the signal aborts,
   * a budget is spent, or something fails; then waits for the commits queued. A failure stops the other
   * workers after the batch they hold, so a resume repeats only those.
   */
  async run(limits: RunLimits): Promise<RunOutcome> {
    const { signal } = limits;
    const deadline = limits.deadline ?? Number.POSITIVE_INFINITY;
    let budget = limits.maxBatches ?? Number.POSITIVE_INFINITY;
    const outcome: { failed: boolean; error?: unknown } = { failed: false };
    const fail = (error: unknown): void => {
      if (!outcome.failed) Object.assign(outcome, { failed: true, error });
    };
    const writes = new Set<Promise<void>>();
    const pendingLimit = this.#options.concurrency + this.#options.parallelCommits;
    const worker = async (): Promise<void> => {
      while (!signal.aborted && !outcome.failed && budget > 0 && performance.now() < deadline) {
        budget--;
        try {
          const embedded = await this.#embedNext(signal);
          if (!embedded) return;
          const write = this.#commit(embedded).catch(fail);
          writes.add(write);
          void write.finally(() => writes.delete(write));
          while (writes.size >= pendingLimit) await Promise.race(writes);
        } catch (error) {
          fail(error);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: this.#options.concurrency }, worker));
    await Promise.all(writes);
    return outcome;
  }

  /** Embeds and commits exactly one batch; false once the source has run out. */
  async step(signal: AbortSignal): Promise<boolean> {
    const embedded = await this.#embedNext(signal);
    if (!embedded) return false;
    await this.#commit(embedded);
    return true;
  }

  /** Waits for queued commits and saves a checkpoint that batches without writes advanced. */
  flush(): Promise<void> {
    return this.#committer.flush();
  }

  /** The next batch of the source, embedded (poison items isolated); null when the source has run out. */
  async #embedNext(signal: AbortSignal): Promise<Embedded | null> {
    const next = await this.#batches.next();
    if (next.done) {
      this.#ended = true;
      return null;
    }
    const batch = next.value;
    const started = performance.now();
    const deps = this.#deps;
    const options = this.#options;
    const events = this.#events;
    const release = await options.slots?.embed?.acquire(signal);
    this.#embedding++;
    try {
      const outcome = await embedIsolating(
        {
          embedder: deps.embedder,
          encode: deps.encode,
          limiter: options.limiter,
          retry: options.retry,
          timeoutMs: options.timeoutMs,
          signal,
          clock: deps.clock,
          random: deps.random,
          onRetry: (e) => events.onRetry(e),
          onEmbedderRetry: (r) => events.onEmbedderRetry(r, batch),
        },
        batch.docs,
      );
      return { batch, outcome, started };
    } finally {
      this.#embedding--;
      release?.();
    }
  }

  async #commit({ batch, outcome, started }: Embedded): Promise<void> {
    const result = await this.#committer.commit(batch, outcome.writes, outcome.failures);
    await this.#events.onCommitted(batch, result, started);
  }
}
