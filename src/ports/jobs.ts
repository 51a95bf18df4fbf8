import type { ErrorCode } from '../core/errors.js';
import type { CheckpointWrite } from './vector-store.js';

/** Lifecycle of a background job row. A `failed` or `aborted` job resumes from its checkpoint. */
export const JOB_STATES = ['pending', 'running', 'done', 'failed', 'aborted'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const JOB_TYPES = ['backfill', 'retire'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export interface JobCounters {
  /** Sources looked at (written, already current, dead-lettered). */
  readonly processed: number;
  readonly written: number;
  /** Sources the namespace already held at their newest version (or newer: a dual-write won). */
  readonly skipped: number;
  readonly deadLettered: number;
  readonly retries: number;
}

/**
 * Who runs a job right now, by heartbeat: a runner claims a job when it starts, refreshes `heartbeatAt`
 * while it runs and releases it when it stops. A runner that is SIGKILLed leaves its row behind, which is
 * how `migrate status` tells a backfill that runs from one that died (see `jobs/liveness.ts`).
 */
export interface JobRunner {
  /** Unique per run (`host:pid:random`). */
  readonly owner: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly heartbeatAt: string;
}

export interface Job {
  readonly kind: 'job';
  readonly id: string;
  readonly type: JobType;
  readonly namespace: string;
  readonly collection: string;
  readonly migrationId: string | null;
  readonly state: JobState;
  /**
   * Completed passes over the source. A pass's checkpoint key is `checkpointKey(job)`, so a finished job
   * that runs again starts a fresh pass (to reconcile) instead of resuming at the end.
   */
  readonly pass: number;
  readonly counters: JobCounters;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  /** The runner holding the job (its last heartbeat), or null when none does. */
  readonly runner: JobRunner | null;
}

/** Where a pass resumes: the cursor committed with the last contiguous batch. */
export interface Checkpoint {
  readonly jobId: string;
  readonly cursor: string;
  readonly processed: number;
  readonly updatedAt: string;
}

export function checkpointKey(job: Pick<Job, 'id' | 'pass'>): string {
  return `${job.id}#${job.pass}`;
}

/** A source the backfill could not embed for a reason retrying will not fix (poison item). */
export interface DeadLetter {
  readonly namespace: string;
  readonly sourceId: string;
  readonly sourceVersion: number;
  readonly jobId: string;
  readonly code: ErrorCode | 'INTERNAL';
  readonly reason: string;
  readonly attempts: number;
  readonly at: string;
}

export interface NewJob {
  readonly id: string;
  readonly type: JobType;
  readonly namespace: string;
  readonly collection: string;
  readonly migrationId?: string | null;
}

export interface JobPatch {
  readonly state?: JobState;
  readonly pass?: number;
  /** Added to the stored counters. */
  readonly add?: Partial<JobCounters>;
  readonly error?: { code: string; message: string } | null;
}

/**
 * Background-job bookkeeping: job rows, checkpoints (the same rows a store commits together with a
 * batch), dead letters, and a priority queue of sources to re-embed first (lazy migrations enqueue the
 * old-space documents that show up in results).
 */
export interface JobRepository {
  /** Creates the job or returns the existing one with that id (a re-run resumes it). */
  ensureJob(input: NewJob): Promise<Job>;
  getJob(id: string): Promise<Job | null>;
  listJobs(filter?: { namespace?: string; migrationId?: string }): Promise<Job[]>;
  updateJob(id: string, patch: JobPatch): Promise<Job>;
  /** Claims the job for `runner` (replacing any other holder) or refreshes its heartbeat. */
  heartbeat(jobId: string, runner: Pick<JobRunner, 'owner' | 'host' | 'pid'>): Promise<void>;
  /** Clears the job's runner when it is still `owner` (a runner that stops, however it stops). */
  release(jobId: string, owner: string): Promise<void>;

  checkpoint(jobId: string): Promise<Checkpoint | null>;
  /** For stores that cannot commit a checkpoint with the batch, and for passes that only skipped. */
  saveCheckpoint(namespace: string, checkpoint: CheckpointWrite): Promise<void>;

  /** Upserts by (namespace, source): a later failure replaces the reason and adds to the attempts. */
  addDeadLetters(entries: readonly Omit<DeadLetter, 'at'>[]): Promise<void>;
  listDeadLetters(
    namespace: string,
    options?: { limit?: number; afterSourceId?: string },
  ): Promise<DeadLetter[]>;
  countDeadLetters(namespace: string): Promise<number>;
  /** Removes dead letters of sources that have since been written (or deleted). */
  clearDeadLetters(namespace: string, sourceIds: readonly string[]): Promise<number>;

  /** Queues sources for priority re-embedding; a source already queued keeps its higher priority. */
  enqueue(namespace: string, sourceIds: readonly string[], priority?: number): Promise<void>;
  /** Highest priority first, oldest first; does not remove (see `ack`), so a crash loses nothing. */
  peekQueue(namespace: string, limit: number): Promise<string[]>;
  ack(namespace: string, sourceIds: readonly string[]): Promise<void>;
  queueSize(namespace: string): Promise<number>;
  /** Deletes job rows, leases, dead letters and queued sources of these namespaces (`collection delete`). */
  purge(namespaces: readonly string[]): Promise<void>;
}
