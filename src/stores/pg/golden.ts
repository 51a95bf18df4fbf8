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
import { iso, type PgPoolLike, type PgQueryable, run, withTransaction } from './pool.js';
import { ident, qualified } from './sql.js';

export const PG_GOLDEN_COMPONENT = 'golden';
export const PG_GOLDEN_SCHEMA_VERSION = 1;

/** The golden-set tables, the same shape as the embedded backend's (`skipped` as jsonb). */
export function pgGoldenDdl(schema: string): string[] {
  const t = (name: string): string => qualified(schema, name);
  return [
    `CREATE TABLE IF NOT EXISTS ${t('golden_sets')} (
      name text PRIMARY KEY,
      digest text NOT NULL,
      queries integer NOT NULL CHECK (queries >= 1),
      judgments integer NOT NULL CHECK (judgments >= 1),
      skipped jsonb NOT NULL,
      source text,
      saved_at timestamptz NOT NULL,
      saved_by text NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('golden_queries')} (
      set_name text NOT NULL REFERENCES ${t('golden_sets')}(name) ON DELETE CASCADE,
      position integer NOT NULL,
      query_id text NOT NULL,
      text text NOT NULL,
      PRIMARY KEY (set_name, query_id),
      UNIQUE (set_name, position)
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('golden_qrels')} (
      set_name text NOT NULL,
      query_id text NOT NULL,
      doc_id text NOT NULL,
      grade double precision NOT NULL,
      PRIMARY KEY (set_name, query_id, doc_id),
      FOREIGN KEY (set_name, query_id) REFERENCES ${t('golden_queries')}(set_name, query_id) ON DELETE CASCADE
    )`,
  ];
}

/** Statements of the repository, as strings (STYLE #6): unit-tested without a server. */
export function pgGoldenSql(schema: string) {
  const t = (name: string): string => qualified(schema, name);
  const columns = 'name, digest, queries, judgments, skipped::text AS skipped, source, saved_at, saved_by';
  return {
    selectSet: `SELECT ${columns} FROM ${t('golden_sets')} WHERE name = $1`,
    selectSetForUpdate: `SELECT ${columns} FROM ${t('golden_sets')} WHERE name = $1 FOR UPDATE`,
    listSets: `SELECT ${columns} FROM ${t('golden_sets')} ORDER BY name`,
    names: `SELECT name FROM ${t('golden_sets')} ORDER BY name`,
    deleteSet: `DELETE FROM ${t('golden_sets')} WHERE name = $1`,
    insertSet: `INSERT INTO ${t('golden_sets')} (name, digest, queries, judgments, skipped, source, saved_at, saved_by)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    /** Every query of a set in one statement: one array per column. */
    insertQueries: `INSERT INTO ${t('golden_queries')} (set_name, position, query_id, text)
      SELECT $1, q.* FROM unnest($2::integer[], $3::text[], $4::text[]) AS q(position, query_id, text)`,
    insertQrels: `INSERT INTO ${t('golden_qrels')} (set_name, query_id, doc_id, grade)
      SELECT $1, j.* FROM unnest($2::text[], $3::text[], $4::double precision[]) AS j(query_id, doc_id, grade)`,
    selectQueries: `SELECT query_id, text FROM ${t('golden_queries')} WHERE set_name = $1 ORDER BY position`,
    selectQrels: `SELECT query_id, doc_id, grade FROM ${t('golden_qrels')} WHERE set_name = $1
      ORDER BY query_id COLLATE "C", doc_id COLLATE "C"`,
    /** Serialises saves of one name (a save that finds no row has nothing to lock). */
    lockName: 'SELECT pg_advisory_xact_lock(hashtext($1))',
    insertAudit: `INSERT INTO ${t('audit_log')} (at, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5)`,
  };
}

type Row = Omit<GoldenSetRow, 'saved_at'> & { saved_at: Date | string };

const rowOf = (row: Row): GoldenSetRow => ({ ...row, saved_at: iso(row.saved_at) });

/**
 * Golden sets in PostgreSQL with the semantics of the embedded repository: a save writes the set, its
 * queries, its judgments and the audit line in one transaction (saves of one name serialised by an
 * advisory lock); a read rebuilds the set and checks its digest.
 */
export class PgGoldenSetRepository implements GoldenSetRepository {
  readonly #pool: PgPoolLike;
  readonly #sql: ReturnType<typeof pgGoldenSql>;
  readonly #clock: Clock;

  private constructor(pool: PgPoolLike, schema: string, clock: Clock) {
    this.#pool = pool;
    this.#sql = pgGoldenSql(schema);
    this.#clock = clock;
  }

  /** Creates the tables if needed (idempotent) and returns the repository. */
  static async open(
    pool: PgPoolLike,
    options: { schema: string; clock?: Clock },
  ): Promise<PgGoldenSetRepository> {
    ident(options.schema);
    await applyComponentSchema(
      pool,
      options.schema,
      PG_GOLDEN_COMPONENT,
      PG_GOLDEN_SCHEMA_VERSION,
      pgGoldenDdl(options.schema),
    );
    return new PgGoldenSetRepository(pool, options.schema, options.clock ?? systemClock);
  }

  async save(name: string, golden: GoldenSet, options: SaveSetOptions = {}): Promise<GoldenSetInfo> {
    assertGoldenName(name);
    return withTransaction(this.#pool, 'save a golden set', async (tx) => {
      await tx.query(this.#sql.lockName, [`reembed:golden:${name}`]);
      const found = (await tx.query<Row>(this.#sql.selectSetForUpdate, [name])).rows[0];
      const held = found ? rowOf(found) : undefined;
      if (held && held.digest === golden.digest) return goldenInfoOf(held);
      if (held && !options.replace) throw goldenExists(name, held, golden.digest);
      if (held) await tx.query(this.#sql.deleteSet, [name]);
      const row = goldenSetRow(name, golden, options, this.#clock.now().toISOString());
      await tx.query(this.#sql.insertSet, [
        row.name,
        row.digest,
        row.queries,
        row.judgments,
        row.skipped,
        row.source,
        row.saved_at,
        row.saved_by,
      ]);
      const qs = golden.queries;
      await tx.query(this.#sql.insertQueries, [
        name,
        qs.map((_, i) => i),
        qs.map((q) => q.id),
        qs.map((q) => q.text),
      ]);
      const js = goldenJudgments(golden);
      await tx.query(this.#sql.insertQrels, [
        name,
        js.map((j) => j.queryId),
        js.map((j) => j.docId),
        js.map((j) => j.grade),
      ]);
      await this.#audit(tx, row.saved_by, 'golden.save', name, {
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
    return withTransaction(this.#pool, 'read a golden set', async (tx) => {
      const row = (await tx.query<Row>(this.#sql.selectSet, [name])).rows[0];
      if (!row) {
        const names = (await tx.query<{ name: string }>(this.#sql.names)).rows.map((r) => r.name);
        throw unknownGoldenSet(name, names);
      }
      const queries = (await tx.query<{ query_id: string; text: string }>(this.#sql.selectQueries, [name]))
        .rows;
      const qrels = (
        await tx.query<{ query_id: string; doc_id: string; grade: number }>(this.#sql.selectQrels, [name])
      ).rows;
      return goldenOfRows(rowOf(row), queries, qrels);
    });
  }

  async list(): Promise<GoldenSetInfo[]> {
    const rows = await run<Row>(this.#pool, 'list golden sets', this.#sql.listSets);
    return rows.map((r) => goldenInfoOf(rowOf(r)));
  }

  async delete(name: string, options: { actor?: string } = {}): Promise<boolean> {
    return withTransaction(this.#pool, 'delete a golden set', async (tx) => {
      const held = (await tx.query<Row>(this.#sql.selectSetForUpdate, [name])).rows[0];
      if (!held) return false;
      await tx.query(this.#sql.deleteSet, [name]);
      await this.#audit(tx, options.actor ?? 'reembed', 'golden.delete', name, { digest: held.digest });
      return true;
    });
  }

  async #audit(
    tx: PgQueryable,
    actor: string,
    action: string,
    subject: string,
    details: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    await tx.query(this.#sql.insertAudit, [
      this.#clock.now().toISOString(),
      actor,
      action,
      subject,
      JSON.stringify(details),
    ]);
  }
}
