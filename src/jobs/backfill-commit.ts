import type { SourceWrite } from '../core/records.js';
import type { Semaphore } from '../core/semaphore.js';
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
  /**
   * Dead letters the namespace had when the run started, or an upper bound (`Infinity` when only their
   * presence is known): while it is above 0, written sources are cleared from them.
   */
  readonly deadLetters: number;
  /** True while embedding calls are in flight: writes then yield the thread to them first. */
  readonly busy: () => boolean;
  /**
   * Commits that may run at once (default 1). Above 1 only for stores with `concurrentWrites`: each
   * commit then carries the highest checkpoint its batches and the batches already committed allow.
   */
  readonly parallel?: number;
  /** A bound shared with other committers (a worker's ranges): each commit holds one of its permits. */
  readonly slot?: Semaphore | undefined;
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
 * Commits a pass's batches, in this order: tombstones; dead letters of the poison items; vectors and —
 * in the same store transaction when the store shares one with the catalog — the checkpoint of the
 * highest contiguous completed batch; then the clearing of dead letters of sources now written, and queue
 * acknowledgements. Each step records what the next would make unrecoverable if a crash came between
 * them (see `#commit`). One commit at a time by default; up to `parallel` on a store whose writes may
 * run concurrently (Postgres), where a commit's checkpoint covers only batches that committed before it
 * started plus its own, and the store never moves a checkpoint backwards.
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
  /** Drains running; counted synchronously, so a commit queued as a drain ends is never left behind. */
  #active = 0;
  readonly #drains = new Set<Promise<void>>();
  readonly #parallel: number;
  /** `processed` of the highest checkpoint committed or saved so far. */
  #sent: number;
  #deadLetters: number;
  #unsaved: CheckpointWrite | null = null;
  #lastSave = 0;

  constructor(deps: { store: VectorStore; jobs: JobRepository; clock: Clock }, options: CommitterOptions) {
    this.#store = deps.store;
    this.#jobs = deps.jobs;
    this.#clock = deps.clock;
    this.#o = options;
    this.#deadLetters = options.deadLetters;
    this.#parallel = Math.max(1, Math.floor(options.parallel ?? 1));
    this.#sent = options.tracker.processed;
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
    if (this.#active < this.#parallel) {
      this.#active++;
      const drain: Promise<void> = this.#drain().finally(() => this.#drains.delete(drain));
      this.#drains.add(drain);
    }
    return done;
  }

  /** Waits for queued commits and saves a checkpoint that only skipped batches advanced. */
  async flush(): Promise<void> {
    while (this.#drains.size > 0) await Promise.all(this.#drains);
    if (this.#unsaved) await this.#save(this.#unsaved);
    // Parallel commits that finished the prefix may have carried no checkpoint: every batch has committed
    // now, so the prefix is saved on its own.
    const { tracker } = this.#o;
    if (tracker.processed > this.#sent) {
      await this.#save({
        jobId: this.#o.checkpointKey,
        cursor: tracker.cursor,
        processed: tracker.processed,
      });
      this.#sent = tracker.processed;
    }
  }

  async #drain(): Promise<void> {
    try {
      if (this.#o.busy()) await nextTurn();
      while (this.#queue.length > 0) {
        // The permit first: batches that arrive while it is awaited join the group.
        const release = await this.#o.slot?.acquire();
        const group = this.#take();
        if (group.length === 0) {
          release?.();
          break;
        }
        try {
          const result = await this.#commit(group);
          const last = group.length - 1;
          for (let i = 0; i <= last; i++) (group[i] as Queued).resolve(i === last ? result : null);
        } catch (error) {
          for (const q of group) q.reject(error);
        } finally {
          release?.();
        }
        if (this.#queue.length > 0 && this.#o.busy()) await nextTurn();
      }
    } finally {
      this.#active--;
    }
  }

  /**
   * The queued batches that commit together: in queue order, up to `MAX_GROUP_SOURCES` sources, and a
   * fair share of the queue when commits run in parallel (parallel connections beat one large statement).
   */
  #take(): Queued[] {
    const share = Math.ceil(this.#queue.length / this.#parallel);
    let sources = 0;
    let n = 0;
    for (const q of this.#queue) {
      const size = q.writes.length + q.batch.deletes.length;
      if (n > 0 && (sources + size > MAX_GROUP_SOURCES || n >= share)) break;
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
    // In parallel, the prefix may have moved on by commits that carried no checkpoint: carry it here.
    const through =
      next ??
      (this.#parallel > 1 && tracker.processed > this.#sent
        ? { cursor: tracker.cursor, processed: tracker.processed }
        : null);
    const checkpoint = through
      ? { jobId: this.#o.checkpointKey, cursor: through.cursor, processed: through.processed }
      : null;
    const deletes = group.flatMap((q) => q.batch.deletes);
    const writes = group.length === 1 ? (group[0] as Queued).writes : group.flatMap((q) => q.writes);
    const failures = group.flatMap((q) => q.failures);
    const deleted = deletes.length > 0 ? (await this.#store.delete(ns, deletes)).written : 0;
    // Dead letters before the checkpoint: once the checkpoint has moved past a poison item, its dead
    // letter must already be on record. The other order loses it to a crash in between — the resume
    // starts after the item, and nothing says it is missing. In this order such a crash leaves the
    // letters with the checkpoint short of them: the resume repeats the batch and records them again.
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
      if (checkpoint) {
        this.#unsaved = null;
        this.#sent = Math.max(this.#sent, checkpoint.processed);
      }
    } else if (checkpoint) {
      this.#unsaved = checkpoint;
      if (this.#clock.now().getTime() - this.#lastSave >= SKIP_CHECKPOINT_MS) await this.#save(checkpoint);
    }
    // Records that say work is still owed — an older dead letter of a source written now, a queue entry —
    // go only after the write committed: a crash before leaves a stale letter (`retry-dead` clears it
    // without an embedding call) or a queue entry the next pass finds current, never a source nobody owes.
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
    this.#sent = Math.max(this.#sent, checkpoint.processed);
    if (this.#unsaved === checkpoint) this.#unsaved = null;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
