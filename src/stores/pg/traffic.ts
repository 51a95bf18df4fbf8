import type { SketchCounts } from '../../core/latency-sketch.js';
import {
  mergeTrafficBuckets,
  TRAFFIC_ROLES,
  type TrafficBucket,
  type TrafficRole,
  trafficKey,
} from '../../core/traffic.js';
import type { TrafficFilter, TrafficRepository } from '../../ports/traffic.js';
import { applyComponentSchema } from './migrations.js';
import { iso, type PgPoolLike, run, withTransaction } from './pool.js';
import { ident, literal, qualified } from './sql.js';

export const PG_TRAFFIC_COMPONENT = 'traffic';
export const PG_TRAFFIC_SCHEMA_VERSION = 1;

/** One row per minute, alias, namespace and role, as in the embedded backend (the sketch as jsonb). */
export function pgTrafficDdl(schema: string): string[] {
  const table = qualified(schema, 'traffic_minutes');
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
      minute integer NOT NULL,
      alias text NOT NULL,
      collection text NOT NULL,
      namespace text NOT NULL,
      role text NOT NULL CHECK (role IN (${TRAFFIC_ROLES.map(literal).join(', ')})),
      queries integer NOT NULL CHECK (queries >= 0),
      mixed integer NOT NULL CHECK (mixed >= 0 AND mixed <= queries),
      latency_sum_ms double precision NOT NULL,
      latency_max_ms double precision NOT NULL,
      latency jsonb NOT NULL DEFAULT '{}',
      last_at timestamptz NOT NULL,
      PRIMARY KEY (minute, alias, namespace, role)
    )`,
    `CREATE INDEX IF NOT EXISTS traffic_minutes_by_collection ON ${table} (collection, minute)`,
  ];
}

/** Statements of the repository, as strings (STYLE #6): unit-tested without a server. */
export function pgTrafficSql(schema: string) {
  const table = qualified(schema, 'traffic_minutes');
  const columns =
    'minute, alias, collection, namespace, role, queries, mixed, latency_sum_ms, latency_max_ms, latency, last_at';
  return {
    /** A new row, or nothing when the key is held (then it is locked and merged). */
    insert: `INSERT INTO ${table} (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
      ON CONFLICT (minute, alias, namespace, role) DO NOTHING`,
    selectForUpdate: `SELECT ${columns} FROM ${table}
      WHERE minute = $1 AND alias = $2 AND namespace = $3 AND role = $4 FOR UPDATE`,
    update: `UPDATE ${table} SET queries = $5, mixed = $6, latency_sum_ms = $7, latency_max_ms = $8,
      latency = $9, last_at = $10 WHERE minute = $1 AND alias = $2 AND namespace = $3 AND role = $4`,
    read: `SELECT ${columns} FROM ${table} WHERE minute >= $1 AND ($2::text IS NULL OR collection = $2)
      ORDER BY minute, alias COLLATE "C", namespace COLLATE "C", role COLLATE "C"`,
    prune: `DELETE FROM ${table} WHERE minute < $1`,
  };
}

interface Row {
  minute: number;
  alias: string;
  collection: string;
  namespace: string;
  role: string;
  queries: number;
  mixed: number;
  latency_sum_ms: number;
  latency_max_ms: number;
  latency: SketchCounts;
  last_at: Date | string;
}

function fromRow(row: Row): TrafficBucket {
  return Object.freeze({
    minute: row.minute,
    alias: row.alias,
    collection: row.collection,
    namespace: row.namespace,
    role: row.role as TrafficRole,
    queries: row.queries,
    mixed: row.mixed,
    latencySumMs: row.latency_sum_ms,
    latencyMaxMs: row.latency_max_ms,
    latency: row.latency,
    lastAt: iso(row.last_at),
  });
}

/**
 * Traffic statistics in PostgreSQL (its own `traffic` schema component). A flush merges buffered rows
 * into stored rows of the same minute in one transaction: a new key is inserted, a held one is locked and
 * merged with `mergeTrafficBuckets` (the same merge as the embedded backend), so recorders in several
 * processes add up instead of overwriting each other. Keys are taken in one order, so two flushes never
 * deadlock.
 */
export class PgTrafficRepository implements TrafficRepository {
  readonly #pool: PgPoolLike;
  readonly #sql: ReturnType<typeof pgTrafficSql>;

  private constructor(pool: PgPoolLike, schema: string) {
    this.#pool = pool;
    this.#sql = pgTrafficSql(schema);
  }

  /** Creates the table if needed (idempotent) and returns the repository. */
  static async open(pool: PgPoolLike, options: { schema: string }): Promise<PgTrafficRepository> {
    ident(options.schema);
    await applyComponentSchema(
      pool,
      options.schema,
      PG_TRAFFIC_COMPONENT,
      PG_TRAFFIC_SCHEMA_VERSION,
      pgTrafficDdl(options.schema),
    );
    return new PgTrafficRepository(pool, options.schema);
  }

  async record(buckets: readonly TrafficBucket[]): Promise<void> {
    if (buckets.length === 0) return;
    const ordered = [...buckets].sort((a, b) => (trafficKey(a) < trafficKey(b) ? -1 : 1));
    await withTransaction(this.#pool, 'record traffic statistics', async (tx) => {
      for (const b of ordered) {
        const key = [b.minute, b.alias, b.namespace, b.role];
        const inserted = await tx.query(this.#sql.insert, [
          ...key.slice(0, 2),
          b.collection,
          ...key.slice(2),
          b.queries,
          b.mixed,
          b.latencySumMs,
          b.latencyMaxMs,
          JSON.stringify(b.latency),
          b.lastAt,
        ]);
        if (inserted.rowCount === 1) continue;
        const held = (await tx.query<Row>(this.#sql.selectForUpdate, key)).rows[0];
        if (!held) continue;
        const m = mergeTrafficBuckets(fromRow(held), b);
        await tx.query(this.#sql.update, [
          ...key,
          m.queries,
          m.mixed,
          m.latencySumMs,
          m.latencyMaxMs,
          JSON.stringify(m.latency),
          m.lastAt,
        ]);
      }
    });
  }

  async read(filter: TrafficFilter = {}): Promise<TrafficBucket[]> {
    const since = filter.since ? Math.floor(filter.since.getTime() / 60_000) : -2_147_483_648;
    const rows = await run<Row>(this.#pool, 'read traffic statistics', this.#sql.read, [
      since,
      filter.collection ?? null,
    ]);
    return rows.map(fromRow);
  }

  async prune(before: Date): Promise<number> {
    const minute = Math.floor(before.getTime() / 60_000);
    return withTransaction(this.#pool, 'prune traffic statistics', async (tx) => {
      const result = await tx.query(this.#sql.prune, [minute]);
      return result.rowCount ?? 0;
    });
  }
}
