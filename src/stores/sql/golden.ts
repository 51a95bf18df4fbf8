import { assertGoldenName, type GoldenSet, unknownGoldenSet } from '../../core/golden.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { GoldenSetInfo, GoldenSetRepository, SaveSetOptions } from '../../ports/evaluation-sets.js';
import {
  type GoldenSetRow,
  goldenExists,
  goldenInfoOf,
  goldenJudgments,
  goldenOfRows,
  goldenSetRow,
} from '../shared/golden-rows.js';
import { iso } from '../shared/timestamps.js';
import type { SqlDialect } from './dialect.js';
import { exec, rows, type SqlExecutor, type SqlWork } from './executor.js';
import { audit, insertRows } from './statements.js';

export const GOLDEN_COMPONENT = 'golden';
export const GOLDEN_SCHEMA_VERSION = 1;

/** A set row plus its queries (in order) and judgments; children go with the set (ON DELETE CASCADE). */
export function goldenDdl(d: SqlDialect): string[] {
  const t = d.table;
  return [
    `CREATE TABLE IF NOT EXISTS ${t('golden_sets')} (
      name TEXT PRIMARY KEY,
      digest TEXT NOT NULL,
      queries INTEGER NOT NULL CHECK (queries >= 1),
      judgments INTEGER NOT NULL CHECK (judgments >= 1),
      skipped ${d.json} NOT NULL,
      source TEXT,
      saved_at ${d.timestamp} NOT NULL,
      saved_by TEXT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('golden_queries')} (
      set_name TEXT NOT NULL REFERENCES ${t('golden_sets')}(name) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      query_id TEXT NOT NULL,
      text TEXT NOT NULL,
      PRIMARY KEY (set_name, query_id),
      UNIQUE (set_name, position)
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('golden_qrels')} (
      set_name TEXT NOT NULL,
      query_id TEXT NOT NULL,
      doc_id TEXT NOT NULL,
      grade ${d.real} NOT NULL,
      PRIMARY KEY (set_name, query_id, doc_id),
      FOREIGN KEY (set_name, query_id) REFERENCES ${t('golden_queries')}(set_name, query_id) ON DELETE CASCADE
    )${d.withoutRowid}`,
  ];
}

/** Statements of the repository in one dialect, as strings (STYLE #6): unit-tested without a database. */
export function goldenSql(d: SqlDialect) {
  const t = d.table;
  const p = d.param;
  const columns = `name, digest, queries, judgments, ${d.jsonText('skipped')}, source, saved_at, saved_by`;
  return {
    selectSet: `SELECT ${columns} FROM ${t('golden_sets')} WHERE name = ${p(1)}`,
    selectSetForUpdate: `SELECT ${columns} FROM ${t('golden_sets')} WHERE name = ${p(1)}${d.forUpdate}`,
    listSets: `SELECT ${columns} FROM ${t('golden_sets')} ORDER BY name`,
    names: `SELECT name FROM ${t('golden_sets')} ORDER BY name`,
    deleteSet: `DELETE FROM ${t('golden_sets')} WHERE name = ${p(1)}`,
    insertSet: `INSERT INTO ${t('golden_sets')} (name, digest, queries, judgments, skipped, source, saved_at, saved_by)
      VALUES (${d.params(8)})`,
    selectQueries: `SELECT query_id, text FROM ${t('golden_queries')} WHERE set_name = ${p(1)} ORDER BY position`,
    selectQrels: `SELECT query_id, doc_id, grade FROM ${t('golden_qrels')} WHERE set_name = ${p(1)}
      ORDER BY ${d.binary('query_id')}, ${d.binary('doc_id')}`,
    /** Serialises saves of one name where the database has more than one writer (null on SQLite). */
    lockName: d.lockKey(),
  };
}

const QUERY_COLUMNS = [
  { name: 'set_name', pgType: 'text' },
  { name: 'position', pgType: 'integer' },
  { name: 'query_id', pgType: 'text' },
  { name: 'text', pgType: 'text' },
] as const;

const QREL_COLUMNS = [
  { name: 'set_name', pgType: 'text' },
  { name: 'query_id', pgType: 'text' },
  { name: 'doc_id', pgType: 'text' },
  { name: 'grade', pgType: 'double precision' },
] as const;

type Row = Omit<GoldenSetRow, 'saved_at'> & { saved_at: Date | string };

const rowOf = (row: Row): GoldenSetRow => ({ ...row, saved_at: iso(row.saved_at) });

/**
 * Golden sets in a SQL backend (SQLite or PostgreSQL, one implementation over `SqlExecutor`). Saving writes
 * the set, its queries, its judgments and an audit line in one transaction (saves of one name serialised);
 * reading rebuilds the set through `GoldenSetBuilder` and checks that the digest is the one saved, so a
 * hand-edited table is detected instead of silently changing eval results.
 */
export class SqlGoldenSetRepository implements GoldenSetRepository {
  readonly #db: SqlExecutor;
  readonly #sql: ReturnType<typeof goldenSql>;
  readonly #clock: Clock;

  private constructor(db: SqlExecutor, clock: Clock) {
    this.#db = db;
    this.#sql = goldenSql(db.dialect);
    this.#clock = clock;
  }

  /** Creates the tables if needed (idempotent) and returns the repository. */
  static async open(db: SqlExecutor, options: { clock?: Clock } = {}): Promise<SqlGoldenSetRepository> {
    await db.ensureSchema(GOLDEN_COMPONENT, GOLDEN_SCHEMA_VERSION, goldenDdl(db.dialect));
    return new SqlGoldenSetRepository(db, options.clock ?? systemClock);
  }

  async save(name: string, golden: GoldenSet, options: SaveSetOptions = {}): Promise<GoldenSetInfo> {
    assertGoldenName(name);
    const sql = this.#sql;
    const d = this.#db.dialect;
    const clock = this.#clock;
    return this.#db.write('save a golden set', function* () {
      if (sql.lockName) yield* exec(sql.lockName, [`reembed:golden:${name}`]);
      const found = (yield* rows<Row>(sql.selectSetForUpdate, [name]))[0];
      const held = found ? rowOf(found) : undefined;
      if (held && held.digest === golden.digest) return goldenInfoOf(held);
      if (held && !options.replace) throw goldenExists(name, held, golden.digest);
      if (held) yield* exec(sql.deleteSet, [name]);
      const row = goldenSetRow(name, golden, options, clock.now().toISOString());
      yield* exec(sql.insertSet, [
        row.name,
        row.digest,
        row.queries,
        row.judgments,
        row.skipped,
        row.source,
        row.saved_at,
        row.saved_by,
      ]);
      const queries = golden.queries.map((q, position) => [name, position, q.id, q.text]);
      yield* insertRows(d, 'golden_queries', QUERY_COLUMNS, queries);
      const qrels = goldenJudgments(golden).map((j) => [name, j.queryId, j.docId, j.grade]);
      yield* insertRows(d, 'golden_qrels', QREL_COLUMNS, qrels);
      yield* audit(d, clock, row.saved_by, 'golden.save', name, {
        digest: golden.digest,
        queries: row.queries,
        judgments: row.judgments,
        replaced: held?.digest ?? null,
        source: row.source,
      });
      return goldenInfoOf(row);
    });
  }

  async get(name: string): Promise<GoldenSet> {
    const sql = this.#sql;
    return this.#db.read('read a golden set', function* (): SqlWork<GoldenSet> {
      const row = (yield* rows<Row>(sql.selectSet, [name]))[0];
      if (!row) {
        const names = (yield* rows<{ name: string }>(sql.names)).map((r) => r.name);
        throw unknownGoldenSet(name, names);
      }
      const queries = yield* rows<{ query_id: string; text: string }>(sql.selectQueries, [name]);
      const qrels = yield* rows<{ query_id: string; doc_id: string; grade: number }>(sql.selectQrels, [name]);
      return goldenOfRows(rowOf(row), queries, qrels);
    });
  }

  async list(): Promise<GoldenSetInfo[]> {
    const found = await this.#db.all<Row>('list golden sets', this.#sql.listSets);
    return found.map((r) => goldenInfoOf(rowOf(r)));
  }

  async delete(name: string, options: { actor?: string } = {}): Promise<boolean> {
    const sql = this.#sql;
    const d = this.#db.dialect;
    const clock = this.#clock;
    return this.#db.write('delete a golden set', function* () {
      const held = (yield* rows<Row>(sql.selectSetForUpdate, [name]))[0];
      if (!held) return false;
      yield* exec(sql.deleteSet, [name]);
      yield* audit(d, clock, options.actor ?? 'reembed', 'golden.delete', name, { digest: held.digest });
      return true;
    });
  }
}
