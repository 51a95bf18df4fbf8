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
import { applyComponentSchema } from './migrations.js';
import type { SqliteDatabase } from './schema.js';
import { StatementCache } from './statements.js';

export const GOLDEN_COMPONENT = 'golden';
export const GOLDEN_SCHEMA_VERSION = 1;

/** A set row plus its queries (in order) and judgments; children go with the set (ON DELETE CASCADE). */
export function goldenDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS golden_sets (
      name TEXT PRIMARY KEY,
      digest TEXT NOT NULL,
      queries INTEGER NOT NULL CHECK (queries >= 1),
      judgments INTEGER NOT NULL CHECK (judgments >= 1),
      skipped TEXT NOT NULL,
      source TEXT,
      saved_at TEXT NOT NULL,
      saved_by TEXT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS golden_queries (
      set_name TEXT NOT NULL REFERENCES golden_sets(name) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      query_id TEXT NOT NULL,
      text TEXT NOT NULL,
      PRIMARY KEY (set_name, query_id),
      UNIQUE (set_name, position)
    )`,
    `CREATE TABLE IF NOT EXISTS golden_qrels (
      set_name TEXT NOT NULL,
      query_id TEXT NOT NULL,
      doc_id TEXT NOT NULL,
      grade REAL NOT NULL,
      PRIMARY KEY (set_name, query_id, doc_id),
      FOREIGN KEY (set_name, query_id) REFERENCES golden_queries(set_name, query_id) ON DELETE CASCADE
    ) WITHOUT ROWID`,
  ];
}

/**
 * Golden sets in the backend's SQLite file. Saving writes the set, its queries, its judgments and an
 * audit line in one transaction; reading rebuilds the set through `GoldenSetBuilder` and checks that the
 * digest is the one saved, so a hand-edited table is detected instead of silently changing eval results.
 */
export class SqliteGoldenSetRepository implements GoldenSetRepository {
  readonly #sql: StatementCache;
  readonly #clock: Clock;

  constructor(db: SqliteDatabase, options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    applyComponentSchema(
      db,
      GOLDEN_COMPONENT,
      GOLDEN_SCHEMA_VERSION,
      goldenDdl(),
      this.#clock.now().toISOString(),
    );
    this.#sql = new StatementCache(db);
  }

  async save(name: string, golden: GoldenSet, options: SaveSetOptions = {}): Promise<GoldenSetInfo> {
    assertGoldenName(name);
    return this.#sql.write('save a golden set', () => {
      const held = this.#row(name);
      if (held && held.digest === golden.digest) return goldenInfoOf(held);
      if (held && !options.replace) throw goldenExists(name, held, golden.digest);
      if (held) this.#sql.get('DELETE FROM golden_sets WHERE name = ?').run(name);
      const row = goldenSetRow(name, golden, options, this.#clock.now().toISOString());
      this.#sql
        .get(
          `INSERT INTO golden_sets (name, digest, queries, judgments, skipped, source, saved_at, saved_by)
           VALUES (@name, @digest, @queries, @judgments, @skipped, @source, @saved_at, @saved_by)`,
        )
        .run(row);
      const query = this.#sql.get(
        'INSERT INTO golden_queries (set_name, position, query_id, text) VALUES (?, ?, ?, ?)',
      );
      const qrel = this.#sql.get(
        'INSERT INTO golden_qrels (set_name, query_id, doc_id, grade) VALUES (?, ?, ?, ?)',
      );
      golden.queries.forEach((q, position) => {
        query.run(name, position, q.id, q.text);
      });
      for (const j of goldenJudgments(golden)) qrel.run(name, j.queryId, j.docId, j.grade);
      this.#audit(row.saved_by, 'golden.save', name, {
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
    return this.#sql.read('read a golden set', () => {
      const row = this.#row(name);
      if (!row) throw unknownGoldenSet(name, this.#names());
      const queries = this.#sql
        .get('SELECT query_id, text FROM golden_queries WHERE set_name = ? ORDER BY position')
        .all(name) as { query_id: string; text: string }[];
      const qrels = this.#sql
        .get('SELECT query_id, doc_id, grade FROM golden_qrels WHERE set_name = ? ORDER BY query_id, doc_id')
        .all(name) as { query_id: string; doc_id: string; grade: number }[];
      return goldenOfRows(row, queries, qrels);
    });
  }

  async list(): Promise<GoldenSetInfo[]> {
    return (this.#sql.get('SELECT * FROM golden_sets ORDER BY name').all() as GoldenSetRow[]).map(
      goldenInfoOf,
    );
  }

  async delete(name: string, options: { actor?: string } = {}): Promise<boolean> {
    return this.#sql.write('delete a golden set', () => {
      const held = this.#row(name);
      if (!held) return false;
      this.#sql.get('DELETE FROM golden_sets WHERE name = ?').run(name);
      this.#audit(options.actor ?? 'reembed', 'golden.delete', name, { digest: held.digest });
      return true;
    });
  }

  #row(name: string): GoldenSetRow | undefined {
    return this.#sql.get('SELECT * FROM golden_sets WHERE name = ?').get(name) as GoldenSetRow | undefined;
  }

  #names(): string[] {
    return this.#sql.get('SELECT name FROM golden_sets ORDER BY name').pluck().all() as string[];
  }

  /** The catalog's append-only audit table, in the caller's transaction (invariant 8). */
  #audit(actor: string, action: string, subject: string, details: Readonly<Record<string, unknown>>): void {
    this.#sql
      .get('INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)')
      .run(this.#clock.now().toISOString(), actor, action, subject, JSON.stringify(details));
  }
}
