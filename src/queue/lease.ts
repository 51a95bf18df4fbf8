import { hostname } from 'node:os';
import type { PgQueryable } from '../stores/pg/pool.js';
import { run } from '../stores/pg/pool.js';
import { forgetWorkersSql, heartbeatSql, staleOwnersSql } from './sql.js';

export interface LeaseOptions {
  readonly db: PgQueryable;
  readonly schema: string;
  /** A worker whose heartbeat is older than this is presumed dead and its locked jobs are released. */
  readonly leaseMs: number;
  /** Releases graphile-worker job locks held by these lock owners (`forceUnlockWorkers`). */
  readonly unlock: (owners: string[]) => Promise<void>;
  readonly now?: () => number;
}

export interface LeaseTick {
  readonly heartbeat: boolean;
  readonly released: readonly string[];
  readonly error: unknown;
}

/**
 * Worker liveness for graphile-worker, which on its own frees a dead worker's jobs only after 4 hours.
 * Each worker upserts a heartbeat row (database time); on every tick it also looks for jobs locked longer
 * than the lease by an owner without a live heartbeat, and releases them so a survivor takes the range
 * over — at-least-once delivery, made safe by the versioned writes and the range checkpoint.
 *
 * After a connection loss a worker releases nothing until it has itself been back for a full lease: every
 * worker's heartbeat lapsed during an outage, and the others need that long to renew theirs.
 */
export class WorkerLease {
  readonly #o: LeaseOptions;
  readonly #now: () => number;
  #owner: string | null = null;
  #connectedSince: number | null = null;

  constructor(options: LeaseOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** The graphile-worker pool id this process locks jobs as (known once the pool starts; null while none runs). */
  setOwner(owner: string | null): void {
    this.#owner = owner;
  }

  /** Heartbeat, then release the locks of lapsed workers. Never throws: failures are returned. */
  async tick(): Promise<LeaseTick> {
    const { db, schema, leaseMs } = this.#o;
    try {
      if (this.#owner) {
        await run(db, 'renew the worker lease', heartbeatSql(schema), [
          this.#owner,
          hostname(),
          process.pid,
          leaseMs,
        ]);
      }
      this.#connectedSince ??= this.#now();
    } catch (error) {
      this.#connectedSince = null;
      return { heartbeat: false, released: [], error };
    }
    if (this.#now() - (this.#connectedSince ?? this.#now()) < leaseMs)
      return { heartbeat: true, released: [], error: null };
    try {
      const stale = (await run<{ id: string }>(db, 'find lapsed workers', staleOwnersSql(schema), [leaseMs]))
        .map((r) => r.id)
        .filter((id) => id !== this.#owner);
      if (stale.length === 0) return { heartbeat: true, released: [], error: null };
      await this.#o.unlock(stale);
      await run(db, 'forget lapsed workers', forgetWorkersSql(schema), [stale]);
      return { heartbeat: true, released: stale, error: null };
    } catch (error) {
      return { heartbeat: true, released: [], error };
    }
  }

  /** Removes this worker's row on a clean stop, so status stops listing it. */
  async release(): Promise<void> {
    if (!this.#owner) return;
    await run(this.#o.db, 'end the worker lease', forgetWorkersSql(this.#o.schema), [[this.#owner]]).catch(
      () => undefined,
    );
  }
}
