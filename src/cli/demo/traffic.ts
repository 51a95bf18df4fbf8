import type { QueryObserver, QueryResponse, ShadowEvent, UnmigratedHitsEvent } from '../../app/query.js';
import { overlapAt, rbo } from '../../core/agreement.js';
import type { DemoState } from './types.js';

/** What the live queries of one stage saw: answered, failed, latency, routing and strategy facts. */
export interface TrafficWindow {
  readonly queries: number;
  readonly errors: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Responses built from two spaces without a fusion policy (must stay 0: invariant 2). */
  readonly mixedVersion: number;
  /** Queries that read the new namespace (served, fused or shadow). */
  readonly readNew: number;
  /** Queries whose hits came (at least partly) from the new namespace. */
  readonly servedNew: number;
  /** Queries answered by fusing both namespaces (lazy, and percentage-routed progressive reads). */
  readonly fused: number;
  /** Shadow reads compared with the served ones: samples, mean overlap@k and RBO. */
  readonly shadow: { readonly samples: number; readonly overlap: number | null; readonly rbo: number | null };
  /** Lazy: old-space documents re-embedded because a query served them (embed-on-read writes). */
  readonly reembeds: number;
  /** Lazy: served unmigrated documents left to the backfill's priority queue. */
  readonly queued: number;
  /** The first failure's message, if any query failed. */
  readonly firstError: string | null;
}

/**
 * Watches the app's query path (the same observer hook the migration service uses) and summarises each
 * stage's live traffic. Evaluations run on a private, unobserved engine, so they never count here.
 */
export class TrafficRecorder implements QueryObserver {
  readonly #alias: string;
  readonly #target: string;
  #latencies: number[] = [];
  #errors = 0;
  #mixed = 0;
  #readNew = 0;
  #servedNew = 0;
  #fused = 0;
  #shadow = { samples: 0, overlap: 0, rbo: 0 };
  #reembeds = 0;
  #queued = 0;
  #firstError: string | null = null;
  /** Distinct documents re-embedded on read over the whole migration. */
  readonly reembedded = new Set<string>();
  #targetFingerprint: string;

  constructor(alias: string, target: string, targetFingerprint: string) {
    this.#alias = alias;
    this.#target = target;
    this.#targetFingerprint = targetFingerprint;
  }

  onQuery(response: QueryResponse): void {
    if (response.trace.alias !== this.#alias) return;
    this.#latencies.push(response.trace.tookMs);
    if (response.trace.mixedVersion) this.#mixed++;
    if (response.trace.reads.some((r) => r.namespace === this.#target)) this.#readNew++;
    if (response.trace.fingerprints.includes(this.#targetFingerprint)) this.#servedNew++;
    if (response.trace.fusion !== null) this.#fused++;
  }

  onShadow(event: ShadowEvent): void {
    if (event.alias !== this.#alias) return;
    this.#shadow.samples++;
    this.#shadow.overlap += overlapAt(event.served.ids, event.shadow.ids, event.k);
    this.#shadow.rbo += rbo(event.served.ids, event.shadow.ids, { depth: event.k });
  }

  onUnmigratedHits(event: UnmigratedHitsEvent): void {
    if (event.namespace !== this.#target) return;
    this.#reembeds += event.writes.length;
    for (const w of event.writes) this.reembedded.add(w.sourceId);
    this.#queued += event.sourceIds.length - event.writes.length;
  }

  failed(error: unknown): void {
    this.#errors++;
    this.#firstError ??= error instanceof Error ? error.message : String(error);
  }

  /** The stage's summary; counters start over. */
  window(): TrafficWindow {
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const q = (p: number): number | null =>
      sorted.length === 0
        ? null
        : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number);
    const s = this.#shadow;
    const out: TrafficWindow = Object.freeze({
      queries: sorted.length + this.#errors,
      errors: this.#errors,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      mixedVersion: this.#mixed,
      readNew: this.#readNew,
      servedNew: this.#servedNew,
      fused: this.#fused,
      shadow: Object.freeze({
        samples: s.samples,
        overlap: s.samples ? s.overlap / s.samples : null,
        rbo: s.samples ? s.rbo / s.samples : null,
      }),
      reembeds: this.#reembeds,
      queued: this.#queued,
      firstError: this.#firstError,
    });
    this.#latencies = [];
    this.#errors =
      this.#mixed =
      this.#readNew =
      this.#servedNew =
      this.#fused =
      this.#reembeds =
      this.#queued =
        0;
    this.#shadow = { samples: 0, overlap: 0, rbo: 0 };
    this.#firstError = null;
    return out;
  }
}

/**
 * Answers `count` golden queries through the alias, one after another, as an application would — while
 * whatever runs beside it (a backfill chunk) keeps going. Failures are counted, never hidden: the demo
 * reports them and its tests require none.
 */
export async function serveTraffic(state: DemoState, count: number): Promise<void> {
  const m = state.migration;
  const queries = state.golden?.queries ?? [];
  if (!m || queries.length === 0) return;
  const signal = state.ctx.interrupt();
  for (let i = 0; i < count && !signal.aborted; i++) {
    const query = queries[m.cursor++ % queries.length];
    if (!query) continue;
    try {
      await state.app.search(state.alias, { text: query.text, k: 10 });
    } catch (error) {
      m.recorder.failed(error);
    }
  }
}
