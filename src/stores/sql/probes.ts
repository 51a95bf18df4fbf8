import { assertProbeName, type ProbeSet, probeExists, unknownProbeSet } from '../../core/probe.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { ProbeSetInfo, ProbeSetRepository, SaveSetOptions } from '../../ports/evaluation-sets.js';
import {
  type ProbeQueryRow,
  type ProbeSetRow,
  probeInfoOf,
  probeOfRows,
  probeSetRow,
} from '../shared/probe-rows.js';
import { iso } from '../shared/timestamps.js';
import type { SqlDialect } from './dialect.js';
import { exec, rows, type SqlExecutor, type SqlWork } from './executor.js';
import { audit, insertRows } from './statements.js';

export const PROBES_COMPONENT = 'probes';
export const PROBES_SCHEMA_VERSION = 1;

/** A set row plus its queries in order; queries go with their set (ON DELETE CASCADE). */
export function probesDdl(d: SqlDialect): string[] {
  const t = d.table;
  return [
    `CREATE TABLE IF NOT EXISTS ${t('probe_sets')} (
      name TEXT PRIMARY KEY,
      collection TEXT NOT NULL,
      digest TEXT NOT NULL,
      queries INTEGER NOT NULL CHECK (queries >= 1),
      params ${d.json} NOT NULL,
      population ${d.json} NOT NULL,
      skipped ${d.json} NOT NULL,
      source TEXT,
      saved_at ${d.timestamp} NOT NULL,
      saved_by TEXT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('probe_queries')} (
      set_name TEXT NOT NULL REFERENCES ${t('probe_sets')}(name) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      query_id TEXT NOT NULL,
      source_id TEXT NOT NULL,
      tenant TEXT,
      content_hash TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('title', 'sentence', 'span')),
      text TEXT NOT NULL,
      held_out TEXT,
      PRIMARY KEY (set_name, position),
      UNIQUE (set_name, query_id)
    )`,
  ];
}

/** Statements of the repository in one dialect, as strings (STYLE #6): unit-tested without a database. */
export function probesSql(d: SqlDialect) {
  const t = d.table;
  const p = d.param;
  return {
    selectSet: `SELECT * FROM ${t('probe_sets')} WHERE name = ${p(1)}`,
    selectSetForUpdate: `SELECT * FROM ${t('probe_sets')} WHERE name = ${p(1)}${d.forUpdate}`,
    listSets: `SELECT * FROM ${t('probe_sets')} ORDER BY name`,
    names: `SELECT name FROM ${t('probe_sets')} ORDER BY name`,
    deleteSet: `DELETE FROM ${t('probe_sets')} WHERE name = ${p(1)}`,
    insertSet: `INSERT INTO ${t('probe_sets')} (name, collection, digest, queries, params, population, skipped, source, saved_at, saved_by)
      VALUES (${d.params(10)})`,
    selectQueries: `SELECT query_id, source_id, tenant, content_hash, kind, text, held_out
      FROM ${t('probe_queries')} WHERE set_name = ${p(1)} ORDER BY position`,
    /** Serialises saves of one name where the database has more than one writer (null on SQLite). */
    lockName: d.lockKey(),
  };
}

const QUERY_COLUMNS = [
  'set_name',
  'position',
  'query_id',
  'source_id',
  'tenant',
  'content_hash',
  'kind',
  'text',
  'held_out',
].map((name) => ({ name, pgType: name === 'position' ? 'integer' : 'text' }));

type SetRow = Omit<ProbeSetRow, 'saved_at'> & { saved_at: Date | string };

const rowOf = (row: SetRow): ProbeSetRow => ({ ...row, saved_at: iso(row.saved_at) });

/**
 * Probe sets in a SQL backend (SQLite or PostgreSQL, one implementation over `SqlExecutor`): a save writes
 * the set, its queries and an audit line in one transaction (saves of one name serialised); a read rebuilds
 * the set and checks its digest, so a hand-edited row is caught instead of silently changing gate results.
 */
export class SqlProbeSetRepository implements ProbeSetRepository {
  readonly #db: SqlExecutor;
  readonly #sql: ReturnType<typeof probesSql>;
  readonly #clock: Clock;

  private constructor(db: SqlExecutor, clock: Clock) {
    this.#db = db;
    this.#sql = probesSql(db.dialect);
    this.#clock = clock;
  }

  /** Creates the tables if needed (idempotent) and returns the repository. */
  static async open(db: SqlExecutor, options: { clock?: Clock } = {}): Promise<SqlProbeSetRepository> {
    await db.ensureSchema(PROBES_COMPONENT, PROBES_SCHEMA_VERSION, probesDdl(db.dialect));
    return new SqlProbeSetRepository(db, options.clock ?? systemClock);
  }

  async save(name: string, probe: ProbeSet, options: SaveSetOptions = {}): Promise<ProbeSetInfo> {
    assertProbeName(name);
    const sql = this.#sql;
    const d = this.#db.dialect;
    const clock = this.#clock;
    return this.#db.write('save a probe set', function* () {
      if (sql.lockName) yield* exec(sql.lockName, [`reembed:probe:${name}`]);
      const found = (yield* rows<SetRow>(sql.selectSetForUpdate, [name]))[0];
      const held = found ? rowOf(found) : undefined;
      if (held && held.digest === probe.digest && held.collection === probe.collection)
        return probeInfoOf(held);
      if (held && !options.replace) throw probeExists(name, held.digest, held.saved_at, probe.digest);
      if (held) yield* exec(sql.deleteSet, [name]);
      const row = probeSetRow(name, probe, options, clock.now().toISOString());
      yield* exec(sql.insertSet, [
        row.name,
        row.collection,
        row.digest,
        row.queries,
        row.params,
        row.population,
        row.skipped,
        row.source,
        row.saved_at,
        row.saved_by,
      ]);
      const queries = probe.queries.map((q, position) => [
        name,
        position,
        q.id,
        q.sourceId,
        q.tenant,
        q.contentHash,
        q.kind,
        q.text,
        q.heldOut,
      ]);
      yield* insertRows(d, 'probe_queries', QUERY_COLUMNS, queries);
      yield* audit(d, clock, row.saved_by, 'probe.save', name, {
        collection: probe.collection,
        digest: probe.digest,
        queries: row.queries,
        seed: probe.params.seed,
        replaced: held?.digest ?? null,
      });
      return probeInfoOf(row);
    });
  }

  async get(name: string): Promise<ProbeSet> {
    const sql = this.#sql;
    return this.#db.read('read a probe set', function* (): SqlWork<ProbeSet> {
      const row = (yield* rows<SetRow>(sql.selectSet, [name]))[0];
      if (!row) {
        const names = (yield* rows<{ name: string }>(sql.names)).map((r) => r.name);
        throw unknownProbeSet(name, names);
      }
      const queries = yield* rows<ProbeQueryRow>(sql.selectQueries, [name]);
      return probeOfRows(rowOf(row), queries);
    });
  }

  async list(): Promise<ProbeSetInfo[]> {
    const found = await this.#db.all<SetRow>('list probe sets', this.#sql.listSets);
    return found.map((r) => probeInfoOf(rowOf(r)));
  }

  async delete(name: string, options: { actor?: string } = {}): Promise<boolean> {
    const sql = this.#sql;
    const d = this.#db.dialect;
    const clock = this.#clock;
    return this.#db.write('delete a probe set', function* () {
      const held = (yield* rows<SetRow>(sql.selectSetForUpdate, [name]))[0];
      if (!held) return false;
      yield* exec(sql.deleteSet, [name]);
      yield* audit(d, clock, options.actor ?? 'reembed', 'probe.delete', name, { digest: held.digest });
      return true;
    });
  }
}
