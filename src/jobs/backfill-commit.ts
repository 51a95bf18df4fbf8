import type { SourceWrite } from '../core/records.js';
import type { Clock } from '../ports/clock.js';
import type { JobRepository } from '../ports/jobs.js';
import type { CheckpointWrite, VectorStore } from '../ports/vector-store.js';
import type { ItemFailure } from './backfill-embed.js';
import type { BackfillBatch } from './backfill-source.js';
import type { ContiguousCursor } from './contiguous.js';

export interface CommitResult {
  readonly written: number;
  /** Sources the store refused because it already held their version or a newer one (a dual-write won). */
  readonly skipped: number;
  readonly deleted: number;
}

export interface CommitterOptions {
  readonly namespace: string;
  readonly fingerprint: string;
  /** Job id written with dead letters. */
  readonly jobId: string;
  /** Key of the pass's checkpoint row. */
  readonly checkpointKey: string;
  readonly tracker: ContiguousCursor;
  /** Dead letters the namespace had when the run started (written sources are then cleared from them). */
  readonly deadLetters: number;
  /** True while embedding calls are in flight: writes then yield the thread to them first. */
  readonly busy: () => boolean;
}

/** Batches that only skipped save their checkpoint at most this often (the next write carries it anyway). */
const SKIP_CHECKPOINT_MS = 1_000;

/**
 * Commits a pass's batches one at a time: tombstones, vectors and — in the same store transaction when the
 * store shares one with the catalog — the checkpoint of the highest contiguous completed batch, then dead
 * letters and queue acknowledgements. One at a time, so the checkpoint computed for a batch is the one
 * that commits with it.
 */
export class BatchCommitter {
  readonly #store: VectorStore;
  readonly #jobs: JobRepository;
  readonly #clock: Clock;
  readonly #o: CommitterOptions;
  #chain: Promise<unknown> = Promise.resolve();
  #deadLetters: number;
  #unsaved: CheckpointWrite | null = null;
  #lastSave = 0;

  constructor(deps: { store: VectorStore; jobs: JobRepository; clock: Clock }, options: CommitterOptions) {
    this.#store = deps.store;
    this.#jobs = deps.jobs;
    this.#clock = deps.clock;
    this.#o = options;
    this.#deadLetters = options.deadLetters;
  }

  /**
   * Queues a batch's commit. While other embedding calls are in flight the write first waits for a turn of
   * the event loop, so workers whose call just returned start their next one before the (synchronous)
   * store write blocks the thread: provider latency and writes overlap instead of convoying.
   */
  commit(
    batch: BackfillBatch,
    writes: readonly SourceWrite[],
    failures: readonly ItemFailure[],
  ): Promise<CommitResult> {
    const before = this.#o.busy() ? this.#chain.then(nextTurn) : this.#chain;
    const run = before.then(() => this.#commit(batch, writes, failures));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for queued commits and saves a checkpoint that only skipped batches advanced. */
  async flush(): Promise<void> {
    await this.#chain;
    if (this.#unsaved) await this.#save(this.#unsaved);
  }

  async #commit(
    batch: BackfillBatch,
    writes: readonly SourceWrite[],
    failures: readonly ItemFailure[],
  ): Promise<CommitResult> {
    const { namespace: ns, tracker } = this.#o;
    const next =
      batch.seq === null ? null : tracker.preview(batch.seq, batch.cursor as string, batch.scanned);
    const checkpoint = next
      ? { jobId: this.#o.checkpointKey, cursor: next.cursor, processed: next.processed }
      : null;
    const deleted = batch.deletes.length > 0 ? (await this.#store.delete(ns, batch.deletes)).written : 0;
    let result = { written: 0, skipped: 0 };
    if (writes.length > 0) {
      const shared = this.#store.capabilities.sharedCatalogTransaction;
      // `encode` validated every vector (its contract), so the store need not read them again.
      result = await this.#store.write(
        ns,
        this.#o.fingerprint,
        writes,
        checkpoint && shared ? { checkpoint, prevalidated: true } : { prevalidated: true },
      );
      if (checkpoint && !shared) await this.#jobs.saveCheckpoint(ns, checkpoint);
      if (checkpoint) this.#unsaved = null;
    } else if (checkpoint) {
      this.#unsaved = checkpoint;
      if (this.#clock.now().getTime() - this.#lastSave >= SKIP_CHECKPOINT_MS) await this.#save(checkpoint);
    }
    if (failures.length > 0) {
      await this.#jobs.addDeadLetters(
        failures.map((f) => ({
          namespace: ns,
          sourceId: f.doc.id,
          sourceVersion: f.doc.version,
          jobId: this.#o.jobId,
          code: f.error.code,
          reason: f.error.message,
          attempts: 1,
        })),
      );
      this.#deadLetters += failures.length;
    }
    if (this.#deadLetters > 0 && writes.length > 0) {
      this.#deadLetters -= await this.#jobs.clearDeadLetters(
        ns,
        writes.map((w) => w.sourceId),
      );
    }
    if (batch.ack.length > 0) await this.#jobs.ack(ns, batch.ack);
    if (batch.seq !== null) tracker.complete(batch.seq, batch.cursor as string, batch.scanned);
    return { written: result.written, skipped: result.skipped, deleted };
  }

  async #save(checkpoint: CheckpointWrite): Promise<void> {
    await this.#jobs.saveCheckpoint(this.#o.namespace, checkpoint);
    this.#lastSave = this.#clock.now().getTime();
    if (this.#unsaved === checkpoint) this.#unsaved = null;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
