import { pgDialect, type SqlDialect } from '../sql/dialect.js';
import { driveAsync, type SqlExecutor, type SqlStatement, type SqlWork } from '../sql/executor.js';
import { applyComponentSchema } from './component-schema.js';
import { type PgPoolLike, type PgQueryable, pgFailure, run, withTransaction } from './pool.js';

/**
 * The SQL executor over a `pg` pool, with every table in one schema: a unit of work runs on one pooled
 * client between BEGIN and COMMIT (rolled back on any error), awaiting each statement's answer.
 */
export class PgExecutor implements SqlExecutor {
  readonly dialect: SqlDialect;
  readonly #pool: PgPoolLike;
  readonly #schema: string;

  constructor(pool: PgPoolLike, schema: string) {
    this.dialect = pgDialect(schema);
    this.#pool = pool;
    this.#schema = schema;
  }

  async write<T>(what: string, work: () => SqlWork<T>): Promise<T> {
    return withTransaction(this.#pool, what, (tx) => driveAsync(work(), answerOn(tx)));
  }

  async all<R>(what: string, text: string, params: readonly unknown[] = []): Promise<R[]> {
    return run<R>(this.#pool, what, text, params);
  }

  async run(what: string, text: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.#pool.query(text, params)).rowCount ?? 0;
    } catch (error) {
      throw pgFailure(what, error);
    }
  }

  async bulk(what: string, work: () => SqlWork<void>): Promise<void> {
    let statements = 0;
    await driveAsync(work(), async (s) => {
      statements += 1;
      if (statements > 1) throw new Error(`bulk work "${what}" yielded more than one statement`);
      try {
        return (await this.#pool.query(s.text, s.params)).rowCount ?? 0;
      } catch (error) {
        throw pgFailure(what, error);
      }
    });
  }

  /** One snapshot: a REPEATABLE READ READ ONLY transaction (no extra round trip: it is the BEGIN). */
  async read<T>(what: string, work: () => SqlWork<T>): Promise<T> {
    return withTransaction(this.#pool, what, (tx) => driveAsync(work(), answerOn(tx)), READ_SNAPSHOT);
  }

  async ensureSchema(component: string, version: number, ddl: readonly string[]): Promise<void> {
    await applyComponentSchema(this.#pool, this.#schema, component, version, ddl);
  }
}

const READ_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

const answerOn =
  (tx: PgQueryable) =>
  async (s: SqlStatement): Promise<unknown> => {
    const result = await tx.query(s.text, s.params);
    return s.result === 'rows' ? result.rows : (result.rowCount ?? 0);
  };
