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
import { type Clock, systemClock } from '../../ports/clock.js';
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
import type { SqliteDatabase } from './schema.js';
import { parseJsonObject, StatementCache } from './statements.js';

/** `['a', 'b']` → `'a', 'b'` for CHECK constraints built from the core's `as const` state lists. */
export const sqlList = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');

export const MIGRATIONS_COMPONENT = 'migrations';
export const MIGRATIONS_SCHEMA_VERSION = 1;

/**
 * Tables of the migration repository. The partial unique index lets an alias have at most one unfinished
 * migration, and the CHECK ties `completed_at` to the states after a committed cutover.
 */
export function migrationsDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS migrations (
      id TEXT PRIMARY KEY,
      collection TEXT NOT NULL REFERENCES collections(name),
      alias TEXT NOT NULL,
      from_ns TEXT NOT NULL REFERENCES namespaces(name),
      to_ns TEXT NOT NULL REFERENCES namespaces(name),
      strategy TEXT NOT NULL CHECK (strategy IN (${sqlList(MIGRATION_STRATEGIES)})),
      state TEXT NOT NULL CHECK (state IN (${sqlList(MIGRATION_STATES)})),
      options TEXT NOT NULL,
      info TEXT NOT NULL DEFAULT '{}',
      version INTEGER NOT NULL CHECK (version >= 1),
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      completed_at TEXT,
      CHECK (from_ns <> to_ns),
      CHECK (state NOT IN ('cut-over', 'retiring', 'retired') OR completed_at IS NOT NULL)
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS migrations_one_unfinished_per_alias ON migrations(alias)
      WHERE state NOT IN (${sqlList(TERMINAL_STATES)})`,
    `CREATE TABLE IF NOT EXISTS migration_agreement (
      id INTEGER PRIMARY KEY,
      migration_id TEXT NOT NULL REFERENCES migrations(id),
      at TEXT NOT NULL,
      phase TEXT NOT NULL,
      tenant TEXT,
      k INTEGER NOT NULL CHECK (k >= 1),
      overlap REAL NOT NULL,
      rbo REAL NOT NULL,
      served_ms REAL NOT NULL,
      shadow_ms REAL NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS migration_agreement_by_phase ON migration_agreement(migration_id, phase)',
    // Query texts kept for `migrate replay`, only for migrations that opted in (keepQueries).
    `CREATE TABLE IF NOT EXISTS migration_queries (
      id INTEGER PRIMARY KEY,
      migration_id TEXT NOT NULL REFERENCES migrations(id),
      at TEXT NOT NULL,
      text TEXT NOT NULL,
      tenant TEXT
    )`,
    'CREATE INDEX IF NOT EXISTS migration_queries_by_migration ON migration_queries(migration_id, id)',
    `CREATE TABLE IF NOT EXISTS namespace_traffic (
      namespace TEXT PRIMARY KEY,
      last_read_at TEXT NOT NULL,
      reads INTEGER NOT NULL CHECK (reads >= 0)
    )`,
  ];
}

interface MigrationRow {
  id: string;
  collection: string;
  alias: string;
  from_ns: string;
  to_ns: string;
  strategy: string;
  state: string;
  options: string;
  info: string;
  version: number;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

/** Registers this component's schema version (refusing a newer one) and creates the tables. */
export function applyComponentSchema(
  db: SqliteDatabase,
  component: string,
  version: number,
  ddl: string[],
  now: string,
): void {
  db.transaction(() => {
    for (const statement of ddl) db.exec(statement);
    const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(component) as
      | { version: number }
      | undefined;
    if (row && row.version > version) {
      throw new ReembedError(
        'STORE_FAILED',
        `The ${component} tables were written by a newer reembed (schema ${row.version}, this build knows ${version}). Upgrade reembed.`,
        { details: { component, found: row.version, supported: version } },
      );
    }
    if (!row)
      db.prepare('INSERT INTO schema_version (component, version, applied_at) VALUES (?, ?, ?)').run(
        component,
        version,
        now,
      );
  }).immediate();
}

/**
 * Migrations in the backend's SQLite file. Transitions are compare-and-set on `version`, checked
 * against the core transition table inside the write transaction, and audited in that transaction.
 */
export class SqliteMigrationRepository implements MigrationRepository {
  readonly #sql: StatementCache;
  readonly #clock: Clock;

  constructor(db: SqliteDatabase, options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    applyComponentSchema(db, MIGRATIONS_COMPONENT, MIGRATIONS_SCHEMA_VERSION, migrationsDdl(), this.#now());
    this.#sql = new StatementCache(db);
  }

  async create(input: NewMigration, actor: string): Promise<Migration> {
    return this.#sql.write('create a migration', () => {
      const open = this.#sql
        .get(
          `SELECT id, state FROM migrations WHERE alias = ? AND state NOT IN (${sqlList(TERMINAL_STATES)})`,
        )
        .get(input.alias) as { id: string; state: string } | undefined;
      if (open) throw unfinishedMigrationConflict(input.alias, open);
      const now = this.#now();
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
      this.#sql
        .get(
          `INSERT INTO migrations (id, collection, alias, from_ns, to_ns, strategy, state, options, info, version,
             created_at, updated_at, completed_at)
           VALUES (@id, @collection, @alias, @from_ns, @to_ns, @strategy, @state, @options, @info, @version,
             @created_at, @updated_at, @completed_at)`,
        )
        .run(row);
      this.#audit(actor, 'migration.create', input.id, {
        alias: input.alias,
        from: input.from,
        to: input.to,
        strategy: input.strategy,
        options: input.options,
      });
      return fromRow(row);
    });
  }

  async get(id: string): Promise<Migration> {
    const row = this.#row(id);
    if (!row) {
      const known = this.#sql
        .get('SELECT id FROM migrations ORDER BY created_at DESC LIMIT 10')
        .pluck()
        .all() as string[];
      throw new ReembedError(
        'NOT_FOUND',
        `Unknown migration "${id}". Recent migrations: ${known.length ? known.join(', ') : '(none)'}; list them with reembed migrate status.`,
        { details: { migration: id, known } },
      );
    }
    return fromRow(row);
  }

  async list(filter: { collection?: string; alias?: string; active?: boolean } = {}): Promise<Migration[]> {
    const rows = this.#sql
      .get(
        `SELECT * FROM migrations WHERE (@collection IS NULL OR collection = @collection)
           AND (@alias IS NULL OR alias = @alias)
           AND (@active = 0 OR state NOT IN (${sqlList(TERMINAL_STATES)}))
         ORDER BY created_at DESC, id DESC`,
      )
      .all({
        collection: filter.collection ?? null,
        alias: filter.alias ?? null,
        active: filter.active ? 1 : 0,
      }) as MigrationRow[];
    return rows.map(fromRow);
  }

  async transition(
    id: string,
    to: MigrationState,
    actor: string,
    options: TransitionOptions = {},
  ): Promise<Migration> {
    return this.#sql.write('change a migration state', () => {
      const current = fromRow(this.#required(id));
      checkVersion(current, options.expectedVersion);
      assertTransition(current, to);
      const now = this.#now();
      const completedAt = current.completedAt ?? (isComplete(to) ? now : null);
      const info = JSON.stringify({ ...current.info, ...(options.info ?? {}) });
      this.#sql
        .get(
          `UPDATE migrations SET state = ?, info = ?, version = version + 1, updated_at = ?, completed_at = ?
           WHERE id = ? AND version = ?`,
        )
        .run(to, info, now, completedAt, id, current.version);
      this.#audit(actor, 'migration.transition', id, {
        from: current.state,
        to,
        strategy: current.strategy,
        ...(options.details ?? {}),
      });
      return fromRow(this.#required(id));
    });
  }

  async updateInfo(id: string, patch: Readonly<Record<string, unknown>>, actor: string): Promise<Migration> {
    return this.#sql.write('update migration info', () => {
      const current = fromRow(this.#required(id));
      const info = JSON.stringify({ ...current.info, ...patch });
      this.#sql
        .get('UPDATE migrations SET info = ?, version = version + 1, updated_at = ? WHERE id = ?')
        .run(info, this.#now(), id);
      this.#audit(actor, 'migration.info', id, { patch });
      return fromRow(this.#required(id));
    });
  }

  async purge(collection: string): Promise<number> {
    return this.#sql.write('purge migrations', () => {
      this.#sql
        .get(
          'DELETE FROM migration_agreement WHERE migration_id IN (SELECT id FROM migrations WHERE collection = ?)',
        )
        .run(collection);
      this.#sql
        .get(
          'DELETE FROM migration_queries WHERE migration_id IN (SELECT id FROM migrations WHERE collection = ?)',
        )
        .run(collection);
      this.#sql
        .get(
          'DELETE FROM namespace_traffic WHERE namespace IN (SELECT name FROM namespaces WHERE collection = ?)',
        )
        .run(collection);
      return Number(this.#sql.get('DELETE FROM migrations WHERE collection = ?').run(collection).changes);
    });
  }

  async recordAgreement(samples: readonly AgreementSample[]): Promise<void> {
    if (samples.length === 0) return;
    this.#sql.write('record shadow agreement', () => {
      const insert = this.#sql.get(
        `INSERT INTO migration_agreement (migration_id, at, phase, tenant, k, overlap, rbo, served_ms, shadow_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const s of samples) {
        insert.run(s.migrationId, s.at, s.phase, s.tenant, s.k, s.overlap, s.rbo, s.servedMs, s.shadowMs);
      }
    });
  }

  async recordQueries(queries: readonly ServedQuery[], retention: QueryRetention): Promise<void> {
    if (queries.length === 0) return;
    this.#sql.write('keep served queries', () => {
      const insert = this.#sql.get(
        'INSERT INTO migration_queries (migration_id, at, text, tenant) VALUES (?, ?, ?, ?)',
      );
      for (const q of queries) insert.run(q.migrationId, q.at, q.text, q.tenant);
      for (const id of new Set(queries.map((q) => q.migrationId))) {
        this.#sql
          .get(
            `DELETE FROM migration_queries WHERE migration_id = @id AND (at < @before OR id <= COALESCE(
               (SELECT id FROM migration_queries WHERE migration_id = @id ORDER BY id DESC LIMIT 1 OFFSET @max), -1))`,
          )
          .run({ id, before: retention.before, max: retention.max });
      }
    });
  }

  async recentQueries(migrationId: string, limit: number): Promise<ServedQuery[]> {
    const rows = this.#sql
      .get(
        'SELECT migration_id, at, text, tenant FROM migration_queries WHERE migration_id = ? ORDER BY id DESC LIMIT ?',
      )
      .all(migrationId, limit) as { migration_id: string; at: string; text: string; tenant: string | null }[];
    return rows.map((r) => ({ migrationId: r.migration_id, at: r.at, text: r.text, tenant: r.tenant }));
  }

  async forgetQueries(migrationId: string): Promise<number> {
    return this.#sql.write(
      'forget served queries',
      () => this.#sql.get('DELETE FROM migration_queries WHERE migration_id = ?').run(migrationId).changes,
    );
  }

  async agreementSummary(
    migrationId: string,
    options: { phase?: MigrationState } = {},
  ): Promise<AgreementSummary> {
    const where = 'migration_id = @id AND (@phase IS NULL OR phase = @phase)';
    const params = { id: migrationId, phase: options.phase ?? null };
    return this.#sql.read('summarise shadow agreement', () => {
      const total = this.#sql
        .get(`SELECT COUNT(*) AS n, AVG(rbo) AS rbo FROM migration_agreement WHERE ${where}`)
        .get(params) as { n: number; rbo: number | null };
      const byK = this.#sql
        .get(`SELECT k, AVG(overlap) AS overlap FROM migration_agreement WHERE ${where} GROUP BY k`)
        .all(params) as { k: number; overlap: number }[];
      const tenants = this.#sql
        .get(
          `SELECT COALESCE(tenant, '') AS tenant, COUNT(*) AS n, AVG(rbo) AS rbo FROM migration_agreement
           WHERE ${where} GROUP BY COALESCE(tenant, '')`,
        )
        .all(params) as { tenant: string; n: number; rbo: number }[];
      const quantile = (column: 'served_ms' | 'shadow_ms', q: number): number | null =>
        total.n === 0
          ? null
          : (this.#sql
              .get(
                `SELECT ${column} FROM migration_agreement WHERE ${where} ORDER BY ${column} LIMIT 1 OFFSET @offset`,
              )
              .pluck()
              .get({
                ...params,
                offset: Math.min(total.n - 1, Math.floor(q * (total.n - 1) + 0.5)),
              }) as number);
      return Object.freeze({
        samples: total.n,
        overlap: Object.freeze(Object.fromEntries(byK.map((r) => [r.k, r.overlap]))),
        rbo: total.rbo,
        servedMs: Object.freeze({ p50: quantile('served_ms', 0.5), p99: quantile('served_ms', 0.99) }),
        shadowMs: Object.freeze({ p50: quantile('shadow_ms', 0.5), p99: quantile('shadow_ms', 0.99) }),
        tenants: Object.freeze(
          Object.fromEntries(tenants.map((t) => [t.tenant, { samples: t.n, rbo: t.rbo }])),
        ),
      });
    });
  }

  async recordReads(reads: readonly NamespaceTraffic[]): Promise<void> {
    if (reads.length === 0) return;
    this.#sql.write('record namespace reads', () => {
      const upsert = this.#sql.get(
        `INSERT INTO namespace_traffic (namespace, last_read_at, reads) VALUES (?, ?, ?)
         ON CONFLICT (namespace) DO UPDATE SET reads = reads + excluded.reads,
           last_read_at = MAX(last_read_at, excluded.last_read_at)`,
      );
      for (const r of reads) upsert.run(r.namespace, r.lastReadAt, r.reads);
    });
  }

  async traffic(namespace: string): Promise<NamespaceTraffic | null> {
    const row = this.#sql
      .get('SELECT namespace, last_read_at, reads FROM namespace_traffic WHERE namespace = ?')
      .get(namespace) as { namespace: string; last_read_at: string; reads: number } | undefined;
    return row
      ? Object.freeze({ namespace: row.namespace, lastReadAt: row.last_read_at, reads: row.reads })
      : null;
  }

  #row(id: string): MigrationRow | undefined {
    return this.#sql.get('SELECT * FROM migrations WHERE id = ?').get(id) as MigrationRow | undefined;
  }

  #required(id: string): MigrationRow {
    const row = this.#row(id);
    if (!row)
      throw new ReembedError('NOT_FOUND', `Unknown migration "${id}".`, { details: { migration: id } });
    return row;
  }

  /** The catalog's append-only audit table, written in the caller's transaction (invariant 8). */
  #audit(actor: string, action: string, subject: string, details: Readonly<Record<string, unknown>>): void {
    if (typeof actor !== 'string' || actor.trim().length === 0) {
      throw new ReembedError(
        'INVALID_INPUT',
        'actor must be a non-empty string (who made the change, for the audit log).',
        {
          details: { field: 'actor' },
        },
      );
    }
    this.#sql
      .get('INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)')
      .run(this.#now(), actor, action, subject, JSON.stringify(details));
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }
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
    options: JSON.parse(row.options) as MigrationOptions,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
    info: parseJsonObject(row.info),
  });
}
