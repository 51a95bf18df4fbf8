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
import {
  iso,
  isoOrNull,
  num,
  type PgPoolLike,
  type PgQueryable,
  run,
  sqlState,
  withTransaction,
} from './pool.js';
import { advisoryLockSql, ident, literal, qualified } from './sql.js';

export const MIGRATIONS_COMPONENT = 'migrations';
export const MIGRATIONS_SCHEMA_VERSION = 1;

const list = (values: readonly string[]): string => values.map(literal).join(', ');

/**
 * Tables of the migration repository, the same shape as the embedded backend's: the partial unique
 * index lets an alias have at most one unfinished migration and the CHECK ties `completed_at` to the
 * states after a committed cutover — storage rules, not just code.
 */
export function pgMigrationsDdl(schema: string): string[] {
  const t = (name: string): string => qualified(schema, name);
  return [
    `CREATE TABLE IF NOT EXISTS ${t('migrations')} (
      id text PRIMARY KEY,
      collection text NOT NULL REFERENCES ${t('collections')}(name),
      alias text NOT NULL,
      from_ns text NOT NULL REFERENCES ${t('namespaces')}(name),
      to_ns text NOT NULL REFERENCES ${t('namespaces')}(name),
      strategy text NOT NULL CHECK (strategy IN (${list(MIGRATION_STRATEGIES)})),
      state text NOT NULL CHECK (state IN (${list(MIGRATION_STATES)})),
      options jsonb NOT NULL,
      info jsonb NOT NULL DEFAULT '{}',
      version integer NOT NULL CHECK (version >= 1),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      completed_at timestamptz,
      CHECK (from_ns <> to_ns),
      CHECK (state NOT IN ('cut-over', 'retiring', 'retired') OR completed_at IS NOT NULL)
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS migrations_one_unfinished_per_alias ON ${t('migrations')} (alias)
      WHERE state NOT IN (${list(TERMINAL_STATES)})`,
    `CREATE TABLE IF NOT EXISTS ${t('migration_agreement')} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      migration_id text NOT NULL REFERENCES ${t('migrations')}(id),
      at timestamptz NOT NULL,
      phase text NOT NULL,
      tenant text,
      k integer NOT NULL CHECK (k >= 1),
      overlap double precision NOT NULL,
      rbo double precision NOT NULL,
      served_ms double precision NOT NULL,
      shadow_ms double precision NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS migration_agreement_by_phase ON ${t('migration_agreement')} (migration_id, phase)`,
    // Query texts kept for `migrate replay`, only for migrations that opted in (keepQueries).
    `CREATE TABLE IF NOT EXISTS ${t('migration_queries')} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      migration_id text NOT NULL REFERENCES ${t('migrations')}(id),
      at timestamptz NOT NULL,
      text text NOT NULL,
      tenant text
    )`,
    `CREATE INDEX IF NOT EXISTS migration_queries_by_migration ON ${t('migration_queries')} (migration_id, id)`,
    `CREATE TABLE IF NOT EXISTS ${t('namespace_traffic')} (
      namespace text PRIMARY KEY,
      last_read_at timestamptz NOT NULL,
      reads bigint NOT NULL CHECK (reads >= 0)
    )`,
  ];
}

/**
 * Creates a component's tables idempotently under the schema's advisory lock (processes may start
 * together) and records its version, refusing tables written by a newer reembed.
 */
export async function applyComponentSchema(
  pool: PgPoolLike,
  schema: string,
  component: string,
  version: number,
  ddl: readonly string[],
): Promise<void> {
  await withTransaction(pool, `prepare the ${component} tables`, async (tx) => {
    await tx.query(advisoryLockSql(), [`reembed:schema:${schema}`]);
    for (const statement of ddl) await tx.query(statement);
    const table = qualified(schema, 'schema_version');
    const { rows } = await tx.query<{ version: number }>(
      `SELECT version FROM ${table} WHERE component = $1`,
      [component],
    );
    const found = rows[0]?.version;
    if (found !== undefined && found > version) {
      throw new ReembedError(
        'STORE_FAILED',
        `The ${component} tables of schema "${schema}" were written by a newer reembed (schema ${found}, this build knows ${version}). Upgrade reembed.`,
        { details: { component, found, supported: version } },
      );
    }
    if (found === undefined)
      await tx.query(`INSERT INTO ${table} (component, version) VALUES ($1, $2)`, [component, version]);
  });
}

interface MigrationRow {
  id: string;
  collection: string;
  alias: string;
  from_ns: string;
  to_ns: string;
  strategy: string;
  state: string;
  options: MigrationOptions;
  info: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

/**
 * Migrations in PostgreSQL with the semantics of the embedded repository: transitions are checked
 * against the core transition table under the row lock (`FOR UPDATE`), compare-and-set on `version`,
 * and audited in the same transaction (invariant 8).
 */
export class PgMigrationRepository implements MigrationRepository {
  readonly #pool: PgPoolLike;
  readonly #schema: string;
  readonly #clock: Clock;

  private constructor(pool: PgPoolLike, schema: string, clock: Clock) {
    this.#pool = pool;
    this.#schema = schema;
    this.#clock = clock;
  }

  /** Creates the tables if needed (idempotent) and returns the repository. */
  static async open(
    pool: PgPoolLike,
    options: { schema: string; clock?: Clock },
  ): Promise<PgMigrationRepository> {
    ident(options.schema);
    await applyComponentSchema(
      pool,
      options.schema,
      MIGRATIONS_COMPONENT,
      MIGRATIONS_SCHEMA_VERSION,
      pgMigrationsDdl(options.schema),
    );
    return new PgMigrationRepository(pool, options.schema, options.clock ?? systemClock);
  }

  async create(input: NewMigration, actor: string): Promise<Migration> {
    checkActor(actor);
    const open = () =>
      run<{ id: string; state: string }>(
        this.#pool,
        'read migrations',
        `SELECT id, state FROM ${this.#t('migrations')} WHERE alias = $1 AND state NOT IN (${list(TERMINAL_STATES)})`,
        [input.alias],
      );
    const refuse = async (): Promise<never> => {
      const held = (await open())[0];
      throw unfinishedMigrationConflict(input.alias, { id: held?.id ?? null, state: held?.state ?? null });
    };
    if ((await open()).length > 0) await refuse();
    const now = this.#now();
    try {
      return await withTransaction(this.#pool, 'create a migration', async (tx) => {
        const { rows } = await tx.query<MigrationRow>(
          `INSERT INTO ${this.#t('migrations')} (id, collection, alias, from_ns, to_ns, strategy, state, options, info,
             version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'planned', $7, $8, 1, $9, $9) RETURNING *`,
          [
            input.id,
            input.collection,
            input.alias,
            input.from,
            input.to,
            input.strategy,
            JSON.stringify(input.options),
            JSON.stringify(input.info ?? {}),
            now,
          ],
        );
        await this.#audit(tx, actor, 'migration.create', input.id, {
          alias: input.alias,
          from: input.from,
          to: input.to,
          strategy: input.strategy,
          options: input.options,
        });
        return fromRow(rows[0] as MigrationRow);
      });
    } catch (error) {
      // Two creators raced past the check: the partial unique index let one of them in.
      if (sqlState((error as { cause?: unknown }).cause) === '23505') return refuse();
      throw error;
    }
  }

  async get(id: string): Promise<Migration> {
    const row = await this.#row(this.#pool, id);
    if (row) return fromRow(row);
    const known = (
      await run<{ id: string }>(
        this.#pool,
        'read migrations',
        `SELECT id FROM ${this.#t('migrations')} ORDER BY created_at DESC LIMIT 10`,
      )
    ).map((r) => r.id);
    throw new ReembedError(
      'NOT_FOUND',
      `Unknown migration "${id}". Recent migrations: ${known.length ? known.join(', ') : '(none)'}; list them with reembed migrate status.`,
      { details: { migration: id, known } },
    );
  }

  async list(filter: { collection?: string; alias?: string; active?: boolean } = {}): Promise<Migration[]> {
    const rows = await run<MigrationRow>(
      this.#pool,
      'list migrations',
      `SELECT * FROM ${this.#t('migrations')} WHERE ($1::text IS NULL OR collection = $1)
         AND ($2::text IS NULL OR alias = $2) AND (NOT $3 OR state NOT IN (${list(TERMINAL_STATES)}))
       ORDER BY created_at DESC, id DESC`,
      [filter.collection ?? null, filter.alias ?? null, filter.active === true],
    );
    return rows.map(fromRow);
  }

  async transition(
    id: string,
    to: MigrationState,
    actor: string,
    options: TransitionOptions = {},
  ): Promise<Migration> {
    checkActor(actor);
    return withTransaction(this.#pool, 'change a migration state', async (tx) => {
      const current = fromRow(await this.#locked(tx, id));
      checkVersion(current, options.expectedVersion);
      assertTransition(current, to);
      const now = this.#now();
      const completedAt = current.completedAt ?? (isComplete(to) ? now : null);
      const { rows } = await tx.query<MigrationRow>(
        `UPDATE ${this.#t('migrations')} SET state = $2, info = info || $3::jsonb, version = version + 1,
           updated_at = $4, completed_at = $5 WHERE id = $1 RETURNING *`,
        [id, to, JSON.stringify(options.info ?? {}), now, completedAt],
      );
      await this.#audit(tx, actor, 'migration.transition', id, {
        from: current.state,
        to,
        strategy: current.strategy,
        ...(options.details ?? {}),
      });
      return fromRow(rows[0] as MigrationRow);
    });
  }

  async updateInfo(id: string, patch: Readonly<Record<string, unknown>>, actor: string): Promise<Migration> {
    checkActor(actor);
    return withTransaction(this.#pool, 'update migration info', async (tx) => {
      await this.#locked(tx, id);
      const { rows } = await tx.query<MigrationRow>(
        `UPDATE ${this.#t('migrations')} SET info = info || $2::jsonb, version = version + 1, updated_at = $3
         WHERE id = $1 RETURNING *`,
        [id, JSON.stringify(patch), this.#now()],
      );
      await this.#audit(tx, actor, 'migration.info', id, { patch });
      return fromRow(rows[0] as MigrationRow);
    });
  }

  async recordAgreement(samples: readonly AgreementSample[]): Promise<void> {
    if (samples.length === 0) return;
    const col = <K extends keyof AgreementSample>(k: K) => samples.map((s) => s[k]);
    await run(
      this.#pool,
      'record shadow agreement',
      `INSERT INTO ${this.#t('migration_agreement')} (migration_id, at, phase, tenant, k, overlap, rbo, served_ms, shadow_ms)
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::int[], $6::float8[],
         $7::float8[], $8::float8[], $9::float8[])`,
      [
        col('migrationId'),
        col('at'),
        col('phase'),
        col('tenant'),
        col('k'),
        col('overlap'),
        col('rbo'),
        col('servedMs'),
        col('shadowMs'),
      ],
    );
  }

  async agreementSummary(
    migrationId: string,
    options: { phase?: MigrationState } = {},
  ): Promise<AgreementSummary> {
    const table = this.#t('migration_agreement');
    const where = 'migration_id = $1 AND ($2::text IS NULL OR phase = $2)';
    const params = [migrationId, options.phase ?? null];
    return withTransaction(this.#pool, 'summarise shadow agreement', async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const q = async <R>(text: string, values: unknown[] = params) => (await tx.query<R>(text, values)).rows;
      const total = (
        await q<{ n: string; rbo: number | null }>(
          `SELECT count(*) AS n, avg(rbo) AS rbo FROM ${table} WHERE ${where}`,
        )
      )[0] ?? { n: '0', rbo: null };
      const n = num(total.n);
      const byK = await q<{ k: number; overlap: number }>(
        `SELECT k, avg(overlap) AS overlap FROM ${table} WHERE ${where} GROUP BY k`,
      );
      const tenants = await q<{ tenant: string; n: string; rbo: number }>(
        `SELECT coalesce(tenant, '') AS tenant, count(*) AS n, avg(rbo) AS rbo FROM ${table}
         WHERE ${where} GROUP BY coalesce(tenant, '')`,
      );
      // The same nearest-rank rule as the embedded repository, so both backends report equal p50/p99.
      const quantile = async (column: 'served_ms' | 'shadow_ms', p: number): Promise<number | null> => {
        if (n === 0) return null;
        const offset = Math.min(n - 1, Math.floor(p * (n - 1) + 0.5));
        const rows = await q<{ v: number }>(
          `SELECT ${column} AS v FROM ${table} WHERE ${where} ORDER BY ${column} LIMIT 1 OFFSET $3`,
          [...params, offset],
        );
        return rows[0]?.v ?? null;
      };
      return Object.freeze({
        samples: n,
        overlap: Object.freeze(Object.fromEntries(byK.map((r) => [r.k, r.overlap]))),
        rbo: total.rbo,
        servedMs: Object.freeze({
          p50: await quantile('served_ms', 0.5),
          p99: await quantile('served_ms', 0.99),
        }),
        shadowMs: Object.freeze({
          p50: await quantile('shadow_ms', 0.5),
          p99: await quantile('shadow_ms', 0.99),
        }),
        tenants: Object.freeze(
          Object.fromEntries(tenants.map((t) => [t.tenant, { samples: num(t.n), rbo: t.rbo }])),
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
    await run(
      this.#pool,
      'record namespace reads',
      `INSERT INTO ${this.#t('namespace_traffic')} AS t (namespace, last_read_at, reads)
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[])
       ON CONFLICT (namespace) DO UPDATE SET reads = t.reads + EXCLUDED.reads,
         last_read_at = greatest(t.last_read_at, EXCLUDED.last_read_at)`,
      [
        [...merged.keys()],
        [...merged.values()].map((m) => m.lastReadAt),
        [...merged.values()].map((m) => m.reads),
      ],
    );
  }

  async purge(collection: string): Promise<number> {
    return withTransaction(this.#pool, 'purge migrations', async (tx) => {
      await tx.query(
        `DELETE FROM ${this.#t('migration_agreement')} WHERE migration_id IN
          (SELECT id FROM ${this.#t('migrations')} WHERE collection = $1)`,
        [collection],
      );
      await tx.query(
        `DELETE FROM ${this.#t('migration_queries')} WHERE migration_id IN
          (SELECT id FROM ${this.#t('migrations')} WHERE collection = $1)`,
        [collection],
      );
      await tx.query(
        `DELETE FROM ${this.#t('namespace_traffic')} WHERE namespace IN
          (SELECT name FROM ${this.#t('namespaces')} WHERE collection = $1)`,
        [collection],
      );
      const deleted = await tx.query(`DELETE FROM ${this.#t('migrations')} WHERE collection = $1`, [
        collection,
      ]);
      return deleted.rowCount ?? 0;
    });
  }

  async traffic(namespace: string): Promise<NamespaceTraffic | null> {
    const rows = await run<{ namespace: string; last_read_at: Date; reads: string }>(
      this.#pool,
      'read namespace traffic',
      `SELECT namespace, last_read_at, reads FROM ${this.#t('namespace_traffic')} WHERE namespace = $1`,
      [namespace],
    );
    const row = rows[0];
    return row
      ? Object.freeze({ namespace: row.namespace, lastReadAt: iso(row.last_read_at), reads: num(row.reads) })
      : null;
  }

  async #row(db: PgQueryable, id: string): Promise<MigrationRow | undefined> {
    return (
      await run<MigrationRow>(
        db,
        'read a migration',
        `SELECT * FROM ${this.#t('migrations')} WHERE id = $1`,
        [id],
      )
    )[0];
  }

  /** The row under FOR UPDATE: concurrent transitions of one migration run one after the other. */
  async #locked(tx: PgQueryable, id: string): Promise<MigrationRow> {
    const { rows } = await tx.query<MigrationRow>(
      `SELECT * FROM ${this.#t('migrations')} WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const row = rows[0];
    if (!row)
      throw new ReembedError('NOT_FOUND', `Unknown migration "${id}".`, { details: { migration: id } });
    return row;
  }

  async recordQueries(queries: readonly ServedQuery[], retention: QueryRetention): Promise<void> {
    if (queries.length === 0) return;
    await withTransaction(this.#pool, 'keep served queries', async (tx) => {
      await tx.query(
        `INSERT INTO ${this.#t('migration_queries')} (migration_id, at, text, tenant)
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[])`,
        [
          queries.map((q) => q.migrationId),
          queries.map((q) => q.at),
          queries.map((q) => q.text),
          queries.map((q) => q.tenant),
        ],
      );
      for (const id of new Set(queries.map((q) => q.migrationId))) {
        await tx.query(
          `DELETE FROM ${this.#t('migration_queries')} WHERE migration_id = $1 AND (at < $2 OR id <= COALESCE(
             (SELECT id FROM ${this.#t('migration_queries')} WHERE migration_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $3), -1))`,
          [id, retention.before, retention.max],
        );
      }
    });
  }

  async recentQueries(migrationId: string, limit: number): Promise<ServedQuery[]> {
    const rows = await run<{ migration_id: string; at: Date; text: string; tenant: string | null }>(
      this.#pool,
      'read served queries',
      `SELECT migration_id, at, text, tenant FROM ${this.#t('migration_queries')} WHERE migration_id = $1 ORDER BY id DESC LIMIT $2`,
      [migrationId, limit],
    );
    return rows.map((r) => ({ migrationId: r.migration_id, at: iso(r.at), text: r.text, tenant: r.tenant }));
  }

  async forgetQueries(migrationId: string): Promise<number> {
    const rows = await run<{ id: string }>(
      this.#pool,
      'forget served queries',
      `DELETE FROM ${this.#t('migration_queries')} WHERE migration_id = $1 RETURNING id`,
      [migrationId],
    );
    return rows.length;
  }

  /** The catalog's append-only audit table, written in the caller's transaction (invariant 8). */
  async #audit(
    tx: PgQueryable,
    actor: string,
    action: string,
    subject: string,
    details: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.#t('audit_log')} (at, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5)`,
      [this.#now(), actor, action, subject, JSON.stringify(details)],
    );
  }

  #t(table: string): string {
    return qualified(this.#schema, table);
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }
}

function checkActor(actor: string): void {
  if (typeof actor !== 'string' || actor.trim().length === 0) {
    throw new ReembedError(
      'INVALID_INPUT',
      'actor must be a non-empty string (who made the change, for the audit log).',
      {
        details: { field: 'actor' },
      },
    );
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
    options: row.options,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    completedAt: isoOrNull(row.completed_at),
    info: row.info ?? {},
  });
}
