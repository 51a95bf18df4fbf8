import { ReembedError } from '../../core/errors.js';
import { type GoldenSet, GoldenSetBuilder, type GoldenSkipped } from '../../core/golden.js';
import {
  assertGoldenName,
  type GoldenSetInfo,
  type GoldenSetRepository,
  type SaveGoldenOptions,
  unknownGoldenSet,
} from '../../eval/golden-store.js';
import { type Clock, systemClock } from '../../ports/clock.js';
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

interface SetRow {
  name: string;
  digest: string;
  queries: number;
  judgments: number;
  skipped: string;
  source: string | null;
  saved_at: string;
  saved_by: string;
}

function infoOf(row: SetRow): GoldenSetInfo {
  return Object.freeze({
    kind: 'golden-set-info' as const,
    name: row.name,
    digest: row.digest,
    queries: row.queries,
    judgments: row.judgments,
    skipped: Object.freeze(JSON.parse(row.skipped) as GoldenSkipped),
    source: row.source,
    savedAt: row.saved_at,
    savedBy: row.saved_by,
  });
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

  async save(name: string, golden: GoldenSet, options: SaveGoldenOptions = {}): Promise<GoldenSetInfo> {
    assertGoldenName(name);
    const actor = options.actor ?? 'reembed';
    return this.#sql.write('save a golden set', () => {
      const held = this.#row(name);
      if (held && held.digest === golden.digest) return infoOf(held);
      if (held && !options.replace) {
        throw new ReembedError(
          'ALREADY_EXISTS',
          `Golden set "${name}" already exists with other content (${held.digest}, saved ${held.saved_at}); ` +
            'pick another name or replace it (--replace).',
          { details: { name, held: held.digest, incoming: golden.digest } },
        );
      }
      if (held) this.#sql.get('DELETE FROM golden_sets WHERE name = ?').run(name);
      const row: SetRow = {
        name,
        digest: golden.digest,
        queries: golden.queries.length,
        judgments: golden.judgments,
        skipped: JSON.stringify(golden.skipped),
        source: options.source ?? null,
        saved_at: this.#clock.now().toISOString(),
        saved_by: actor,
      };
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
        for (const [docId, grade] of Object.entries(golden.qrels[q.id] ?? {}))
          qrel.run(name, q.id, docId, grade);
      });
      this.#audit(actor, 'golden.save', name, {
        digest: golden.digest,
        queries: row.queries,
        judgments: row.judgments,
        replaced: held?.digest ?? null,
        source: row.source,
      });
      return infoOf(row);
    });
  }

  async get(name: string): Promise<GoldenSet> {
    return this.#sql.read('read a golden set', () => {
      const row = this.#row(name);
      if (!row) throw unknownGoldenSet(name, this.#names());
      const builder = new GoldenSetBuilder(name);
      const queries = this.#sql
        .get('SELECT query_id, text FROM golden_queries WHERE set_name = ? ORDER BY position')
        .all(name) as { query_id: string; text: string }[];
      for (const q of queries) builder.addQuery(q.query_id, q.text);
      const qrels = this.#sql
        .get('SELECT query_id, doc_id, grade FROM golden_qrels WHERE set_name = ? ORDER BY query_id, doc_id')
        .all(name) as { query_id: string; doc_id: string; grade: number }[];
      for (const j of qrels) builder.addJudgment(j.query_id, j.doc_id, j.grade);
      const built = builder.build();
      if (built.digest !== row.digest) {
        throw new ReembedError(
          'STORE_FAILED',
          `Stored golden set "${name}" does not match its digest (saved ${row.digest}, read ${built.digest}): its rows were changed outside reembed. Save it again from its source.`,
          { details: { name, saved: row.digest, read: built.digest } },
        );
      }
      return Object.freeze({ ...built, skipped: infoOf(row).skipped });
    });
  }

  async list(): Promise<GoldenSetInfo[]> {
    return (this.#sql.get('SELECT * FROM golden_sets ORDER BY name').all() as SetRow[]).map(infoOf);
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

  #row(name: string): SetRow | undefined {
    return this.#sql.get('SELECT * FROM golden_sets WHERE name = ?').get(name) as SetRow | undefined;
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
