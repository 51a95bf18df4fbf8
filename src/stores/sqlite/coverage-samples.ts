import { type Clock, systemClock } from '../../ports/clock.js';
import type {
  CoverageSample,
  CoverageSampleFilter,
  CoverageSampleRepository,
} from '../../ports/coverage-samples.js';
import { applyComponentSchema } from './migrations.js';
import type { SqliteDatabase } from './schema.js';
import { StatementCache } from './statements.js';

export const COVERAGE_SAMPLES_COMPONENT = 'coverage-samples';
export const COVERAGE_SAMPLES_SCHEMA_VERSION = 1;

/** One row per namespace and measurement time; the collection is kept to filter without a join. */
export function coverageSamplesDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS coverage_samples (
      namespace TEXT NOT NULL,
      collection TEXT NOT NULL,
      at TEXT NOT NULL,
      live INTEGER NOT NULL CHECK (live >= 0),
      current INTEGER NOT NULL CHECK (current >= 0 AND current <= live),
      stale INTEGER NOT NULL CHECK (stale >= 0),
      PRIMARY KEY (namespace, at)
    ) WITHOUT ROWID`,
    'CREATE INDEX IF NOT EXISTS coverage_samples_by_collection ON coverage_samples(collection, at)',
  ];
}

export const COVERAGE_SAMPLES_SQL = {
  upsert: `INSERT OR REPLACE INTO coverage_samples (namespace, collection, at, live, current, stale)
    VALUES (@namespace, @collection, @at, @live, @current, @stale)`,
  read: `SELECT * FROM coverage_samples
    WHERE at >= @since AND (@collection IS NULL OR collection = @collection)
      AND (@namespace IS NULL OR namespace = @namespace)
    ORDER BY at, namespace`,
  latest: `SELECT s.* FROM coverage_samples s
    JOIN (SELECT namespace, MAX(at) AS at FROM coverage_samples
          WHERE (@collection IS NULL OR collection = @collection) GROUP BY namespace) m
      ON m.namespace = s.namespace AND m.at = s.at`,
  prune: 'DELETE FROM coverage_samples WHERE at < ?',
} as const;

interface Row {
  namespace: string;
  collection: string;
  at: string;
  live: number;
  current: number;
  stale: number;
}

const fromRow = (row: Row): CoverageSample =>
  Object.freeze({
    namespace: row.namespace,
    collection: row.collection,
    at: row.at,
    live: row.live,
    current: row.current,
    stale: row.stale,
  });

/**
 * Coverage samples in the backend's SQLite file (its own `coverage-samples` schema component).
 *
 * @example
 * const samples = new SqliteCoverageSampleRepository(backend.db);
 * await samples.record([{ namespace: 'docs@v2', collection: 'docs', at, live: 100, current: 40, stale: 0 }]);
 */
export class SqliteCoverageSampleRepository implements CoverageSampleRepository {
  readonly #sql: StatementCache;

  constructor(db: SqliteDatabase, options: { clock?: Clock } = {}) {
    const clock = options.clock ?? systemClock;
    applyComponentSchema(
      db,
      COVERAGE_SAMPLES_COMPONENT,
      COVERAGE_SAMPLES_SCHEMA_VERSION,
      coverageSamplesDdl(),
      clock.now().toISOString(),
    );
    this.#sql = new StatementCache(db);
  }

  async record(samples: readonly CoverageSample[]): Promise<void> {
    if (samples.length === 0) return;
    this.#sql.write('record coverage samples', () => {
      const upsert = this.#sql.get(COVERAGE_SAMPLES_SQL.upsert);
      for (const s of samples) upsert.run({ ...s });
    });
  }

  async read(filter: CoverageSampleFilter = {}): Promise<CoverageSample[]> {
    const rows = this.#sql.get(COVERAGE_SAMPLES_SQL.read).all({
      since: filter.since ? filter.since.toISOString() : '',
      collection: filter.collection ?? null,
      namespace: filter.namespace ?? null,
    }) as Row[];
    return rows.map(fromRow);
  }

  async latest(collection?: string): Promise<Map<string, CoverageSample>> {
    const rows = this.#sql.get(COVERAGE_SAMPLES_SQL.latest).all({ collection: collection ?? null }) as Row[];
    return new Map(rows.map((r) => [r.namespace, fromRow(r)]));
  }

  async prune(before: Date): Promise<number> {
    return this.#sql.write(
      'prune coverage samples',
      () => this.#sql.get(COVERAGE_SAMPLES_SQL.prune).run(before.toISOString()).changes,
    );
  }
}
