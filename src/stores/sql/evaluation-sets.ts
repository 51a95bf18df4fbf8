import type { EvaluationSetRepository, SaveSetOptions } from '../../ports/evaluation-sets.js';
import { iso } from '../shared/timestamps.js';
import type { SqlDialect } from './dialect.js';
import { exec, rows, type SqlExecutor, type SqlWork } from './executor.js';
import { type SqlComponent, SqlRepository, type SqlRepositoryOptions } from './repository.js';

/** The columns every kind of evaluation set has in its set row. */
export interface SetRowBase {
  readonly name: string;
  readonly digest: string;
  readonly saved_at: string;
  readonly saved_by: string;
}

/** A set row as a driver returns it (PostgreSQL gives timestamps as `Date`). */
type Stored<R extends SetRowBase> = Omit<R, 'saved_at'> & { saved_at: Date | string };

/** The statements every kind of set needs, in one dialect (see `setStatements`). */
export interface SetStatements {
  readonly selectSet: string;
  readonly selectSetForUpdate: string;
  readonly listSets: string;
  readonly names: string;
  readonly deleteSet: string;
  readonly insertSet: string;
  /** Serialises saves of one name where the database has more than one writer (null on SQLite). */
  readonly lockName: string | null;
}

/** The kinds of evaluation set, as in table names (`golden_sets`), messages and the audit log. */
export type SetNoun = 'golden' | 'probe';

/** What a kind of evaluation set adds to the columns every kind has, in its set table and its queries table. */
export interface SetTables {
  /** The kind's own columns of its set row (`<noun>_sets`). */
  readonly setColumns: string;
  /** The kind's own columns of a query row (`<noun>_queries`). */
  readonly queryColumns: string;
  /** A query row is unique by position and by query id; this one is the primary key. */
  readonly key: 'position' | 'query_id';
}

/**
 * The tables every kind of evaluation set has: `<noun>_sets`, the set rows (`SetRowBase`, the query count,
 * the skipped inputs and where the set came from), and `<noun>_queries`, one row per query in order, going
 * with its set (ON DELETE CASCADE).
 */
export function setTablesDdl(d: SqlDialect, noun: SetNoun, tables: SetTables): string[] {
  const sets = d.table(`${noun}_sets`);
  return [
    `CREATE TABLE IF NOT EXISTS ${sets} (
      name TEXT PRIMARY KEY,
      digest TEXT NOT NULL,
      queries INTEGER NOT NULL CHECK (queries >= 1),
      ${tables.setColumns},
      skipped ${d.json} NOT NULL,
      source TEXT,
      saved_at ${d.timestamp} NOT NULL,
      saved_by TEXT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${d.table(`${noun}_queries`)} (
      set_name TEXT NOT NULL REFERENCES ${sets}(name) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      query_id TEXT NOT NULL,
      ${tables.queryColumns},
      PRIMARY KEY (set_name, ${tables.key}),
      UNIQUE (set_name, ${tables.key === 'position' ? 'query_id' : 'position'})
    )`,
  ];
}

/** The set-level statements over `table`, whose insert takes `columns` (in the order `SetKind.values` gives). */
export function setStatements(
  d: SqlDialect,
  table: string,
  select: string,
  columns: readonly string[],
): SetStatements {
  const t = d.table(table);
  const p = d.param;
  return {
    selectSet: `SELECT ${select} FROM ${t} WHERE name = ${p(1)}`,
    selectSetForUpdate: `SELECT ${select} FROM ${t} WHERE name = ${p(1)}${d.forUpdate}`,
    listSets: `SELECT ${select} FROM ${t} ORDER BY name`,
    names: `SELECT name FROM ${t} ORDER BY name`,
    deleteSet: `DELETE FROM ${t} WHERE name = ${p(1)}`,
    insertSet: `INSERT INTO ${t} (${columns.join(', ')})
      VALUES (${d.params(columns.length)})`,
    lockName: d.lockKey(),
  };
}

/**
 * What differs between two kinds of evaluation set stored the same way — a set row (name, digest, counts,
 * who saved it) and child rows that go with it (ON DELETE CASCADE): golden sets (queries and judgments)
 * and probe sets (queries cut from the collection). The repository below does the rest once.
 */
export interface SetKind<S, Info, R extends SetRowBase, Q extends SetStatements> {
  /** As in messages and the audit log: `golden` → "save a golden set", `golden.save`. */
  readonly noun: SetNoun;
  readonly component: SqlComponent<Q>;
  assertName(name: string): void;
  /** The stored set is this one: saving it again changes nothing. */
  same(held: R, set: S): boolean;
  /** The error of a save that would replace a different set without `replace`. */
  exists(name: string, held: R, set: S): Error;
  row(name: string, set: S, options: SaveSetOptions, savedAt: string): R;
  /** The set row's values in the order of `insertSet`'s columns. */
  values(row: R): unknown[];
  /** Inserts the set's child rows, in the save's transaction. */
  children(d: SqlDialect, name: string, set: S): SqlWork<void>;
  auditDetails(row: R, set: S, replaced: string | null): Record<string, unknown>;
  /** Reads the child rows of a stored set and rebuilds it (checking its digest). */
  rebuild(sql: Q, row: R): SqlWork<S>;
  info(row: R): Info;
  unknown(name: string, names: string[]): Error;
}

/**
 * Evaluation sets of one kind in a SQL backend (SQLite or PostgreSQL, one implementation over
 * `SqlExecutor`). A save writes the set row, its children and an audit line in one transaction, saves of
 * one name serialised; the same set again is a no-op, a different one needs `replace`. A read rebuilds the
 * set and checks its digest, so a hand-edited table is caught instead of silently changing eval or gate
 * results.
 */
export class SqlEvaluationSetRepository<S, Info, R extends SetRowBase, Q extends SetStatements>
  extends SqlRepository<Q>
  implements EvaluationSetRepository<S, Info>
{
  readonly #kind: SetKind<S, Info, R, Q>;

  private constructor(db: SqlExecutor, kind: SetKind<S, Info, R, Q>, options: SqlRepositoryOptions) {
    super(db, kind.component, options);
    this.#kind = kind;
  }

  /** Creates the kind's tables if needed (idempotent) and returns the repository. */
  static async open<S, Info, R extends SetRowBase, Q extends SetStatements>(
    db: SqlExecutor,
    kind: SetKind<S, Info, R, Q>,
    options: SqlRepositoryOptions = {},
  ): Promise<SqlEvaluationSetRepository<S, Info, R, Q>> {
    return new SqlEvaluationSetRepository(await kind.component.install(db), kind, options);
  }

  async save(name: string, set: S, options: SaveSetOptions = {}): Promise<Info> {
    const kind = this.#kind;
    kind.assertName(name);
    return this.transaction(`save a ${kind.noun} set`, function* ({ sql, d, clock, audit }) {
      if (sql.lockName) yield* exec(sql.lockName, [`reembed:${kind.noun}:${name}`]);
      const found = (yield* rows<Stored<R>>(sql.selectSetForUpdate, [name]))[0];
      const held = found ? rowOf(found) : undefined;
      if (held && kind.same(held, set)) return kind.info(held);
      if (held && !options.replace) throw kind.exists(name, held, set);
      if (held) yield* exec(sql.deleteSet, [name]);
      const row = kind.row(name, set, options, clock.now().toISOString());
      yield* exec(sql.insertSet, kind.values(row));
      yield* kind.children(d, name, set);
      yield* audit(
        row.saved_by,
        `${kind.noun}.save`,
        name,
        kind.auditDetails(row, set, held?.digest ?? null),
      );
      return kind.info(row);
    });
  }

  async get(name: string): Promise<S> {
    const kind = this.#kind;
    return this.snapshot(`read a ${kind.noun} set`, function* ({ sql }): SqlWork<S> {
      const row = (yield* rows<Stored<R>>(sql.selectSet, [name]))[0];
      if (!row) {
        const names = (yield* rows<{ name: string }>(sql.names)).map((r) => r.name);
        throw kind.unknown(name, names);
      }
      return yield* kind.rebuild(sql, rowOf(row));
    });
  }

  async list(): Promise<Info[]> {
    const found = await this.db.all<Stored<R>>(`list ${this.#kind.noun} sets`, this.sql.listSets);
    return found.map((r) => this.#kind.info(rowOf(r)));
  }

  async delete(name: string, options: { actor?: string } = {}): Promise<boolean> {
    const kind = this.#kind;
    return this.transaction(`delete a ${kind.noun} set`, function* ({ sql, audit }) {
      const held = (yield* rows<Stored<R>>(sql.selectSetForUpdate, [name]))[0];
      if (!held) return false;
      yield* exec(sql.deleteSet, [name]);
      yield* audit(options.actor ?? 'reembed', `${kind.noun}.delete`, name, {
        digest: held.digest,
      });
      return true;
    });
  }
}

const rowOf = <R extends SetRowBase>(row: Stored<R>): R => ({ ...row, saved_at: iso(row.saved_at) }) as R;

/** Opens the repository of `kind`: creates its tables if needed (idempotent). */
export function setRepositoryOpener<S, Info, R extends SetRowBase, Q extends SetStatements>(
  kind: SetKind<S, Info, R, Q>,
): (db: SqlExecutor, options?: SqlRepositoryOptions) => Promise<SqlEvaluationSetRepository<S, Info, R, Q>> {
  return (db, options = {}) => SqlEvaluationSetRepository.open(db, kind, options);
}
