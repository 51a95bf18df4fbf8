import type { SketchCounts } from '../../core/latency-sketch.js';
import {
  mergeTrafficBuckets,
  TRAFFIC_ROLES,
  type TrafficBucket,
  type TrafficRole,
} from '../../core/traffic.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { TrafficFilter, TrafficRepository } from '../../ports/traffic.js';
import { parseJsonObject } from '../shared/json.js';
import { applyComponentSchema } from './migrations.js';
import type { SqliteDatabase } from './schema.js';
import { StatementCache } from './statements.js';

export const TRAFFIC_COMPONENT = 'traffic';
export const TRAFFIC_SCHEMA_VERSION = 1;

const sqlList = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');

/** One row per minute, alias, namespace and role; a latency sketch as sparse JSON bucket counts. */
export function trafficDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS traffic_minutes (
      minute INTEGER NOT NULL,
      alias TEXT NOT NULL,
      collection TEXT NOT NULL,
      namespace TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN (${sqlList(TRAFFIC_ROLES)})),
      queries INTEGER NOT NULL CHECK (queries >= 0),
      mixed INTEGER NOT NULL CHECK (mixed >= 0 AND mixed <= queries),
      latency_sum_ms REAL NOT NULL,
      latency_max_ms REAL NOT NULL,
      latency TEXT NOT NULL DEFAULT '{}',
      last_at TEXT NOT NULL,
      PRIMARY KEY (minute, alias, namespace, role)
    ) WITHOUT ROWID`,
    'CREATE INDEX IF NOT EXISTS traffic_minutes_by_collection ON traffic_minutes(collection, minute)',
  ];
}

export const TRAFFIC_SQL = {
  select: 'SELECT * FROM traffic_minutes WHERE minute = ? AND alias = ? AND namespace = ? AND role = ?',
  upsert: `INSERT OR REPLACE INTO traffic_minutes
    (minute, alias, collection, namespace, role, queries, mixed, latency_sum_ms, latency_max_ms, latency, last_at)
    VALUES (@minute, @alias, @collection, @namespace, @role, @queries, @mixed, @latencySumMs, @latencyMaxMs, @latency, @lastAt)`,
  read: `SELECT * FROM traffic_minutes WHERE minute >= @since AND (@collection IS NULL OR collection = @collection)
    ORDER BY minute, alias, namespace, role`,
  prune: 'DELETE FROM traffic_minutes WHERE minute < ?',
} as const;

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
  latency: string;
  last_at: string;
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
    latency: parseJsonObject(row.latency) as SketchCounts,
    lastAt: row.last_at,
  });
}

/**
 * Traffic statistics in the backend's SQLite file (its own `traffic` schema component). A flush merges
 * buffered rows into stored rows of the same minute in one transaction.
 *
 * @example
 * const traffic = new SqliteTrafficRepository(backend.db);
 */
export class SqliteTrafficRepository implements TrafficRepository {
  readonly #sql: StatementCache;

  constructor(db: SqliteDatabase, options: { clock?: Clock } = {}) {
    const clock = options.clock ?? systemClock;
    applyComponentSchema(
      db,
      TRAFFIC_COMPONENT,
      TRAFFIC_SCHEMA_VERSION,
      trafficDdl(),
      clock.now().toISOString(),
    );
    this.#sql = new StatementCache(db);
  }

  async record(buckets: readonly TrafficBucket[]): Promise<void> {
    if (buckets.length === 0) return;
    this.#sql.write('record traffic statistics', () => {
      const select = this.#sql.get(TRAFFIC_SQL.select);
      const upsert = this.#sql.get(TRAFFIC_SQL.upsert);
      for (const b of buckets) {
        const held = select.get(b.minute, b.alias, b.namespace, b.role) as Row | undefined;
        const merged = held ? mergeTrafficBuckets(fromRow(held), b) : b;
        upsert.run({ ...merged, latency: JSON.stringify(merged.latency) });
      }
    });
  }

  async read(filter: TrafficFilter = {}): Promise<TrafficBucket[]> {
    const since = filter.since ? Math.floor(filter.since.getTime() / 60_000) : Number.MIN_SAFE_INTEGER;
    const rows = this.#sql
      .get(TRAFFIC_SQL.read)
      .all({ since, collection: filter.collection ?? null }) as Row[];
    return rows.map(fromRow);
  }

  async prune(before: Date): Promise<number> {
    const minute = Math.floor(before.getTime() / 60_000);
    return this.#sql.write(
      'prune traffic statistics',
      () => this.#sql.get(TRAFFIC_SQL.prune).run(minute).changes,
    );
  }
}
