import { overlapAt, rbo } from '../core/agreement.js';
import { type Migration, parseDuration } from '../core/migration.js';
import type { Backend } from '../ports/backend.js';
import type { Clock } from '../ports/clock.js';
import type { MigrationRepository } from '../ports/migrations.js';
import type {
  QueryObserver,
  QueryRequest,
  QueryResponse,
  ShadowEvent,
  UnmigratedHitsEvent,
} from './query.js';

/** Served query texts buffered between flushes, at most (the oldest are dropped beyond it). */
const MAX_BUFFERED_QUERIES = 10_000;

export interface ObserverOptions {
  readonly clock: Clock;
  /** Traffic and hit counts are written at most this often (default 5 s): never a write per query. */
  readonly flushMs?: number;
  /** How long the alias → active migration lookup is cached (default 1 s). */
  readonly cacheMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * The query-path side of migrations, as a `QueryObserver`:
 * - shadow reads become agreement samples (overlap@k, RBO, both latencies, tenant) of the alias's migration;
 * - old-space documents served by a fused (lazy) read are queued for priority re-embedding;
 * - hit counts per document (progressive migrations backfill the most-queried first) and the last read
 *   time per namespace (retirement drops only namespaces nobody reads) are accumulated and flushed.
 * Observers are synchronous; writes happen in the background and `flush()` awaits them.
 */
export class MigrationObserver implements QueryObserver {
  readonly #backend: Backend;
  readonly #migrations: MigrationRepository;
  #options: Required<Omit<ObserverOptions, 'onError'>> & Pick<ObserverOptions, 'onError'>;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #active = new Map<string, { migration: Migration | null; at: number }>();
  #reads = new Map<string, number>();
  #hits = new Map<string, string[]>();
  #served: { alias: string; at: string; text: string; tenant: string | null }[] = [];
  #lastFlush: number;

  constructor(backend: Backend, migrations: MigrationRepository, options: ObserverOptions) {
    this.#backend = backend;
    this.#migrations = migrations;
    this.#options = { flushMs: 5_000, cacheMs: 1_000, ...options };
    this.#lastFlush = options.clock.now().getTime();
  }

  /**
   * Changes the clock, flush interval or error handler (a `MigrationService` applies its own options to
   * the app's observer this way: one observer per app, so no query is recorded twice).
   */
  configure(options: Partial<ObserverOptions>): void {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.#options = { ...this.#options, ...defined };
    if (options.clock) this.#lastFlush = options.clock.now().getTime();
  }

  onQuery(response: QueryResponse, request?: QueryRequest): void {
    // Texts of queries through a shadow-routed alias, kept later only if its migration opted in.
    if (response.trace.routing === 'shadow' && typeof request?.text === 'string') {
      if (this.#served.length >= MAX_BUFFERED_QUERIES) this.#served.shift();
      this.#served.push({
        alias: response.trace.alias,
        at: this.#options.clock.now().toISOString(),
        text: request.text,
        tenant: request.filter?.tenant ?? null,
      });
    }
    for (const read of response.trace.reads)
      this.#reads.set(read.namespace, (this.#reads.get(read.namespace) ?? 0) + 1);
    if (response.hits.length > 0) {
      const ids = this.#hits.get(response.trace.collection) ?? [];
      for (const hit of response.hits) ids.push(hit.sourceId);
      this.#hits.set(response.trace.collection, ids);
    }
    if (this.#options.clock.now().getTime() - this.#lastFlush >= this.#options.flushMs)
      this.#track(this.#flushCounts());
  }

  onShadow(event: ShadowEvent): void {
    const at = this.#options.clock.now();
    this.#track(
      this.activeMigration(event.alias).then((migration) => {
        if (!migration || migration.to !== event.shadow.namespace) return;
        return this.#migrations.recordAgreement([
          {
            migrationId: migration.id,
            at: at.toISOString(),
            phase: migration.state,
            tenant: event.tenant,
            k: event.k,
            overlap: overlapAt(event.served.ids, event.shadow.ids, event.k),
            rbo: rbo(event.served.ids, event.shadow.ids, { depth: event.k }),
            servedMs: event.served.latencyMs,
            shadowMs: event.shadow.latencyMs,
          },
        ]);
      }),
    );
  }

  /**
   * Lazy migration, re-embed on hit: the query path already embedded the served old-space documents in
   * the new space (embed-on-read), so those writes land now (versioned: a newer dual-write or a
   * tombstone wins); anything it could not embed is queued for the backfill's priority lane.
   */
  onUnmigratedHits(event: UnmigratedHitsEvent): void {
    const ns = this.#backend.catalog.getNamespace(event.namespace);
    if (event.writes.length > 0) {
      this.#track(ns.then((n) => this.#backend.store.write(n.name, n.space.fingerprint, event.writes)));
    }
    const written = new Set(event.writes.map((w) => w.sourceId));
    const rest = event.sourceIds.filter((id) => !written.has(id));
    const jobs = this.#backend.jobs;
    if (jobs && rest.length > 0) this.#track(jobs.enqueue(event.namespace, rest, 1));
  }

  /** The unfinished migration of an alias (cached briefly; `invalidate` after a transition). */
  async activeMigration(alias: string): Promise<Migration | null> {
    const now = this.#options.clock.now().getTime();
    const cached = this.#active.get(alias);
    if (cached && now - cached.at < this.#options.cacheMs) return cached.migration;
    const [migration] = await this.#migrations.list({ alias, active: true });
    this.#active.set(alias, { migration: migration ?? null, at: now });
    return migration ?? null;
  }

  invalidate(alias?: string): void {
    if (alias === undefined) this.#active.clear();
    else this.#active.delete(alias);
  }

  /** Writes accumulated counts now and waits for every background write. */
  async flush(): Promise<void> {
    this.#track(this.#flushCounts());
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #flushCounts(): Promise<void> {
    const at = this.#options.clock.now();
    this.#lastFlush = at.getTime();
    const reads = this.#reads;
    const hits = this.#hits;
    const served = this.#served;
    this.#reads = new Map();
    this.#hits = new Map();
    this.#served = [];
    await this.#keepServed(served, at);
    await this.#migrations.recordReads(
      [...reads].map(([namespace, n]) => ({ namespace, reads: n, lastReadAt: at.toISOString() })),
    );
    for (const [collection, ids] of hits) await this.#backend.sources.recordHits(collection, ids);
  }

  /** Stores the served texts of aliases whose migration keeps queries (with its retention); drops the rest. */
  async #keepServed(
    served: readonly { alias: string; at: string; text: string; tenant: string | null }[],
    now: Date,
  ): Promise<void> {
    if (served.length === 0 || !this.#migrations.recordQueries) return;
    for (const alias of new Set(served.map((s) => s.alias))) {
      const migration = await this.activeMigration(alias);
      const keep = migration?.options.keepQueries;
      if (!migration || !keep) continue;
      const queries = served
        .filter((s) => s.alias === alias)
        .map((s) => ({ migrationId: migration.id, at: s.at, text: s.text, tenant: s.tenant }));
      await this.#migrations.recordQueries(queries, {
        max: keep.max,
        before: new Date(now.getTime() - parseDuration(keep.for)).toISOString(),
      });
    }
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => this.#options.onError?.(error));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }
}
