import { ReembedError } from '../../core/errors.js';
import {
  assertTransition,
  isComplete,
  MIGRATION_STATES,
  MIGRATION_STRATEGIES,
  type Migration,
  type MigrationOptions,
  type MigrationState,
  type MigrationStrategy,
  migrationValue,
  TERMINAL_STATES,
  unfinishedMigrationConflict,
} from '../../core/migration.js';
import type {
  AgreementSample,
  AgreementSummary,
  MigrationRepository,
  NamespaceTraffic,
  NewMigration,
  QueryRetention,
  ServedQuery,
  TransitionOptions,
} from '../../ports/migrations.js';
import { checkActor } from '../shared/catalog-errors.js';
import { jsonValue, parseJsonObject } from '../shared/json.js';
import { iso, isoOrNull } from '../shared/timestamps.js';
import type { SqlDialect } from './dialect.js';
import { exec, rows, type SqlExecutor, type SqlWork } from './executor.js';
import { SqlRepository, type SqlRepositoryOptions, sqlComponent } from './repository.js';
import { bulkColumns, insertRows, optionalParams, sqlList } from './statements.js';

/**
 * Tables of the migration repository. The partial unique index lets an alias have at most one unfinished
 * migration, and the CHECK ties `completed_at` to the states after a committed cutover — storage rules,
 * not just code.
 */
export function migrationsDdl(d: SqlDialect): string[] {
  const t = d.table;
  return [
    `CREATE TABLE IF NOT EXISTS ${t('migrations')} (
      id TEXT PRIMARY KEY,
      collection TEXT NOT NULL REFERENCES ${t('collections')}(name),
      alias TEXT NOT NULL,
      from_ns TEXT NOT NULL REFERENCES ${t('namespaces')}(name),
      to_ns TEXT NOT NULL REFERENCES ${t('namespaces')}(name),
      strategy TEXT NOT NULL CHECK (strategy IN (${sqlList(MIGRATION_STRATEGIES)})),
      state TEXT NOT NULL CHECK (state IN (${sqlList(MIGRATION_STATES)})),
      options ${d.json} NOT NULL,
      info ${d.json} NOT NULL DEFAULT '{}',
      version INTEGER NOT NULL CHECK (version >= 1),
      created_at ${d.timestamp} NOT NULL,
      updated_at ${d.timestamp} NOT NULL,
      completed_at ${d.timestamp},
      CHECK (from_ns <> to_ns),
      CHECK (state NOT IN ('cut-over', 'retiring', 'retired') OR completed_at IS NOT NULL)
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS migrations_one_unfinished_per_alias ON ${t('migrations')} (alias)
      WHERE state NOT IN (${sqlList(TERMINAL_STATES)})`,
    `CREATE TABLE IF NOT EXISTS ${t('migration_agreement')} (
      id ${d.rowId},
      migration_id TEXT NOT NULL REFERENCES ${t('migrations')}(id),
      at ${d.timestamp} NOT NULL,
      phase TEXT NOT NULL,
      tenant TEXT,
      k INTEGER NOT NULL CHECK (k >= 1),
      overlap ${d.real} NOT NULL,
      rbo ${d.real} NOT NULL,
      served_ms ${d.real} NOT NULL,
      shadow_ms ${d.real} NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS migration_agreement_by_phase ON ${t('migration_agreement')} (migration_id, phase)`,
    // Query texts kept for `migrate replay`, only for migrations that opted in (keepQueries).
    `CREATE TABLE IF NOT EXISTS ${t('migration_queries')} (
      id ${d.rowId},
      migration_id TEXT NOT NULL REFERENCES ${t('migrations')}(id),
      at ${d.timestamp} NOT NULL,
      text TEXT NOT NULL,
      tenant TEXT
    )`,
    `CREATE INDEX IF NOT EXISTS migration_queries_by_migration ON ${t('migration_queries')} (migration_id, id)`,
    `CREATE TABLE IF NOT EXISTS ${t('namespace_traffic')} (
      namespace TEXT PRIMARY KEY,
      last_read_at ${d.timestamp} NOT NULL,
      reads ${d.bigint} NOT NULL CHECK (reads >= 0)
    )`,
  ];
}

const AGREEMENT_COLUMNS = bulkColumns(
  'migration_id text, at timestamptz, phase text, tenant text, k integer, overlap float8, rbo float8, served_ms float8, shadow_ms float8',
);
const QUERY_COLUMNS = bulkColumns('migration_id text, at timestamptz, text text, tenant text');
const READ_COLUMNS = bulkColumns('namespace text, last_read_at timestamptz, reads bigint');

/** Statements of the repository in one dialect, as strings (STYLE #6). */
export function migrationsSql(d: SqlDialect) {
  const t = d.table;
  const p = d.param;
  const unfinished = `state NOT IN (${sqlList(TERMINAL_STATES)})`;
  const agreement = t('migration_agreement');
  const where = `migration_id = ${p(1)} AND (${d.typed(2, 'text')} IS NULL OR phase = ${p(3)})`;
  const ofCollection = `IN (SELECT id FROM ${t('migrations')} WHERE collection = ${p(1)})`;
  return {
    unfinished: `SELECT id, state FROM ${t('migrations')} WHERE alias = ${p(1)} AND ${unfinished}`,
    insert: `INSERT INTO ${t('migrations')} (id, collection, alias, from_ns, to_ns, strategy, state, options, info,
      version, created_at, updated_at) VALUES (${d.params(6)}, 'planned', ${d.params(2, 7)}, 1, ${d.params(2, 9)})`,
    row: `SELECT * FROM ${t('migrations')} WHERE id = ${p(1)}`,
    locked: `SELECT * FROM ${t('migrations')} WHERE id = ${p(1)}${d.forUpdate}`,
    recent: `SELECT id FROM ${t('migrations')} ORDER BY created_at DESC LIMIT 10`,
    list: `SELECT * FROM ${t('migrations')} WHERE (${d.typed(1, 'text')} IS NULL OR collection = ${p(2)})
      AND (${d.typed(3, 'text')} IS NULL OR alias = ${p(4)}) AND (${d.typed(5, 'integer')} = 0 OR ${unfinished})
      ORDER BY created_at DESC, id DESC`,
    transition: `UPDATE ${t('migrations')} SET state = ${p(1)}, info = ${p(2)}, version = version + 1,
      updated_at = ${p(3)}, completed_at = ${p(4)} WHERE id = ${p(5)} RETURNING *`,
    updateInfo: `UPDATE ${t('migrations')} SET info = ${p(1)}, version = version + 1, updated_at = ${p(2)}
      WHERE id = ${p(3)} RETURNING *`,
    purge: [
      `DELETE FROM ${agreement} WHERE migration_id ${ofCollection}`,
      `DELETE FROM ${t('migration_queries')} WHERE migration_id ${ofCollection}`,
      `DELETE FROM ${t('namespace_traffic')} WHERE namespace IN
        (SELECT name FROM ${t('namespaces')} WHERE collection = ${p(1)})`,
    ],
    purgeMigrations: `DELETE FROM ${t('migrations')} WHERE collection = ${p(1)}`,
    total: `SELECT count(*) AS n, avg(rbo) AS rbo FROM ${agreement} WHERE ${where}`,
    byK: `SELECT k, avg(overlap) AS overlap FROM ${agreement} WHERE ${where} GROUP BY k`,
    tenants: `SELECT coalesce(tenant, '') AS tenant, count(*) AS n, avg(rbo) AS rbo FROM ${agreement}
      WHERE ${where} GROUP BY coalesce(tenant, '')`,
    quantile: (column: 'served_ms' | 'shadow_ms') =>
      `SELECT ${column} AS v FROM ${agreement} WHERE ${where} ORDER BY ${column} LIMIT 1 OFFSET ${p(4)}`,
    readsOnConflict: ` ON CONFLICT (namespace) DO UPDATE SET reads = namespace_traffic.reads + excluded.reads,
      last_read_at = ${d.greatest}(namespace_traffic.last_read_at, excluded.last_read_at)`,
    traffic: `SELECT namespace, last_read_at, reads FROM ${t('namespace_traffic')} WHERE namespace = ${p(1)}`,
    /** Keeps the newest `max` queries of a migration and none older than `before`. */
    trimQueries: `DELETE FROM ${t('migration_queries')} WHERE migration_id = ${p(1)} AND (at < ${p(2)} OR id <= COALESCE(
      (SELECT id FROM ${t('migration_queries')} WHERE migration_id = ${p(3)} ORDER BY id DESC LIMIT 1 OFFSET ${p(4)}), -1))`,
    recentQueries: `SELECT migration_id, at, text, tenant FROM ${t('migration_queries')} WHERE migration_id = ${p(1)}
      ORDER BY id DESC LIMIT ${p(2)}`,
    forgetQueries: `DELETE FROM ${t('migration_queries')} WHERE migration_id = ${p(1)}`,
  };
}

interface MigrationRow {
  id: string;
  collection: string;
  alias: string;
  from_ns: string;
  to_ns: string;
  strategy: string;
  state: string;
  options: unknown;
  info: unknown;
  version: number;
  created_at: unknown;
  updated_at: unknown;
  completed_at: unknown;
}

type Sql = ReturnType<typeof migrationsSql>;

/** The migrations component: migrations, shadow agreement, kept queries and namespace reads. */
export const MIGRATIONS = sqlComponent('migrations', 1, migrationsDdl, migrationsSql);

/**
 * Migrations in a SQL backend (SQLite or PostgreSQL, one implementation over `SqlExecutor`). Transitions
 * are checked against the core transition table under the row lock (PostgreSQL `FOR UPDATE`; SQLite's
 * write transaction), compare-and-set on `version`, and audited in the same transaction (invariant 8).
 */
export class SqlMigrationRepository extends SqlRepository<Sql> implements MigrationRepository {
  /** Creates the tables if needed (idempotent) and returns the repository. */
  static async open(db: SqlExecutor, options: SqlRepositoryOptions = {}): Promise<SqlMigrationRepository> {
    return new SqlMigrationRepository(await MIGRATIONS.install(db), MIGRATIONS, options);
  }

  async create(input: NewMigration, actor: string): Promise<Migration> {
    checkActor(actor);
    try {
      return await this.transaction('create a migration', function* ({ sql, clock, audit }) {
        const [open] = yield* rows<{ id: string; state: string }>(sql.unfinished, [input.alias]);
        if (open) throw unfinishedMigrationConflict(input.alias, open);
        const now = clock.now().toISOString();
        const row: MigrationRow = {
          id: input.id,
          collection: input.collection,
          alias: input.alias,
          from_ns: input.from,
          to_ns: input.to,
          strategy: input.strategy,
          state: 'planned',
          options: JSON.stringify(input.options),
          info: JSON.stringify(input.info ?? {}),
          version: 1,
          created_at: now,
          updated_at: now,
          completed_at: null,
        };
        yield* exec(sql.insert, [
          row.id,
          row.collection,
          row.alias,
          row.from_ns,
          row.to_ns,
          row.strategy,
          row.options,
          row.info,
          now,
          now,
        ]);
        yield* audit(actor, 'migration.create', input.id, {
          alias: input.alias,
          from: input.from,
          to: input.to,
          strategy: input.strategy,
          options: input.options,
        });
        return fromRow(row);
      });
    } catch (error) {
      // Two creators raced past the check (PostgreSQL): the partial unique index let one of them in. Any
      // other unique violation (an id taken) stays the store's failure.
      if (!this.db.dialect.uniqueViolation(error)) throw error;
      const [held] = await this.db.all<{ id: string; state: string }>(
        'read migrations',
        this.sql.unfinished,
        [input.alias],
      );
      if (held) throw unfinishedMigrationConflict(input.alias, held);
      throw error;
    }
  }

  async get(id: string): Promise<Migration> {
    const [row] = await this.db.all<MigrationRow>('read a migration', this.sql.row, [id]);
    if (row) return fromRow(row);
    const known = (await this.db.all<{ id: string }>('read migrations', this.sql.recent)).map((r) => r.id);
    throw new ReembedError(
      'NOT_FOUND',
      `Unknown migration "${id}". Recent migrations: ${known.length ? known.join(', ') : '(none)'}; list them with reembed migrate status.`,
      { details: { migration: id, known } },
    );
  }

  async list(filter: { collection?: string; alias?: string; active?: boolean } = {}): Promise<Migration[]> {
    const found = await this.db.all<MigrationRow>('list migrations', this.sql.list, [
      ...optionalParams(filter.collection ?? null, filter.alias ?? null),
      filter.active === true ? 1 : 0,
    ]);
    return found.map(fromRow);
  }

  async transition(
    id: string,
    to: MigrationState,
    actor: string,
    options: TransitionOptions = {},
  ): Promise<Migration> {
    checkActor(actor);
    return this.transaction('change a migration state', function* ({ sql, clock, audit }) {
      const current = fromRow(yield* locked(sql, id));
      checkVersion(current, options.expectedVersion);
      assertTransition(current, to);
      const now = clock.now().toISOString();
      const completedAt = current.completedAt ?? (isComplete(to) ? now : null);
      const info = JSON.stringify({ ...current.info, ...(options.info ?? {}) });
      const [row] = yield* rows<MigrationRow>(sql.transition, [to, info, now, completedAt, id]);
      yield* audit(actor, 'migration.transition', id, {
        from: current.state,
        to,
        strategy: current.strategy,
        ...(options.details ?? {}),
      });
      return fromRow(row as MigrationRow);
    });
  }

  async updateInfo(id: string, patch: Readonly<Record<string, unknown>>, actor: string): Promise<Migration> {
    checkActor(actor);
    return this.transaction('update migration info', function* ({ sql, clock, audit }) {
      const current = fromRow(yield* locked(sql, id));
      const info = JSON.stringify({ ...current.info, ...patch });
      const [row] = yield* rows<MigrationRow>(sql.updateInfo, [info, clock.now().toISOString(), id]);
      yield* audit(actor, 'migration.info', id, { patch });
      return fromRow(row as MigrationRow);
    });
  }

  async purge(collection: string): Promise<number> {
    return this.transaction('purge migrations', function* ({ sql }) {
      for (const statement of sql.purge) yield* exec(statement, [collection]);
      return yield* exec(sql.purgeMigrations, [collection]);
    });
  }

  async recordAgreement(samples: readonly AgreementSample[]): Promise<void> {
    if (samples.length === 0) return;
    const values = samples.map((s) => [
      s.migrationId,
      s.at,
      s.phase,
      s.tenant,
      s.k,
      s.overlap,
      s.rbo,
      s.servedMs,
      s.shadowMs,
    ]);
    await this.bulkWrite('record shadow agreement', ({ d }) =>
      insertRows(d, 'migration_agreement', AGREEMENT_COLUMNS, values),
    );
  }

  async agreementSummary(
    migrationId: string,
    options: { phase?: MigrationState } = {},
  ): Promise<AgreementSummary> {
    const params = [migrationId, ...optionalParams(options.phase ?? null)];
    return this.snapshot('summarise shadow agreement', function* ({ sql }): SqlWork<AgreementSummary> {
      const [total] = yield* rows<{ n: unknown; rbo: number | null }>(sql.total, params);
      const n = Number(total?.n ?? 0);
      const byK = yield* rows<{ k: number; overlap: number }>(sql.byK, params);
      const tenants = yield* rows<{ tenant: string; n: unknown; rbo: number }>(sql.tenants, params);
      // Nearest rank, the same on every backend, so they report equal p50/p99.
      const quantile = function* (column: 'served_ms' | 'shadow_ms', q: number): SqlWork<number | null> {
        if (n === 0) return null;
        const offset = Math.min(n - 1, Math.floor(q * (n - 1) + 0.5));
        const [row] = yield* rows<{ v: number }>(sql.quantile(column), [...params, offset]);
        return row?.v ?? null;
      };
      return Object.freeze({
        samples: n,
        overlap: Object.freeze(Object.fromEntries(byK.map((r) => [r.k, r.overlap]))),
        rbo: total?.rbo ?? null,
        servedMs: Object.freeze({
          p50: yield* quantile('served_ms', 0.5),
          p99: yield* quantile('served_ms', 0.99),
        }),
        shadowMs: Object.freeze({
          p50: yield* quantile('shadow_ms', 0.5),
          p99: yield* quantile('shadow_ms', 0.99),
        }),
        tenants: Object.freeze(
          Object.fromEntries(tenants.map((t) => [t.tenant, { samples: Number(t.n), rbo: t.rbo }])),
        ),
      });
    });
  }

  async recordReads(reads: readonly NamespaceTraffic[]): Promise<void> {
    if (reads.length === 0) return;
    // One statement cannot upsert the same key twice: fold duplicates first.
    const merged = new Map<string, { reads: number; lastReadAt: string }>();
    for (const r of reads) {
      const held = merged.get(r.namespace);
      merged.set(r.namespace, {
        reads: (held?.reads ?? 0) + r.reads,
        lastReadAt: held && held.lastReadAt > r.lastReadAt ? held.lastReadAt : r.lastReadAt,
      });
    }
    const values = [...merged].map(([namespace, m]) => [namespace, m.lastReadAt, m.reads]);
    await this.bulkWrite('record namespace reads', ({ d, sql }) =>
      insertRows(d, 'namespace_traffic', READ_COLUMNS, values, sql.readsOnConflict),
    );
  }

  async traffic(namespace: string): Promise<NamespaceTraffic | null> {
    const [row] = await this.db.all<{ namespace: string; last_read_at: unknown; reads: unknown }>(
      'read namespace traffic',
      this.sql.traffic,
      [namespace],
    );
    return row
      ? Object.freeze({
          namespace: row.namespace,
          lastReadAt: iso(row.last_read_at),
          reads: Number(row.reads),
        })
      : null;
  }

  async recordQueries(queries: readonly ServedQuery[], retention: QueryRetention): Promise<void> {
    if (queries.length === 0) return;
    const values = queries.map((q) => [q.migrationId, q.at, q.text, q.tenant]);
    await this.transaction('keep served queries', function* ({ d, sql }) {
      yield* insertRows(d, 'migration_queries', QUERY_COLUMNS, values);
      for (const id of new Set(queries.map((q) => q.migrationId)))
        yield* exec(sql.trimQueries, [id, retention.before, id, retention.max]);
    });
  }

  async recentQueries(migrationId: string, limit: number): Promise<ServedQuery[]> {
    const found = await this.db.all<{
      migration_id: string;
      at: unknown;
      text: string;
      tenant: string | null;
    }>('read served queries', this.sql.recentQueries, [migrationId, limit]);
    return found.map((r) => ({ migrationId: r.migration_id, at: iso(r.at), text: r.text, tenant: r.tenant }));
  }

  async forgetQueries(migrationId: string): Promise<number> {
    return this.db.run('forget served queries', this.sql.forgetQueries, [migrationId]);
  }
}

/** The row under the write lock: concurrent transitions of one migration run one after the other. */
function* locked(sql: Sql, id: string): SqlWork<MigrationRow> {
  const [row] = yield* rows<MigrationRow>(sql.locked, [id]);
  if (!row) throw new ReembedError('NOT_FOUND', `Unknown migration "${id}".`, { details: { migration: id } });
  return row;
}

function checkVersion(current: Migration, expected: number | undefined): void {
  if (expected === undefined || expected === current.version) return;
  throw new ReembedError(
    'CONFLICT',
    `Migration ${current.id} is at version ${current.version}, not ${expected}: another process changed it (now "${current.state}"). Re-read it and retry.`,
    { details: { migration: current.id, expected, actual: current.version, state: current.state } },
  );
}

function fromRow(row: MigrationRow): Migration {
  return migrationValue({
    id: row.id,
    collection: row.collection,
    alias: row.alias,
    from: row.from_ns,
    to: row.to_ns,
    strategy: row.strategy as MigrationStrategy,
    state: row.state as MigrationState,
    options: jsonValue<MigrationOptions>(row.options),
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    completedAt: isoOrNull(row.completed_at),
    info:
      typeof row.info === 'string'
        ? parseJsonObject(row.info)
        : ((row.info ?? {}) as Record<string, unknown>),
  });
}
