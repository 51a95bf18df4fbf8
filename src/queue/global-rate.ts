import type { RateLimits } from '../jobs/rate-limit.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { num, type PgQueryable, run } from '../stores/pg/pool.js';
import { deleteBucketSql, peekBucketSql, takeBucketSql, upsertBucketSql } from './sql.js';

/** What the rate-limited embedder asks of a limiter: the local `RateLimiter` and `PgRateLimiter` both fit. */
export interface Limiter {
  readonly countsTokens: boolean;
  acquire(requests: number, tokens: number, signal?: AbortSignal): Promise<void>;
}

/** Bucket names of a plan's global limits. */
export function bucketNames(planId: string): { requests: string; tokens: string } {
  return { requests: `${planId}:requests`, tokens: `${planId}:tokens` };
}

/**
 * Creates, re-rates or removes a plan's shared buckets: the limit a backfill declares (requests and tokens
 * per minute of the provider key) holds for all its workers together, however many there are.
 */
export async function configureBuckets(
  db: PgQueryable,
  schema: string,
  planId: string,
  limits: RateLimits,
): Promise<void> {
  const names = bucketNames(planId);
  for (const [name, perMinute] of [
    [names.requests, limits.requestsPerMinute],
    [names.tokens, limits.tokensPerMinute],
  ] as const) {
    if (perMinute) await run(db, 'configure a rate limit', upsertBucketSql(schema), [name, perMinute]);
    else await run(db, 'remove a rate limit', deleteBucketSql(schema), [name]);
  }
}

/**
 * One token bucket shared through a PostgreSQL row: a take is a single UPDATE that refills by elapsed
 * database time and spends only when enough is there, so concurrent takers on any machine never overspend
 * (the row lock serialises them and READ COMMITTED re-checks the condition on the newest row version).
 * When the bucket is short, the taker sleeps for the computed deficit and tries again.
 */
export class PgRateBucket {
  readonly name: string;
  readonly #db: PgQueryable;
  readonly #schema: string;
  readonly #clock: Clock;
  readonly #random: () => number;

  constructor(
    db: PgQueryable,
    schema: string,
    name: string,
    options: { clock?: Clock; random?: () => number } = {},
  ) {
    this.#db = db;
    this.#schema = schema;
    this.name = name;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  /** Waits until `amount` may be spent, then spends it. Resolves at once when the bucket does not exist. */
  async take(amount: number, signal?: AbortSignal): Promise<void> {
    if (!(amount > 0)) return;
    for (;;) {
      signal?.throwIfAborted();
      const taken = await run(this.#db, 'take from a rate limit', takeBucketSql(this.#schema), [
        this.name,
        amount,
      ]);
      if (taken.length > 0) return;
      const row = (
        await run<{ level: number; per_minute: number; capacity: number }>(
          this.#db,
          'read a rate limit',
          peekBucketSql(this.#schema),
          [this.name],
        )
      )[0];
      if (!row) return;
      const need = Math.min(amount, num(row.capacity)) - num(row.level);
      const waitMs = (Math.max(0, need) / num(row.per_minute)) * 60_000;
      // A little jitter keeps workers that woke together from colliding on the row again.
      await this.#clock.sleep(Math.max(2, Math.ceil(waitMs + this.#random() * 10)), signal);
    }
  }
}

/** A plan's global requests-per-minute and tokens-per-minute limits, shared by every worker. */
export class PgRateLimiter implements Limiter {
  readonly #requests: PgRateBucket | null;
  readonly #tokens: PgRateBucket | null;

  constructor(db: PgQueryable, schema: string, planId: string, limits: RateLimits, clock?: Clock) {
    const names = bucketNames(planId);
    const opts = clock ? { clock } : {};
    this.#requests = limits.requestsPerMinute ? new PgRateBucket(db, schema, names.requests, opts) : null;
    this.#tokens = limits.tokensPerMinute ? new PgRateBucket(db, schema, names.tokens, opts) : null;
  }

  get countsTokens(): boolean {
    return this.#tokens !== null;
  }

  async acquire(requests: number, tokens: number, signal?: AbortSignal): Promise<void> {
    if (this.#requests) await this.#requests.take(requests, signal);
    if (this.#tokens && tokens > 0) await this.#tokens.take(tokens, signal);
  }
}
