import { type Clock, systemClock } from '../../ports/clock.js';
import type { SqlDialect } from './dialect.js';
import type { SqlExecutor, SqlWork } from './executor.js';
import { audit } from './statements.js';

/**
 * A schema component of the SQL backends: its name and version in `schema_version`, its tables, and the
 * statements of the repository over them — each a pure function of the dialect (STYLE #6), so the same
 * component installs and runs on SQLite and PostgreSQL and its SQL is unit-tested as strings.
 */
export interface SqlComponent<S> {
  readonly name: string;
  readonly version: number;
  ddl(d: SqlDialect): string[];
  statements(d: SqlDialect): S;
  /** Creates the component's tables if needed (idempotent; refuses tables of a newer reembed); answers `db`. */
  install(db: SqlExecutor): Promise<SqlExecutor>;
}

/** A component from its parts (`sqlComponent('traffic', 1, trafficDdl, trafficSql)`). */
export function sqlComponent<S>(
  name: string,
  version: number,
  ddl: (d: SqlDialect) => string[],
  statements: (d: SqlDialect) => S,
): SqlComponent<S> {
  return Object.freeze({
    name,
    version,
    ddl,
    statements,
    async install(db: SqlExecutor): Promise<SqlExecutor> {
      await db.ensureSchema(name, version, ddl(db.dialect));
      return db;
    },
  });
}

/** What a unit of work of a repository is given: its statements, the dialect, and the audit line. */
export interface SqlUnit<S> {
  readonly sql: S;
  readonly d: SqlDialect;
  readonly clock: Clock;
  /** The append-only audit line of a change, in the unit's transaction (invariant 8). */
  audit(
    actor: string,
    action: string,
    subject: string,
    details: Readonly<Record<string, unknown>>,
  ): SqlWork<void>;
}

/** Options every SQL repository takes. */
export interface SqlRepositoryOptions {
  readonly clock?: Clock;
}

/**
 * The base of every SQL repository: what is left to a repository is its SQL (its `SqlComponent`) and its
 * row mapping. Units of work get the statements and an audit writer (`this.transaction('…', function* ({ sql,
 * audit }) { … })`) instead of each method copying them out of fields. Subclasses are built by a static
 * `open` after their component's `install`, so a repository never runs before its tables exist.
 */
export abstract class SqlRepository<S> {
  protected readonly db: SqlExecutor;
  protected readonly sql: S;
  protected readonly clock: Clock;
  readonly #unit: SqlUnit<S>;

  protected constructor(db: SqlExecutor, component: SqlComponent<S>, options: SqlRepositoryOptions = {}) {
    const d = db.dialect;
    const sql = component.statements(d);
    const clock = options.clock ?? systemClock;
    this.db = db;
    this.sql = sql;
    this.clock = clock;
    this.#unit = Object.freeze({
      sql,
      d,
      clock,
      audit: (actor: string, action: string, subject: string, details: Readonly<Record<string, unknown>>) =>
        audit(d, clock, actor, action, subject, details),
    });
  }

  /** Runs `work` in one write transaction (see `SqlExecutor.write`). */
  protected transaction<T>(what: string, work: (unit: SqlUnit<S>) => SqlWork<T>): Promise<T> {
    return this.db.write(what, () => work(this.#unit));
  }

  /** Runs `work` as one consistent read (see `SqlExecutor.read`). */
  protected snapshot<T>(what: string, work: (unit: SqlUnit<S>) => SqlWork<T>): Promise<T> {
    return this.db.read(what, () => work(this.#unit));
  }

  /** Runs a bulk write (one statement on PostgreSQL; see `SqlExecutor.bulk`). */
  protected bulkWrite(what: string, work: (unit: SqlUnit<S>) => SqlWork<void>): Promise<void> {
    return this.db.bulk(what, () => work(this.#unit));
  }

  /** The current time as stored (ISO 8601). */
  protected now(): string {
    return this.clock.now().toISOString();
  }
}
