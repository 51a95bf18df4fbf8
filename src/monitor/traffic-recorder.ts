import type { QueryObserver, QueryResponse, ShadowEvent } from '../app/query.js';
import { LatencySketch } from '../core/latency-sketch.js';
import { laterIso, type TrafficBucket, trafficKey } from '../core/traffic.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { TrafficRepository } from '../ports/traffic.js';

/**
 * A query observer that aggregates traffic in memory and writes it to a `TrafficRepository` in the
 * background: a query pays a few map updates, never a database write. Rows are per minute, alias,
 * namespace and role (see `TrafficBucket`). A failed flush keeps the data in memory for the next one
 * and is reported through `onError`, never thrown into the query path.
 *
 * @example
 * const recorder = new TrafficRecorder(traffic).start();
 * const detach = app.queries.observe(recorder);
 * // ... serve queries ...
 * detach();
 * await recorder.close(); // final flush, before app.close()
 */
export interface TrafficRecorderOptions {
  readonly clock?: Clock;
  /** Background flush period (default 5 s). `start()` arms the timer; tests call `flush()` by hand. */
  readonly flushIntervalMs?: number;
  /** Buffered rows that trigger an early background flush (default 5,000). */
  readonly maxBufferedRows?: number;
  /** Rows older than this are pruned after a flush, at most hourly (default 7 days; 0 keeps everything). */
  readonly retentionMs?: number;
  /** Background flush failures (the rows stay buffered and are retried on the next flush). */
  readonly onError?: (error: unknown) => void;
}

interface Pending {
  bucket: Omit<TrafficBucket, 'latency'>;
  sketch: LatencySketch;
}

const HOUR_MS = 3_600_000;

function mergePending(a: Pending, b: Pending): Pending {
  a.sketch.merge(b.sketch);
  return {
    sketch: a.sketch,
    bucket: {
      ...a.bucket,
      queries: a.bucket.queries + b.bucket.queries,
      mixed: a.bucket.mixed + b.bucket.mixed,
      latencySumMs: a.bucket.latencySumMs + b.bucket.latencySumMs,
      latencyMaxMs: Math.max(a.bucket.latencyMaxMs, b.bucket.latencyMaxMs),
      lastAt: laterIso(a.bucket.lastAt, b.bucket.lastAt),
    },
  };
}

export class TrafficRecorder implements QueryObserver {
  readonly #repository: TrafficRepository;
  readonly #clock: Clock;
  readonly #options: TrafficRecorderOptions;
  #buffer = new Map<string, Pending>();
  #flushing: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #lastPrune = 0;
  #closed = false;

  constructor(repository: TrafficRepository, options: TrafficRecorderOptions = {}) {
    this.#repository = repository;
    this.#clock = options.clock ?? systemClock;
    this.#options = options;
  }

  /** Rows waiting for the next flush. */
  get pending(): number {
    return this.#buffer.size;
  }

  /** Arms the periodic flush (the timer does not keep the process alive). */
  start(): this {
    if (this.#timer || this.#closed) return this;
    this.#timer = setInterval(() => this.#background(), this.#options.flushIntervalMs ?? 5_000);
    this.#timer.unref();
    return this;
  }

  onQuery(response: QueryResponse): void {
    if (this.#closed) return;
    try {
      this.#record(response);
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  /** A shadow read, taken after its query was answered: counted against the shadow namespace. */
  onShadow(event: ShadowEvent): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    const key = {
      minute: Math.floor(now.getTime() / 60_000),
      alias: event.alias,
      collection: event.collection,
      lastAt: now.toISOString(),
    };
    this.#add({ ...key, namespace: event.shadow.namespace, role: 'shadow' }, 0, event.shadow.latencyMs);
  }

  /** Writes every buffered row now; resolves with the number written. Rethrows a failed write (rows kept). */
  flush(): Promise<number> {
    const run = this.#flushing.then(() => this.#flushOnce());
    this.#flushing = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer and flushes what is buffered. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  #record(response: QueryResponse): void {
    const { trace } = response;
    const now = this.#clock.now();
    const at = now.toISOString();
    const minute = Math.floor(now.getTime() / 60_000);
    const mixed = trace.mixedVersion ? 1 : 0;
    const base = { minute, alias: trace.alias, collection: trace.collection, lastAt: at };
    this.#add({ ...base, namespace: '', role: 'response' }, mixed, trace.tookMs);
    for (const read of trace.reads) {
      this.#add(
        { ...base, namespace: read.namespace, role: read.role },
        read.role === 'shadow' ? 0 : mixed,
        read.latencyMs,
      );
    }
    if (this.#buffer.size >= (this.#options.maxBufferedRows ?? 5_000)) this.#background();
  }

  #add(
    key: Pick<TrafficBucket, 'minute' | 'alias' | 'collection' | 'namespace' | 'role' | 'lastAt'>,
    mixed: number,
    ms: number,
  ): void {
    const latency = Number.isFinite(ms) && ms >= 0 ? ms : 0;
    const sketch = new LatencySketch();
    sketch.add(latency);
    const one: Pending = {
      bucket: { ...key, queries: 1, mixed, latencySumMs: latency, latencyMaxMs: latency },
      sketch,
    };
    const k = trafficKey(key);
    const held = this.#buffer.get(k);
    this.#buffer.set(k, held ? mergePending(held, one) : one);
  }

  async #flushOnce(): Promise<number> {
    if (this.#buffer.size === 0) return 0;
    const taken = this.#buffer;
    this.#buffer = new Map();
    const buckets = [...taken.values()].map((p) =>
      Object.freeze({ ...p.bucket, latency: p.sketch.toJSON() }),
    );
    try {
      await this.#repository.record(buckets);
    } catch (error) {
      this.#restore(taken);
      throw error;
    }
    await this.#maybePrune();
    return buckets.length;
  }

  /** Puts rows of a failed flush back, merged with anything recorded since. */
  #restore(taken: Map<string, Pending>): void {
    for (const [k, p] of taken) {
      const now = this.#buffer.get(k);
      this.#buffer.set(k, now ? mergePending(p, now) : p);
    }
  }

  async #maybePrune(): Promise<void> {
    const retention = this.#options.retentionMs ?? 7 * 24 * HOUR_MS;
    const now = this.#clock.now().getTime();
    if (retention <= 0 || now - this.#lastPrune < HOUR_MS) return;
    this.#lastPrune = now;
    await this.#repository.prune(new Date(now - retention));
  }

  #background(): void {
    this.flush().catch((error: unknown) => this.#options.onError?.(error));
  }
}
