import { embedSources } from '../app/embed-sources.js';
import type { Reembed } from '../app/reembed.js';
import { ReembedError } from '../core/errors.js';
import type { Namespace } from '../core/namespace.js';
import { RateLimiter, type RateLimits } from '../jobs/rate-limit.js';
import type { Clock } from '../ports/clock.js';
import type { Embedder } from '../ports/embedder.js';
import type { PgBackend } from '../stores/pg/backend.js';
import { retryDatabase } from './db-retry.js';
import { LearnedPgLimiter, type Limiter, PgRateLimiter } from './global-rate.js';
import { rateLimitedEmbedder } from './limited-embedder.js';
import { processRange, type RangeOutcome, type RangeRow, type RangeSlots } from './range.js';

export interface RangeTaskHooks {
  /** The lock owner id the worker currently runs as (recorded on the range row). */
  workerId(): string;
  onOutcome(outcome: RangeOutcome, ms: number): void;
  onFailure(key: string, error: unknown): void;
  onDbRetry(event: { key: string; attempt: number; delayMs: number; error: unknown }): void;
}

export interface RangeTaskOptions {
  /** Bounds on this worker's embedding calls and store writes in flight, across its ranges. */
  readonly slots?: RangeSlots;
  readonly limits?: RateLimits;
  readonly dbRetryMs: number;
  readonly clock: Clock;
  readonly random: () => number;
}

/** A graphile-worker task body: `(payload, helpers) => Promise<void>`. */
export type RangeTask = (payload: unknown, helpers: { abortSignal: AbortSignal }) => Promise<void>;

/**
 * The task a worker registers for range jobs: resolves the namespace's embedder once per plan generation
 * (wrapped in this worker's limits and the plan's global limits), then processes the range, riding out
 * database failures from its checkpoint for up to `dbRetryMs` before handing the job back to the queue.
 */
export function makeRangeTask(
  app: Reembed,
  backend: PgBackend,
  options: RangeTaskOptions,
  hooks: RangeTaskHooks,
): RangeTask {
  const { clock, random } = options;
  const schema = backend.config.schema;
  const local =
    options.limits?.requestsPerMinute || options.limits?.tokensPerMinute
      ? new RateLimiter(options.limits, clock)
      : null;
  // Per plan generation: its namespace and its embedder behind the rate limits, looked up once.
  const resolved = new Map<string, Promise<{ ns: Namespace; embedder: Embedder }>>();
  const resolve = (row: RangeRow): Promise<{ ns: Namespace; embedder: Embedder }> => {
    const cacheKey = `${row.plan_id}#${row.generation}`;
    let held = resolved.get(cacheKey);
    if (!held) {
      held = (async () => {
        const ns = await backend.catalog.getNamespace(row.namespace);
        const global = new PgRateLimiter(backend.pool, schema, row.plan_id, row.settings, clock);
        const base = await app.embedders.get(ns.space);
        const limiters: Limiter[] = [...(local ? [local] : []), global];
        // A provider that announces its limits: the workers share what they learn through PostgreSQL,
        // taken by the embedder right before each request (so its retries are paced too).
        const learned = base.rateLimits?.bind(base);
        if (learned && base.shareRateLimit)
          base.shareRateLimit(new LearnedPgLimiter(backend.pool, schema, row.plan_id, learned, { clock }));
        return { ns, embedder: rateLimitedEmbedder(base, limiters) };
      })();
      held.catch(() => resolved.delete(cacheKey));
      resolved.set(cacheKey, held);
    }
    return held;
  };
  const namespaceFor = async (row: RangeRow): Promise<Namespace> => (await resolve(row)).ns;
  const embedderFor = async (row: RangeRow): Promise<Embedder> => (await resolve(row)).embedder;
  return async (payload, helpers) => {
    const key = (payload as { key?: unknown } | null)?.key;
    if (typeof key !== 'string')
      throw new ReembedError('INVALID_INPUT', 'A backfill range job needs a string "key".');
    const started = performance.now();
    try {
      const outcome = await retryDatabase(
        () =>
          processRange(
            {
              backend,
              workerId: hooks.workerId(),
              namespaceFor,
              embedderFor,
              ...(options.slots ? { slots: options.slots } : {}),
              encode: embedSources,
              clock,
              random,
            },
            key,
            helpers.abortSignal,
          ),
        {
          budgetMs: options.dbRetryMs,
          clock,
          random,
          signal: helpers.abortSignal,
          onRetry: (attempt, delayMs, error) => hooks.onDbRetry({ key, attempt, delayMs, error }),
        },
      );
      hooks.onOutcome(outcome, performance.now() - started);
    } catch (error) {
      hooks.onFailure(key, error);
      throw error;
    }
  };
}
