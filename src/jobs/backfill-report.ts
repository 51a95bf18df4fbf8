import { type ErrorCode, ReembedError } from '../core/errors.js';
import type { JobCounters } from '../ports/jobs.js';

/** What a backfill run reports while it runs (`progress` events) and when it stops. */
export interface BackfillProgress {
  readonly jobId: string;
  readonly namespace: string;
  /** Sources of the pass accounted for (embedded, deleted, already current, dead-lettered). */
  readonly done: number;
  /**
   * Source rows the pass scans: live documents plus deleted ones (their tombstones are applied too), plus
   * the hottest documents of a progressive pass, which it visits twice. `live` says how many are live.
   */
  readonly total: number;
  /** Live source documents when the pass was counted (null before the count arrives, or when retrying dead letters). */
  readonly live: number | null;
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

export function zeroCounters(): JobCounters {
  return { processed: 0, written: 0, skipped: 0, deadLettered: 0, retries: 0 };
}

export function addCounters(a: JobCounters, b: Partial<JobCounters>): JobCounters {
  return {
    processed: a.processed + (b.processed ?? 0),
    written: a.written + (b.written ?? 0),
    skipped: a.skipped + (b.skipped ?? 0),
    deadLettered: a.deadLettered + (b.deadLettered ?? 0),
    retries: a.retries + (b.retries ?? 0),
  };
}

export function errorInfo(error: unknown): { code: ErrorCode | 'INTERNAL'; message: string } {
  if (error instanceof ReembedError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
