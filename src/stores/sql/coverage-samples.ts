import type {
  CoverageSample,
  CoverageSampleFilter,
  CoverageSampleRepository,
} from '../../ports/coverage-samples.js';
import { iso } from '../shared/timestamps.js';
import type { SqlDialect } from './dialect.js';
import { exec, type SqlExecutor } from './executor.js';
import { SqlRepository, sqlComponent } from './repository.js';
import { bulkColumns, insertRows, optionalParams } from './statements.js';

/** One row per namespace and measurement time; the collection is kept to filter without a join. */
export function coverageSamplesDdl(d: SqlDialect): string[] {
  const table = d.table('coverage_samples');
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
      namespace TEXT NOT NULL,
      collection TEXT NOT NULL,
      at ${d.timestamp} NOT NULL,
      live INTEGER NOT NULL CHECK (live >= 0),
      current INTEGER NOT NULL CHECK (current >= 0 AND current <= live),
      stale INTEGER NOT NULL CHECK (stale >= 0),
      PRIMARY KEY (namespace, at)
    )${d.withoutRowid}`,
    `CREATE INDEX IF NOT EXISTS coverage_samples_by_collection ON ${table} (collection, at)`,
  ];
}

const COVERAGE_COLUMNS = bulkColumns(
  'namespace text, collection text, at timestamptz, live integer, current integer, stale integer',
);

/** Statements of the repository in one dialect, as strings (STYLE #6). */
export function coverageSamplesSql(d: SqlDialect) {
  const table = d.table('coverage_samples');
  const p = d.param;
  const collection = `(${d.typed(1, 'text')} IS NULL OR collection = ${p(2)})`;
  return {
    /** A sample of the same namespace and time replaces the held one. */
    onConflict: ` ON CONFLICT (namespace, at) DO UPDATE SET collection = excluded.collection,
      live = excluded.live, current = excluded.current, stale = excluded.stale`,
    read: `SELECT * FROM ${table}
      WHERE (${d.typed(1, 'timestamptz')} IS NULL OR at >= ${p(2)})
        AND (${d.typed(3, 'text')} IS NULL OR collection = ${p(4)})
        AND (${d.typed(5, 'text')} IS NULL OR namespace = ${p(6)})
      ORDER BY at, ${d.binary('namespace')}`,
    latest: `SELECT s.* FROM ${table} s
      JOIN (SELECT namespace, MAX(at) AS at FROM ${table} WHERE ${collection} GROUP BY namespace) m
        ON m.namespace = s.namespace AND m.at = s.at`,
    prune: `DELETE FROM ${table} WHERE at < ${p(1)}`,
  };
}

/** The coverage-samples component: one row per namespace and measurement time. */
export const COVERAGE_SAMPLES = sqlComponent('coverage-samples', 1, coverageSamplesDdl, coverageSamplesSql);

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

/**
 * Coverage samples in a SQL backend (its own `coverage-samples` schema component; one implementation over
 * `SqlExecutor` for SQLite and PostgreSQL).
 *
 * @example
 * await backend.coverageSamples.record([{ namespace: 'docs@v2', collection: 'docs', at, live: 100, current: 40, stale: 0 }]);
 */
export class SqlCoverageSampleRepository
  extends SqlRepository<ReturnType<typeof coverageSamplesSql>>
  implements CoverageSampleRepository
{
  /** Creates the table if needed (idempotent) and returns the repository. */
  static async open(db: SqlExecutor): Promise<SqlCoverageSampleRepository> {
    return new SqlCoverageSampleRepository(await COVERAGE_SAMPLES.install(db), COVERAGE_SAMPLES);
  }

  async record(samples: readonly CoverageSample[]): Promise<void> {
    if (samples.length === 0) return;
    // One row per key (one statement's ON CONFLICT cannot touch a row twice): the last sample wins.
    const unique = [...new Map(samples.map((s) => [`${s.namespace}\u0000${s.at}`, s])).values()];
    const values = unique.map((s) => [s.namespace, s.collection, s.at, s.live, s.current, s.stale]);
    await this.transaction('record coverage samples', ({ d, sql }) =>
      insertRows(d, 'coverage_samples', COVERAGE_COLUMNS, values, sql.onConflict),
    );
  }

  async read(filter: CoverageSampleFilter = {}): Promise<CoverageSample[]> {
    const found = await this.db.all<Row>(
      'read coverage samples',
      this.sql.read,
      optionalParams(
        filter.since?.toISOString() ?? null,
        filter.collection ?? null,
        filter.namespace ?? null,
      ),
    );
    return found.map(fromRow);
  }

  async latest(collection?: string): Promise<Map<string, CoverageSample>> {
    const found = await this.db.all<Row>(
      'read the latest coverage samples',
      this.sql.latest,
      optionalParams(collection ?? null),
    );
    return new Map(found.map((r) => [r.namespace, fromRow(r)]));
  }

  async prune(before: Date): Promise<number> {
    return this.transaction('prune coverage samples', ({ sql }) => exec(sql.prune, [before.toISOString()]));
  }
}
