import type { RateLimits } from '../jobs/rate-limit.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { num, type PgQueryable, run } from '../stores/pg/pool.js';
import {
  deleteBucketSql,
  peekBucketSql,
  takeBucketSql,
  upsertBucketSql,
  upsertSizedBucketSql,
} from './sql.js';

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

/**
 * The provider's limits as the plan's workers learn them (OpenAI's `x-ratelimit-*` headers, read by the
 * embedder), shared through PostgreSQL buckets so the workers together stay under one key's limit:
 * each worker's embedder paces itself to the whole limit, and these buckets split it among them. Until
 * a limit is learned nothing is shared (the first requests find it out); a worker that learns a limit
 * writes the buckets (idempotent: every worker learns the same limit), at `utilisation` of it.
 */
export class LearnedPgLimiter implements Limiter {
  readonly countsTokens = true;
  readonly #db: PgQueryable;
  readonly #schema: string;
  readonly #names: { requests: string; tokens: string };
  readonly #learned: () => { requestsPerMinute: number | null; tokensPerMinute: number | null } | null;
  readonly #opts: { clock?: Clock };
  readonly #utilisation: number;
  #configured = '';
  #limiter: { requests: PgRateBucket | null; tokens: PgRateBucket | null } | null = null;
  #configuring: Promise<void> | null = null;

  constructor(
    db: PgQueryable,
    schema: string,
    planId: string,
    learned: () => { requestsPerMinute: number | null; tokensPerMinute: number | null } | null,
    options: { clock?: Clock; utilisation?: number } = {},
  ) {
    this.#db = db;
    this.#schema = schema;
    this.#names = bucketNames(`${planId}:learned`);
    this.#learned = learned;
    this.#opts = options.clock ? { clock: options.clock } : {};
    this.#utilisation = options.utilisation ?? 0.98;
  }

  /** The largest request seen, in tokens: the shared bucket holds two of them, so none waits on a cap. */
  #largest = 1;

  async acquire(requests: number, tokens: number, signal?: AbortSignal): Promise<void> {
    const learned = this.#learned();
    this.#largest = Math.max(this.#largest, tokens);
    if (learned) {
      const scale = (v: number | null): number | null => (v ? Math.max(1, v * this.#utilisation) : null);
      const limits = {
        requestsPerMinute: scale(learned.requestsPerMinute),
        tokensPerMinute: scale(learned.tokensPerMinute),
      };
      // Re-rate only on a real change (the learned window wobbles by a fraction of a percent).
      const key = `${roughly(limits.requestsPerMinute)}/${roughly(limits.tokensPerMinute)}/${roughly(this.#largest)}`;
      if (key !== this.#configured) {
        this.#configuring ??= (async () => {
          const names = this.#names;
          for (const [name, perMinute, largest] of [
            [names.requests, limits.requestsPerMinute, 1],
            [names.tokens, limits.tokensPerMinute, this.#largest],
          ] as const) {
            // Small: 100 ms of the limit (the provider's bucket may be near empty — every worker hit it
            // before it learned the limit — so the shared one must not allow bursts on top of the rate),
            // but two requests at least, so refill is not lost at the cap while a taker is on its way.
            if (perMinute)
              await run(this.#db, 'share a learned rate limit', upsertSizedBucketSql(this.#schema), [
                name,
                perMinute,
                Math.max(perMinute / 600, 2 * largest),
              ]);
          }
          this.#limiter = {
            requests: limits.requestsPerMinute
              ? new PgRateBucket(this.#db, this.#schema, names.requests, this.#opts)
              : null,
            tokens: limits.tokensPerMinute
              ? new PgRateBucket(this.#db, this.#schema, names.tokens, this.#opts)
              : null,
          };
          this.#configured = key;
        })().finally(() => {
          this.#configuring = null;
        });
      }
      await this.#configuring;
    }
    if (!this.#limiter) return;
    await this.#limiter.requests?.take(requests, signal);
    if (tokens > 0) await this.#limiter.tokens?.take(tokens, signal);
  }
}

/** A limit rounded to two significant digits' worth of 1%, so small re-estimates do not re-rate. */
function roughly(value: number | null): string {
  if (value === null) return '-';
  const step = 10 ** Math.max(0, Math.floor(Math.log10(value)) - 1);
  return String(Math.round(value / step) * step);
}
