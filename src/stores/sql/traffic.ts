import type { SketchCounts } from '../../core/latency-sketch.js';
import {
  mergeTrafficBuckets,
  TRAFFIC_ROLES,
  type TrafficBucket,
  type TrafficRole,
  trafficKey,
} from '../../core/traffic.js';
import type { TrafficFilter, TrafficRepository } from '../../ports/traffic.js';
import { parseJsonObject } from '../shared/json.js';
import { iso } from '../shared/timestamps.js';
import type { SqlDialect } from './dialect.js';
import { exec, rows, type SqlExecutor } from './executor.js';
import { SqlRepository, sqlComponent } from './repository.js';
import { optionalParams } from './statements.js';

/** One row per minute, alias, namespace and role; a latency sketch as sparse JSON bucket counts. */
export function trafficDdl(d: SqlDialect): string[] {
  const table = d.table('traffic_minutes');
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
      minute INTEGER NOT NULL,
      alias TEXT NOT NULL,
      collection TEXT NOT NULL,
      namespace TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN (${TRAFFIC_ROLES.map((r) => `'${r}'`).join(', ')})),
      queries INTEGER NOT NULL CHECK (queries >= 0),
      mixed INTEGER NOT NULL CHECK (mixed >= 0 AND mixed <= queries),
      latency_sum_ms ${d.real} NOT NULL,
      latency_max_ms ${d.real} NOT NULL,
      latency ${d.json} NOT NULL DEFAULT '{}',
      last_at ${d.timestamp} NOT NULL,
      PRIMARY KEY (minute, alias, namespace, role)
    )${d.withoutRowid}`,
    `CREATE INDEX IF NOT EXISTS traffic_minutes_by_collection ON ${table} (collection, minute)`,
  ];
}

/** Statements of the repository in one dialect, as strings (STYLE #6). */
export function trafficSql(d: SqlDialect) {
  const table = d.table('traffic_minutes');
  const p = d.param;
  const columns =
    'minute, alias, collection, namespace, role, queries, mixed, latency_sum_ms, latency_max_ms, latency, last_at';
  const key = (from: number): string =>
    `minute = ${p(from)} AND alias = ${p(from + 1)} AND namespace = ${p(from + 2)} AND role = ${p(from + 3)}`;
  return {
    /** A new row, or nothing when the key is held (then it is locked and merged). */
    insert: `INSERT INTO ${table} (${columns}) VALUES (${d.params(11)})
      ON CONFLICT (minute, alias, namespace, role) DO NOTHING`,
    selectForUpdate: `SELECT ${columns} FROM ${table} WHERE ${key(1)}${d.forUpdate}`,
    update: `UPDATE ${table} SET queries = ${p(1)}, mixed = ${p(2)}, latency_sum_ms = ${p(3)},
      latency_max_ms = ${p(4)}, latency = ${p(5)}, last_at = ${p(6)} WHERE ${key(7)}`,
    read: `SELECT ${columns} FROM ${table}
      WHERE minute >= ${p(1)} AND (${d.typed(2, 'text')} IS NULL OR collection = ${p(3)})
      ORDER BY minute, ${['alias', 'namespace', 'role'].map(d.binary).join(', ')}`,
    prune: `DELETE FROM ${table} WHERE minute < ${p(1)}`,
  };
}

/** The traffic component: per-minute query statistics by alias, namespace and role. */
export const TRAFFIC = sqlComponent('traffic', 1, trafficDdl, trafficSql);

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
  latency: SketchCounts | string;
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
    latency: typeof row.latency === 'string' ? (parseJsonObject(row.latency) as SketchCounts) : row.latency,
    lastAt: iso(row.last_at),
  });
}

/** The lowest minute an INTEGER column holds on every dialect: "since the beginning". */
const FIRST_MINUTE = -2_147_483_648;

/**
 * Traffic statistics in a SQL backend (its own `traffic` schema component; one implementation over
 * `SqlExecutor` for SQLite and PostgreSQL). A flush merges buffered rows into stored rows of the same
 * minute in one transaction: a new key is inserted, a held one is locked and merged with
 * `mergeTrafficBuckets`, so recorders in several processes add up instead of overwriting each other. Keys
 * are taken in one order, so two flushes never deadlock.
 */
export class SqlTrafficRepository
  extends SqlRepository<ReturnType<typeof trafficSql>>
  implements TrafficRepository
{
  /** Creates the table if needed (idempotent) and returns the repository. */
  static async open(db: SqlExecutor): Promise<SqlTrafficRepository> {
    return new SqlTrafficRepository(await TRAFFIC.install(db), TRAFFIC);
  }

  async record(buckets: readonly TrafficBucket[]): Promise<void> {
    if (buckets.length === 0) return;
    const ordered = [...buckets].sort((a, b) => (trafficKey(a) < trafficKey(b) ? -1 : 1));
    await this.transaction('record traffic statistics', function* ({ sql }) {
      for (const b of ordered) {
        const key = [b.minute, b.alias, b.namespace, b.role];
        const inserted = yield* exec(sql.insert, [
          b.minute,
          b.alias,
          b.collection,
          b.namespace,
          b.role,
          b.queries,
          b.mixed,
          b.latencySumMs,
          b.latencyMaxMs,
          JSON.stringify(b.latency),
          b.lastAt,
        ]);
        if (inserted === 1) continue;
        const held = (yield* rows<Row>(sql.selectForUpdate, key))[0];
        if (!held) continue;
        const m = mergeTrafficBuckets(fromRow(held), b);
        yield* exec(sql.update, [
          m.queries,
          m.mixed,
          m.latencySumMs,
          m.latencyMaxMs,
          JSON.stringify(m.latency),
          m.lastAt,
          ...key,
        ]);
      }
    });
  }

  async read(filter: TrafficFilter = {}): Promise<TrafficBucket[]> {
    const since = filter.since ? Math.floor(filter.since.getTime() / 60_000) : FIRST_MINUTE;
    const found = await this.db.all<Row>('read traffic statistics', this.sql.read, [
      since,
      ...optionalParams(filter.collection ?? null),
    ]);
    return found.map(fromRow);
  }

  async prune(before: Date): Promise<number> {
    const minute = Math.floor(before.getTime() / 60_000);
    return this.transaction('prune traffic statistics', ({ sql }) => exec(sql.prune, [minute]));
  }
}
