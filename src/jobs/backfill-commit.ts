import type { SourceWrite } from '../core/records.js';
import type { Clock } from '../ports/clock.js';
import type { JobRepository } from '../ports/jobs.js';
import type { CheckpointWrite, VectorStore } from '../ports/vector-store.js';
import type { ItemFailure } from './backfill-embed.js';
import type { BackfillBatch } from './backfill-source.js';
import type { ContiguousCursor } from './contiguous.js';

/** What one commit wrote: a group of batches that finished embedding together. */
export interface CommitResult {
  /** The batches of the group, in the order they were queued. */
  readonly batches: readonly BackfillBatch[];
  readonly written: number;
  /** Sources the store refused because it already held their version or a newer one (a dual-write won). */
  readonly skipped: number;
  readonly deleted: number;
  readonly failures: readonly ItemFailure[];
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
/** A group commit carries at most this many sources (bounds a transaction's size and memory). */
const MAX_GROUP_SOURCES = 4_096;

interface Queued {
  readonly batch: BackfillBatch;
  readonly writes: readonly SourceWrite[];
  readonly failures: readonly ItemFailure[];
  readonly resolve: (result: CommitResult | null) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Commits a pass's batches, one commit at a time: tombstones, vectors and — in the same store transaction
 * when the store shares one with the catalog — the checkpoint of the highest contiguous completed batch,
 * then dead letters and queue acknowledgements. One commit at a time, so the checkpoint computed for a
 * commit is the one that commits with it.
 *
 * Group commit: batches that finish embedding while a commit runs wait for it and then commit together,
 * as one store write with one checkpoint. They were all in flight already, so a crash still repeats
 * only the batches in flight (invariant 6), and a fast embedder no longer pays one transaction per batch.
 */
export class BatchCommitter {
  readonly #store: VectorStore;
  readonly #jobs: JobRepository;
  readonly #clock: Clock;
  readonly #o: CommitterOptions;
  readonly #queue: Queued[] = [];
  /** Set and cleared synchronously, so a commit queued as the drain ends is never left behind. */
  #active = false;
  #draining: Promise<void> = Promise.resolve();
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
   * Queues a batch's commit. Resolves when it committed: with the result of its group for the last batch
   * of a group, with null for the others (so a caller counts each group once). While embedding calls are
   * in flight a commit first waits for a turn of the event loop, so workers whose call just returned start
   * their next one before the (synchronous) store write blocks the thread: provider latency and writes
   * overlap instead of convoying.
   */
  commit(
    batch: BackfillBatch,
    writes: readonly SourceWrite[],
    failures: readonly ItemFailure[],
  ): Promise<CommitResult | null> {
    const done = new Promise<CommitResult | null>((resolve, reject) => {
      this.#queue.push({ batch, writes, failures, resolve, reject });
    });
    if (!this.#active) {
      this.#active = true;
      this.#draining = this.#drain();
    }
    return done;
  }

  /** Waits for queued commits and saves a checkpoint that only skipped batches advanced. */
  async flush(): Promise<void> {
    while (this.#active) await this.#draining;
    if (this.#unsaved) await this.#save(this.#unsaved);
  }

  async #drain(): Promise<void> {
    try {
      if (this.#o.busy()) await nextTurn();
      while (this.#queue.length > 0) {
        const group = this.#take();
        try {
          const result = await this.#commit(group);
          const last = group.length - 1;
          for (let i = 0; i <= last; i++) (group[i] as Queued).resolve(i === last ? result : null);
        } catch (error) {
          for (const q of group) q.reject(error);
        }
        if (this.#queue.length > 0 && this.#o.busy()) await nextTurn();
      }
    } finally {
      this.#active = false;
    }
  }

  /** The queued batches that commit together: in queue order, up to `MAX_GROUP_SOURCES` sources. */
  #take(): Queued[] {
    let sources = 0;
    let n = 0;
    for (const q of this.#queue) {
      const size = q.writes.length + q.batch.deletes.length;
      if (n > 0 && sources + size > MAX_GROUP_SOURCES) break;
      sources += size;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #commit(group: readonly Queued[]): Promise<CommitResult> {
    const { namespace: ns, tracker } = this.#o;
    const batches = group.map((q) => q.batch);
    const ordered = batches.filter((b) => b.seq !== null) as (BackfillBatch & { seq: number })[];
    const next =
      ordered.length === 0
        ? null
        : tracker.preview(
            ordered.map((b) => ({ seq: b.seq, cursor: b.cursor as string, scanned: b.scanned })),
          );
    const checkpoint = next
      ? { jobId: this.#o.checkpointKey, cursor: next.cursor, processed: next.processed }
      : null;
    const deletes = group.flatMap((q) => q.batch.deletes);
    const writes = group.length === 1 ? (group[0] as Queued).writes : group.flatMap((q) => q.writes);
    const failures = group.flatMap((q) => q.failures);
    const deleted = deletes.length > 0 ? (await this.#store.delete(ns, deletes)).written : 0;
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
    const ack = batches.flatMap((b) => b.ack);
    if (ack.length > 0) await this.#jobs.ack(ns, ack);
    for (const b of ordered) tracker.complete(b.seq, b.cursor as string, b.scanned);
    return { batches, written: result.written, skipped: result.skipped, deleted, failures };
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
