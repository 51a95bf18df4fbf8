import {
  type ApiKey,
  type ApiKeyRepository,
  type ApiKeyScope,
  type NewApiKey,
  nameTaken,
  unknownKey,
} from '../../ports/api-keys.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import { applyComponentSchema } from './migrations.js';
import { iso, isoOrNull, type PgPoolLike, type PgQueryable, run, withTransaction } from './pool.js';
import { ident, qualified } from './sql.js';

export const API_KEYS_COMPONENT = 'api_keys';
export const API_KEYS_SCHEMA_VERSION = 1;

/** The same table as the embedded backend's: a live key's name is unique, a revoked row stays. */
export function pgApiKeysDdl(schema: string): string[] {
  const t = qualified(schema, 'api_keys');
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
      id text PRIMARY KEY,
      name text NOT NULL CHECK (length(name) > 0),
      scope text NOT NULL CHECK (scope IN ('query', 'write', 'admin')),
      tenant text,
      hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL,
      created_by text NOT NULL,
      revoked_at timestamptz
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS api_keys_live_name ON ${t} (name) WHERE revoked_at IS NULL`,
  ];
}

interface Row {
  id: string;
  name: string;
  scope: string;
  tenant: string | null;
  created_at: unknown;
  created_by: string;
  revoked_at: unknown;
}

function fromRow(row: Row): ApiKey {
  return Object.freeze({
    kind: 'api-key' as const,
    id: row.id,
    name: row.name,
    scope: row.scope as ApiKeyScope,
    tenant: row.tenant,
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
    revokedAt: isoOrNull(row.revoked_at),
  });
}

const COLUMNS = 'id, name, scope, tenant, created_at, created_by, revoked_at';

/** API keys in the PostgreSQL schema; each change and its audit line commit in one transaction. */
export class PgApiKeyRepository implements ApiKeyRepository {
  readonly #pool: PgPoolLike;
  readonly #schema: string;
  readonly #clock: Clock;

  private constructor(pool: PgPoolLike, schema: string, clock: Clock) {
    this.#pool = pool;
    this.#schema = schema;
    this.#clock = clock;
  }

  static async open(
    pool: PgPoolLike,
    options: { schema: string; clock?: Clock },
  ): Promise<PgApiKeyRepository> {
    ident(options.schema);
    await applyComponentSchema(
      pool,
      options.schema,
      API_KEYS_COMPONENT,
      API_KEYS_SCHEMA_VERSION,
      pgApiKeysDdl(options.schema),
    );
    return new PgApiKeyRepository(pool, options.schema, options.clock ?? systemClock);
  }

  #t(table: string): string {
    return qualified(this.#schema, table);
  }

  async #audit(tx: PgQueryable, actor: string, action: string, key: ApiKey): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.#t('audit_log')} (at, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5)`,
      [
        this.#clock.now().toISOString(),
        actor,
        action,
        `key:${key.name}`,
        JSON.stringify({ id: key.id, scope: key.scope, tenant: key.tenant }),
      ],
    );
  }

  create(input: NewApiKey, actor: string): Promise<ApiKey> {
    return withTransaction(this.#pool, 'create an API key', async (tx) => {
      // Serialises creators of the same name (the partial unique index is the backstop).
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`reembed:api-key:${input.name}`]);
      const taken = await tx.query(
        `SELECT 1 FROM ${this.#t('api_keys')} WHERE (name = $1 AND revoked_at IS NULL) OR id = $2`,
        [input.name, input.id],
      );
      if (taken.rows.length > 0) throw nameTaken(input.name);
      const { rows } = await tx.query<Row>(
        `INSERT INTO ${this.#t('api_keys')} (id, name, scope, tenant, hash, created_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [input.id, input.name, input.scope, input.tenant, input.hash, this.#clock.now().toISOString(), actor],
      );
      const key = fromRow(rows[0] as Row);
      await this.#audit(tx, actor, 'key.create', key);
      return key;
    });
  }

  async findByHash(hash: string): Promise<ApiKey | null> {
    const rows = await run<Row>(
      this.#pool,
      'read API keys',
      `SELECT ${COLUMNS} FROM ${this.#t('api_keys')} WHERE hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async list(): Promise<ApiKey[]> {
    const rows = await run<Row>(
      this.#pool,
      'read API keys',
      `SELECT ${COLUMNS} FROM ${this.#t('api_keys')} ORDER BY created_at, id`,
    );
    return rows.map(fromRow);
  }

  revoke(idOrName: string, actor: string): Promise<ApiKey> {
    return withTransaction(this.#pool, 'revoke an API key', async (tx) => {
      const { rows } = await tx.query<Row>(
        `UPDATE ${this.#t('api_keys')} SET revoked_at = $2
WHERE id = (SELECT id FROM ${this.#t('api_keys')} WHERE (id = $1 OR name = $1) AND revoked_at IS NULL LIMIT 1 FOR UPDATE)
RETURNING ${COLUMNS}`,
        [idOrName, this.#clock.now().toISOString()],
      );
      if (!rows[0]) throw unknownKey(idOrName);
      const key = fromRow(rows[0]);
      await this.#audit(tx, actor, 'key.revoke', key);
      return key;
    });
  }

  async countLive(): Promise<number> {
    const rows = await run<{ n: unknown }>(
      this.#pool,
      'read API keys',
      `SELECT count(*) AS n FROM ${this.#t('api_keys')} WHERE revoked_at IS NULL`,
    );
    return Number(rows[0]?.n ?? 0);
  }
}
