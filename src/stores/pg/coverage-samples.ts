import type {
  CoverageSample,
  CoverageSampleFilter,
  CoverageSampleRepository,
} from '../../ports/coverage-samples.js';
import { applyComponentSchema } from './migrations.js';
import { iso, type PgPoolLike, run, withTransaction } from './pool.js';
import { ident, qualified } from './sql.js';

export const PG_COVERAGE_SAMPLES_COMPONENT = 'coverage-samples';
export const PG_COVERAGE_SAMPLES_SCHEMA_VERSION = 1;

/** One row per namespace and measurement time, as in the embedded backend. */
export function pgCoverageSamplesDdl(schema: string): string[] {
  const table = qualified(schema, 'coverage_samples');
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
      namespace text NOT NULL,
      collection text NOT NULL,
      at timestamptz NOT NULL,
      live integer NOT NULL CHECK (live >= 0),
      current integer NOT NULL CHECK (current >= 0 AND current <= live),
      stale integer NOT NULL CHECK (stale >= 0),
      PRIMARY KEY (namespace, at)
    )`,
    `CREATE INDEX IF NOT EXISTS coverage_samples_by_collection ON ${table} (collection, at)`,
  ];
}

/** Statements of the repository, as strings (STYLE #6): unit-tested without a server. */
export function pgCoverageSamplesSql(schema: string) {
  const table = qualified(schema, 'coverage_samples');
  return {
    /** Every sample in one statement; a sample of the same namespace and time replaces the held one. */
    upsert: `INSERT INTO ${table} (namespace, collection, at, live, current, stale)
      SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::integer[], $5::integer[], $6::integer[])
      ON CONFLICT (namespace, at) DO UPDATE SET collection = excluded.collection, live = excluded.live,
        current = excluded.current, stale = excluded.stale`,
    read: `SELECT * FROM ${table}
      WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::text IS NULL OR collection = $2)
        AND ($3::text IS NULL OR namespace = $3)
      ORDER BY at, namespace COLLATE "C"`,
    latest: `SELECT DISTINCT ON (namespace) * FROM ${table}
      WHERE ($1::text IS NULL OR collection = $1) ORDER BY namespace, at DESC`,
    prune: `DELETE FROM ${table} WHERE at < $1`,
  };
}

interface Row {
  namespace: string;
  collection: string;
  at: Date | string;
  live: number;
  current: number;
  stale: number;
}

const fromRow = (row: Row): CoverageSample =>
  Object.freeze({
    namespace: row.namespace,
    collection: row.collection,
    at: iso(row.at),
    live: row.live,
    current: row.current,
    stale: row.stale,
  });

/** Coverage samples in PostgreSQL (its own `coverage-samples` schema component). */
export class PgCoverageSampleRepository implements CoverageSampleRepository {
  readonly #pool: PgPoolLike;
  readonly #sql: ReturnType<typeof pgCoverageSamplesSql>;

  private constructor(pool: PgPoolLike, schema: string) {
    this.#pool = pool;
    this.#sql = pgCoverageSamplesSql(schema);
  }

  /** Creates the table if needed (idempotent) and returns the repository. */
  static async open(pool: PgPoolLike, options: { schema: string }): Promise<PgCoverageSampleRepository> {
    ident(options.schema);
    await applyComponentSchema(
      pool,
      options.schema,
      PG_COVERAGE_SAMPLES_COMPONENT,
      PG_COVERAGE_SAMPLES_SCHEMA_VERSION,
      pgCoverageSamplesDdl(options.schema),
    );
    return new PgCoverageSampleRepository(pool, options.schema);
  }

  async record(samples: readonly CoverageSample[]): Promise<void> {
    if (samples.length === 0) return;
    // One row per key in one statement (ON CONFLICT cannot touch a row twice): the last sample wins.
    const unique = [...new Map(samples.map((s) => [`${s.namespace}\u0000${s.at}`, s])).values()];
    await withTransaction(this.#pool, 'record coverage samples', async (tx) => {
      await tx.query(this.#sql.upsert, [
        unique.map((s) => s.namespace),
        unique.map((s) => s.collection),
        unique.map((s) => s.at),
        unique.map((s) => s.live),
        unique.map((s) => s.current),
        unique.map((s) => s.stale),
      ]);
    });
  }

  async read(filter: CoverageSampleFilter = {}): Promise<CoverageSample[]> {
    const rows = await run<Row>(this.#pool, 'read coverage samples', this.#sql.read, [
      filter.since ? filter.since.toISOString() : null,
      filter.collection ?? null,
      filter.namespace ?? null,
    ]);
    return rows.map(fromRow);
  }

  async latest(collection?: string): Promise<Map<string, CoverageSample>> {
    const rows = await run<Row>(this.#pool, 'read the latest coverage samples', this.#sql.latest, [
      collection ?? null,
    ]);
    return new Map(rows.map((r) => [r.namespace, fromRow(r)]));
  }

  async prune(before: Date): Promise<number> {
    return withTransaction(this.#pool, 'prune coverage samples', async (tx) => {
      const result = await tx.query(this.#sql.prune, [before.toISOString()]);
      return result.rowCount ?? 0;
    });
  }
}
