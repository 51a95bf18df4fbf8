import { type Clock, systemClock } from '../../ports/clock.js';
import { type SqlDialect, sqliteDialect } from '../sql/dialect.js';
import { driveSync, type SqlExecutor, type SqlStatement, type SqlWork } from '../sql/executor.js';
import { applyComponentSchema } from './component-schema.js';
import { type StatementCache, storeFailure } from './statements.js';

/**
 * The SQL executor over better-sqlite3: a unit of work runs synchronously inside one `db.transaction`
 * (nested as a savepoint in an outer one), each statement prepared once per connection (the backend's
 * shared `StatementCache`). The only asynchronous step is the promise the caller gets back.
 */
export class SqliteExecutor implements SqlExecutor {
  readonly dialect: SqlDialect = sqliteDialect();
  readonly #statements: StatementCache;
  readonly #clock: Clock;
  readonly #answer = (s: SqlStatement): unknown => {
    const statement = this.#statements.get(s.text);
    return s.result === 'rows' ? statement.all(...s.params) : statement.run(...s.params).changes;
  };

  constructor(statements: StatementCache, clock: Clock = systemClock) {
    this.#statements = statements;
    this.#clock = clock;
  }

  async write<T>(what: string, work: () => SqlWork<T>): Promise<T> {
    return this.#statements.write(what, () => driveSync(work(), this.#answer));
  }

  async all<R>(what: string, text: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      return this.#statements.get(text).all(...params) as R[];
    } catch (error) {
      throw storeFailure(what, error);
    }
  }

  async run(what: string, text: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return this.#statements.get(text).run(...params).changes;
    } catch (error) {
      throw storeFailure(what, error);
    }
  }

  async bulk(what: string, work: () => SqlWork<void>): Promise<void> {
    this.#statements.write(what, () => driveSync(work(), this.#answer));
  }

  async read<T>(what: string, work: () => SqlWork<T>): Promise<T> {
    return this.#statements.read(what, () => driveSync(work(), this.#answer));
  }

  async ensureSchema(component: string, version: number, ddl: readonly string[]): Promise<void> {
    applyComponentSchema(this.#statements.db, component, version, [...ddl], this.#clock.now().toISOString());
  }
}
