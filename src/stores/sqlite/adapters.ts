import { type AdapterEvaluation, type AdapterState, stateAfter } from '../../core/adapter-gate.js';
import type { AdapterRecord, AdapterRepository, SaveAdapterInput } from '../../ports/adapters.js';
import { type Clock, systemClock } from '../../ports/clock.js';
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
import type { SqliteDatabase } from './schema.js';
import { StatementCache } from './statements.js';

export const ADAPTERS_COMPONENT = 'adapters';
export const ADAPTERS_SCHEMA_VERSION = 1;

export function adaptersDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS adapters (
      fingerprint TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      collection TEXT NOT NULL,
      direction TEXT NOT NULL CHECK (direction IN ('query', 'corpus')),
      source_fp TEXT NOT NULL,
      target_fp TEXT NOT NULL,
      spec TEXT NOT NULL,
      fit TEXT NOT NULL,
      weights BLOB NOT NULL,
      sample TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('fitted', 'passed', 'revoked')),
      created_at TEXT NOT NULL,
      created_by TEXT NOT NULL,
      latest TEXT
    )`,
    'CREATE INDEX IF NOT EXISTS adapters_by_collection ON adapters(collection, source_fp, target_fp)',
    `CREATE TABLE IF NOT EXISTS adapter_evaluations (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      adapter TEXT NOT NULL REFERENCES adapters(fingerprint),
      at TEXT NOT NULL,
      passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
      body TEXT NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS adapter_evaluations_by_adapter ON adapter_evaluations(adapter, id)',
    // Evaluations are history: never rewritten.
    `CREATE TRIGGER IF NOT EXISTS adapter_evaluations_no_update BEFORE UPDATE ON adapter_evaluations
     BEGIN SELECT RAISE(ABORT, 'adapter_evaluations is append-only'); END`,
  ];
}

interface SqliteAdapterRow {
  fingerprint: string;
  name: string;
  collection: string;
  direction: string;
  source_fp: string;
  target_fp: string;
  spec: string;
  fit: string;
  state: AdapterState;
  created_at: string;
  latest: string | null;
}

const COLUMNS =
  'fingerprint, name, collection, direction, source_fp, target_fp, spec, fit, state, created_at, latest';

function rowOf(r: SqliteAdapterRow): AdapterRow {
  return {
    ...r,
    spec: JSON.parse(r.spec),
    fit: JSON.parse(r.fit),
    latest: r.latest === null ? null : (JSON.parse(r.latest) as AdapterEvaluation),
  };
}

/**
 * Adapters in the backend's SQLite file: an adapter row (spec, fit, weights, sample, state), its
 * evaluations (append-only) and an audit line per change, each change in one transaction.
 */
export class SqliteAdapterRepository implements AdapterRepository {
  readonly #sql: StatementCache;
  readonly #clock: Clock;

  constructor(db: SqliteDatabase, options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    const now = this.#clock.now().toISOString();
    db.transaction(() => {
      for (const statement of adaptersDdl()) db.exec(statement);
      db.prepare(
        'INSERT OR IGNORE INTO schema_version (component, version, applied_at) VALUES (?, ?, ?)',
      ).run(ADAPTERS_COMPONENT, ADAPTERS_SCHEMA_VERSION, now);
    }).immediate();
    this.#sql = new StatementCache(db);
  }

  async save(input: SaveAdapterInput, actor: string): Promise<AdapterRecord> {
    checkSave(input);
    const a = input.adapter;
    return this.#sql.write('save an adapter', () => {
      const held = this.#row(a.fingerprint);
      if (held) return recordOfRow(rowOf(held));
      const named = this.#row(a.name);
      if (named) throw adapterTaken(a.name, named.fingerprint, a.fingerprint);
      this.#sql
        .get(
          `INSERT INTO adapters (fingerprint, name, collection, direction, source_fp, target_fp, spec, fit, weights, sample, state, created_at, created_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'fitted', ?, ?)`,
        )
        .run(
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
        );
      this.#audit(actor, 'adapter.fit', a.name, saveAuditDetails(a));
      return recordOfRow(rowOf(this.#row(a.fingerprint) as SqliteAdapterRow));
    });
  }

  async get(ref: string): Promise<AdapterRecord> {
    return recordOfRow(rowOf(this.#require(ref)));
  }

  async load(ref: string) {
    return this.#sql.read('load an adapter', () => {
      const row = this.#require(ref);
      const weights = this.#sql
        .get('SELECT weights FROM adapters WHERE fingerprint = ?')
        .pluck()
        .get(row.fingerprint);
      return loadedOfRow(rowOf(row), new Uint8Array(weights as Buffer));
    });
  }

  async sample(ref: string): Promise<string[]> {
    const row = this.#require(ref);
    return JSON.parse(
      this.#sql
        .get('SELECT sample FROM adapters WHERE fingerprint = ?')
        .pluck()
        .get(row.fingerprint) as string,
    ) as string[];
  }

  async list(options: { collection?: string } = {}): Promise<AdapterRecord[]> {
    const rows = (
      options.collection === undefined
        ? this.#sql.get(`SELECT ${COLUMNS} FROM adapters ORDER BY collection, created_at, name`).all()
        : this.#sql
            .get(`SELECT ${COLUMNS} FROM adapters WHERE collection = ? ORDER BY created_at, name`)
            .all(options.collection)
    ) as SqliteAdapterRow[];
    return rows.map((r) => recordOfRow(rowOf(r)));
  }

  async nextVersion(collection: string, source: string, target: string): Promise<number> {
    const count = this.#sql
      .get('SELECT count(*) FROM adapters WHERE collection = ? AND source_fp = ? AND target_fp = ?')
      .pluck()
      .get(collection, source, target) as number;
    return count + 1;
  }

  async addEvaluation(ref: string, evaluation: AdapterEvaluation, actor: string): Promise<AdapterRecord> {
    return this.#sql.write('record an adapter evaluation', () => {
      const row = this.#require(ref);
      const state = stateAfter(row.state, evaluation);
      this.#sql
        .get('INSERT INTO adapter_evaluations (adapter, at, passed, body) VALUES (?, ?, ?, ?)')
        .run(row.fingerprint, evaluation.at, evaluation.passed ? 1 : 0, JSON.stringify(evaluation));
      this.#sql
        .get('UPDATE adapters SET state = ?, latest = ? WHERE fingerprint = ?')
        .run(state, JSON.stringify(evaluation), row.fingerprint);
      this.#audit(actor, 'adapter.evaluate', row.name, {
        reason: evaluation.reason,
        set: evaluation.set.name,
        passed: evaluation.passed,
        state: { from: row.state, to: state },
        failing: evaluation.results.filter((r) => !r.passed).map((r) => r.rule),
      });
      return recordOfRow(rowOf(this.#require(row.fingerprint)));
    });
  }

  async evaluations(ref: string, options: { limit?: number } = {}): Promise<AdapterEvaluation[]> {
    const row = this.#require(ref);
    const bodies = this.#sql
      .get('SELECT body FROM adapter_evaluations WHERE adapter = ? ORDER BY id DESC LIMIT ?')
      .pluck()
      .all(row.fingerprint, options.limit ?? 100) as string[];
    return bodies.map((b) => JSON.parse(b) as AdapterEvaluation);
  }

  async revoke(ref: string, reason: string, actor: string): Promise<AdapterRecord> {
    return this.#sql.write('revoke an adapter', () => {
      const row = this.#require(ref);
      if (row.state === 'revoked') throw cannotRevoke(row.name, row.state);
      this.#sql.get(`UPDATE adapters SET state = 'revoked' WHERE fingerprint = ?`).run(row.fingerprint);
      this.#audit(actor, 'adapter.revoke', row.name, { reason, from: row.state });
      return recordOfRow(rowOf(this.#require(row.fingerprint)));
    });
  }

  #row(ref: string): SqliteAdapterRow | undefined {
    return this.#sql.get(`SELECT ${COLUMNS} FROM adapters WHERE fingerprint = ? OR name = ?`).get(ref, ref) as
      | SqliteAdapterRow
      | undefined;
  }

  #require(ref: string): SqliteAdapterRow {
    const row = this.#row(ref);
    if (!row) {
      throw unknownAdapter(
        ref,
        this.#sql.get('SELECT name FROM adapters ORDER BY name').pluck().all() as string[],
      );
    }
    return row;
  }

  /** The catalog's append-only audit table, in the caller's transaction (invariant 8). */
  #audit(actor: string, action: string, subject: string, details: Readonly<Record<string, unknown>>): void {
    this.#sql
      .get('INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)')
      .run(this.#clock.now().toISOString(), actor, action, subject, JSON.stringify(details));
  }
}
