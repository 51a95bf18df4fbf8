import type { LoadedAdapter } from '../../core/adapter.js';
import { type AdapterEvaluation, type AdapterState, stateAfter } from '../../core/adapter-gate.js';
import type { AdapterRecord, AdapterRepository, SaveAdapterInput } from '../../ports/adapters.js';
import {
  type AdapterRow,
  adapterTaken,
  cannotRevoke,
  checkSave,
  loadedOfRow,
  recordOfRow,
  saveAuditDetails,
  unknownAdapter,
} from '../adapter-rows.js';
import { jsonValue } from '../shared/json.js';
import { iso } from '../shared/timestamps.js';
import type { SqlDialect } from './dialect.js';
import { exec, rows, type SqlExecutor, type SqlWork } from './executor.js';
import { SqlRepository, type SqlRepositoryOptions, sqlComponent } from './repository.js';

export function adaptersDdl(d: SqlDialect): string[] {
  const t = d.table;
  const ddl = [
    `CREATE TABLE IF NOT EXISTS ${t('adapters')} (
      fingerprint TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      collection TEXT NOT NULL,
      direction TEXT NOT NULL CHECK (direction IN ('query', 'corpus')),
      source_fp TEXT NOT NULL,
      target_fp TEXT NOT NULL,
      spec ${d.json} NOT NULL,
      fit ${d.json} NOT NULL,
      weights ${d.blob} NOT NULL,
      sample ${d.json} NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('fitted', 'passed', 'revoked')),
      created_at ${d.timestamp} NOT NULL,
      created_by TEXT NOT NULL,
      latest ${d.json}
    )`,
    `CREATE INDEX IF NOT EXISTS adapters_by_collection ON ${t('adapters')} (collection, source_fp, target_fp)`,
    `CREATE TABLE IF NOT EXISTS ${t('adapter_evaluations')} (
      id ${d.autoId},
      adapter TEXT NOT NULL REFERENCES ${t('adapters')} (fingerprint),
      at ${d.timestamp} NOT NULL,
      passed ${d.boolean('passed')},
      body ${d.json} NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS adapter_evaluations_by_adapter ON ${t('adapter_evaluations')} (adapter, id)`,
  ];
  // Evaluations are history: never rewritten.
  if (d.name === 'sqlite') {
    ddl.push(`CREATE TRIGGER IF NOT EXISTS adapter_evaluations_no_update BEFORE UPDATE ON adapter_evaluations
     BEGIN SELECT RAISE(ABORT, 'adapter_evaluations is append-only'); END`);
  }
  return ddl;
}

const COLUMNS =
  'fingerprint, name, collection, direction, source_fp, target_fp, spec, fit, state, created_at, latest';

/** Statements of the repository in one dialect, as strings (STYLE #6). */
export function adaptersSql(d: SqlDialect) {
  const t = d.table;
  const p = d.param;
  const byRef = `SELECT ${COLUMNS} FROM ${t('adapters')} WHERE fingerprint = ${p(1)} OR name = ${p(2)}`;
  return {
    byRef,
    byRefForUpdate: `${byRef}${d.forUpdate}`,
    names: `SELECT name FROM ${t('adapters')} ORDER BY name`,
    insert: `INSERT INTO ${t('adapters')} (fingerprint, name, collection, direction, source_fp, target_fp, spec, fit,
      weights, sample, state, created_at, created_by)
      VALUES (${d.params(10)}, 'fitted', ${d.params(2, 11)})`,
    weights: `SELECT weights FROM ${t('adapters')} WHERE fingerprint = ${p(1)}`,
    sample: `SELECT sample FROM ${t('adapters')} WHERE fingerprint = ${p(1)}`,
    listAll: `SELECT ${COLUMNS} FROM ${t('adapters')} ORDER BY collection, created_at, name`,
    listCollection: `SELECT ${COLUMNS} FROM ${t('adapters')} WHERE collection = ${p(1)} ORDER BY created_at, name`,
    count: `SELECT count(*) AS n FROM ${t('adapters')}
      WHERE collection = ${p(1)} AND source_fp = ${p(2)} AND target_fp = ${p(3)}`,
    insertEvaluation: `INSERT INTO ${t('adapter_evaluations')} (adapter, at, passed, body) VALUES (${d.params(4)})`,
    setLatest: `UPDATE ${t('adapters')} SET state = ${p(1)}, latest = ${p(2)} WHERE fingerprint = ${p(3)}`,
    evaluations: `SELECT body FROM ${t('adapter_evaluations')} WHERE adapter = ${p(1)} ORDER BY id DESC LIMIT ${p(2)}`,
    revoke: `UPDATE ${t('adapters')} SET state = 'revoked' WHERE fingerprint = ${p(1)}`,
    /** Serialises savers of one name where the database has more than one writer (null on SQLite). */
    lockName: d.lockKey(),
  };
}

/** The adapters component: an adapter row per fitted adapter and its append-only evaluations. */
export const ADAPTERS = sqlComponent('adapters', 1, adaptersDdl, adaptersSql);

interface Row {
  fingerprint: string;
  name: string;
  collection: string;
  direction: string;
  source_fp: string;
  target_fp: string;
  spec: unknown;
  fit: unknown;
  state: AdapterState;
  created_at: unknown;
  latest: unknown;
}

function rowOf(r: Row): AdapterRow {
  return {
    ...r,
    spec: jsonValue(r.spec),
    fit: jsonValue(r.fit),
    created_at: iso(r.created_at),
    latest: r.latest === null || r.latest === undefined ? null : jsonValue<AdapterEvaluation>(r.latest),
  };
}

/**
 * Adapters in a SQL backend (SQLite or PostgreSQL, one implementation over `SqlExecutor`): an adapter row
 * (spec, fit, weights, sample, state), its evaluations (append-only) and an audit line per change, each
 * change in one transaction (invariant 8).
 */
export class SqlAdapterRepository
  extends SqlRepository<ReturnType<typeof adaptersSql>>
  implements AdapterRepository
{
  /** Creates the tables if needed (idempotent) and returns the repository. */
  static async open(db: SqlExecutor, options: SqlRepositoryOptions = {}): Promise<SqlAdapterRepository> {
    return new SqlAdapterRepository(await ADAPTERS.install(db), ADAPTERS, options);
  }

  async save(input: SaveAdapterInput, actor: string): Promise<AdapterRecord> {
    checkSave(input);
    const a = input.adapter;
    return this.transaction('save an adapter', function* ({ sql, audit }) {
      if (sql.lockName) yield* exec(sql.lockName, [`reembed:adapter:${a.name}`]);
      const held = (yield* rows<Row>(sql.byRef, [a.fingerprint, a.fingerprint]))[0];
      if (held) return recordOfRow(rowOf(held));
      const named = (yield* rows<Row>(sql.byRef, [a.name, a.name]))[0];
      if (named) throw adapterTaken(a.name, named.fingerprint, a.fingerprint);
      yield* exec(sql.insert, [
        a.fingerprint,
        a.name,
        a.spec.collection,
        a.spec.direction,
        a.spec.source.fingerprint,
        a.spec.target.fingerprint,
        JSON.stringify(a.spec),
        JSON.stringify(a.fit),
        Buffer.from(input.weights),
        JSON.stringify(input.sample),
        a.createdAt,
        actor,
      ]);
      yield* audit(actor, 'adapter.fit', a.name, saveAuditDetails(a));
      return recordOfRow(rowOf(yield* required(sql, a.fingerprint)));
    });
  }

  async get(ref: string): Promise<AdapterRecord> {
    return this.snapshot('read an adapter', function* ({ sql }) {
      return recordOfRow(rowOf(yield* required(sql, ref)));
    });
  }

  async load(ref: string): Promise<LoadedAdapter> {
    return this.snapshot('load an adapter', function* ({ sql }) {
      const row = yield* required(sql, ref);
      const [w] = yield* rows<{ weights: Buffer }>(sql.weights, [row.fingerprint]);
      return loadedOfRow(rowOf(row), new Uint8Array(w?.weights ?? Buffer.alloc(0)));
    });
  }

  async sample(ref: string): Promise<string[]> {
    return this.snapshot('read an adapter sample', function* ({ sql }) {
      const row = yield* required(sql, ref);
      const [s] = yield* rows<{ sample: unknown }>(sql.sample, [row.fingerprint]);
      return s ? jsonValue<string[]>(s.sample) : [];
    });
  }

  async list(options: { collection?: string } = {}): Promise<AdapterRecord[]> {
    const found =
      options.collection === undefined
        ? await this.db.all<Row>('list adapters', this.sql.listAll)
        : await this.db.all<Row>('list adapters', this.sql.listCollection, [options.collection]);
    return found.map((r) => recordOfRow(rowOf(r)));
  }

  async nextVersion(collection: string, source: string, target: string): Promise<number> {
    const [r] = await this.db.all<{ n: unknown }>('count adapters', this.sql.count, [
      collection,
      source,
      target,
    ]);
    return Number(r?.n ?? 0) + 1;
  }

  async addEvaluation(ref: string, evaluation: AdapterEvaluation, actor: string): Promise<AdapterRecord> {
    return this.transaction('record an adapter evaluation', function* ({ sql, audit }) {
      const row = yield* required(sql, ref, true);
      const state = stateAfter(row.state, evaluation);
      const body = JSON.stringify(evaluation);
      yield* exec(sql.insertEvaluation, [row.fingerprint, evaluation.at, evaluation.passed ? 1 : 0, body]);
      yield* exec(sql.setLatest, [state, body, row.fingerprint]);
      yield* audit(actor, 'adapter.evaluate', row.name, {
        reason: evaluation.reason,
        set: evaluation.set.name,
        passed: evaluation.passed,
        state: { from: row.state, to: state },
        failing: evaluation.results.filter((r) => !r.passed).map((r) => r.rule),
      });
      return recordOfRow(rowOf(yield* required(sql, row.fingerprint)));
    });
  }

  async evaluations(ref: string, options: { limit?: number } = {}): Promise<AdapterEvaluation[]> {
    return this.snapshot('read adapter evaluations', function* ({ sql }) {
      const row = yield* required(sql, ref);
      const bodies = yield* rows<{ body: unknown }>(sql.evaluations, [row.fingerprint, options.limit ?? 100]);
      return bodies.map((b) => jsonValue<AdapterEvaluation>(b.body));
    });
  }

  async revoke(ref: string, reason: string, actor: string): Promise<AdapterRecord> {
    return this.transaction('revoke an adapter', function* ({ sql, audit }) {
      const row = yield* required(sql, ref, true);
      if (row.state === 'revoked') throw cannotRevoke(row.name, row.state);
      yield* exec(sql.revoke, [row.fingerprint]);
      yield* audit(actor, 'adapter.revoke', row.name, { reason, from: row.state });
      return recordOfRow(rowOf(yield* required(sql, row.fingerprint)));
    });
  }
}

/** The adapter a fingerprint or name refers to, or `ADAPTER_NOT_FOUND` listing the names held. */
function* required(sql: ReturnType<typeof adaptersSql>, ref: string, lock = false): SqlWork<Row> {
  const row = (yield* rows<Row>(lock ? sql.byRefForUpdate : sql.byRef, [ref, ref]))[0];
  if (row) return row;
  const names = yield* rows<{ name: string }>(sql.names);
  throw unknownAdapter(
    ref,
    names.map((r) => r.name),
  );
}
