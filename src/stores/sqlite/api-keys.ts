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
import type { SqliteDatabase } from './schema.js';

export const API_KEYS_COMPONENT = 'api_keys';
export const API_KEYS_SCHEMA_VERSION = 1;

/** One row per key; a live key's name is unique (partial index), a revoked one keeps its row for the audit trail. */
export function apiKeysDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL CHECK (length(name) > 0),
      scope TEXT NOT NULL CHECK (scope IN ('query', 'write', 'admin')),
      tenant TEXT,
      hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      created_by TEXT NOT NULL,
      revoked_at TEXT
    )`,
    'CREATE UNIQUE INDEX IF NOT EXISTS api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL',
  ];
}

interface Row {
  id: string;
  name: string;
  scope: string;
  tenant: string | null;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
}

function fromRow(row: Row): ApiKey {
  return Object.freeze({
    kind: 'api-key' as const,
    id: row.id,
    name: row.name,
    scope: row.scope as ApiKeyScope,
    tenant: row.tenant,
    createdAt: row.created_at,
    createdBy: row.created_by,
    revokedAt: row.revoked_at,
  });
}

const COLUMNS = 'id, name, scope, tenant, created_at, created_by, revoked_at';

/** API keys in the embedded backend's file; each change and its audit line commit in one transaction. */
export class SqliteApiKeyRepository implements ApiKeyRepository {
  readonly #db: SqliteDatabase;
  readonly #clock: Clock;

  constructor(db: SqliteDatabase, options: { clock?: Clock } = {}) {
    this.#db = db;
    this.#clock = options.clock ?? systemClock;
    applyComponentSchema(db, API_KEYS_COMPONENT, API_KEYS_SCHEMA_VERSION, apiKeysDdl(), this.#now());
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }

  #audit(actor: string, action: string, key: ApiKey): void {
    this.#db
      .prepare('INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)')
      .run(
        this.#now(),
        actor,
        action,
        `key:${key.name}`,
        JSON.stringify({ id: key.id, scope: key.scope, tenant: key.tenant }),
      );
  }

  async create(input: NewApiKey, actor: string): Promise<ApiKey> {
    return this.#db
      .transaction(() => {
        const taken = this.#db
          .prepare('SELECT 1 FROM api_keys WHERE (name = ? AND revoked_at IS NULL) OR id = ?')
          .get(input.name, input.id);
        if (taken) throw nameTaken(input.name);
        const at = this.#now();
        this.#db
          .prepare(
            'INSERT INTO api_keys (id, name, scope, tenant, hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
          )
          .run(input.id, input.name, input.scope, input.tenant, input.hash, at, actor);
        const key = this.#get(input.id);
        this.#audit(actor, 'key.create', key);
        return key;
      })
      .immediate();
  }

  #get(id: string): ApiKey {
    return fromRow(this.#db.prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`).get(id) as Row);
  }

  async findByHash(hash: string): Promise<ApiKey | null> {
    const row = this.#db
      .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE hash = ? AND revoked_at IS NULL`)
      .get(hash) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  async list(): Promise<ApiKey[]> {
    const rows = this.#db.prepare(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`).all() as Row[];
    return rows.map(fromRow);
  }

  async revoke(idOrName: string, actor: string): Promise<ApiKey> {
    return this.#db
      .transaction(() => {
        const row = this.#db
          .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE (id = ? OR name = ?) AND revoked_at IS NULL`)
          .get(idOrName, idOrName) as Row | undefined;
        if (!row) throw unknownKey(idOrName);
        this.#db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(this.#now(), row.id);
        const key = this.#get(row.id);
        this.#audit(actor, 'key.revoke', key);
        return key;
      })
      .immediate();
  }

  async countLive(): Promise<number> {
    const row = this.#db.prepare('SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL').get() as {
      n: number;
    };
    return row.n;
  }
}
