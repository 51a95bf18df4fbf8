import {
  type ApiKey,
  type ApiKeyRepository,
  type ApiKeyScope,
  type NewApiKey,
  nameTaken,
  unknownKey,
} from '../../ports/api-keys.js';
import { iso, isoOrNull } from '../shared/timestamps.js';
import type { SqlDialect } from './dialect.js';
import { exec, rows, type SqlExecutor } from './executor.js';
import { SqlRepository, type SqlRepositoryOptions, sqlComponent } from './repository.js';

/** One row per key; a live key's name is unique (partial index), a revoked one keeps its row for the audit trail. */
export function apiKeysDdl(d: SqlDialect): string[] {
  const t = d.table('api_keys');
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL CHECK (length(name) > 0),
      scope TEXT NOT NULL CHECK (scope IN ('query', 'write', 'admin')),
      tenant TEXT,
      hash TEXT NOT NULL UNIQUE,
      created_at ${d.timestamp} NOT NULL,
      created_by TEXT NOT NULL,
      revoked_at ${d.timestamp}
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS api_keys_live_name ON ${t} (name) WHERE revoked_at IS NULL`,
  ];
}

const COLUMNS = 'id, name, scope, tenant, created_at, created_by, revoked_at';

/** Statements of the repository in one dialect, as strings (STYLE #6). */
export function apiKeysSql(d: SqlDialect) {
  const t = d.table('api_keys');
  const p = d.param;
  return {
    taken: `SELECT 1 FROM ${t} WHERE (name = ${p(1)} AND revoked_at IS NULL) OR id = ${p(2)}`,
    insert: `INSERT INTO ${t} (id, name, scope, tenant, hash, created_at, created_by) VALUES (${d.params(7)})`,
    byHash: `SELECT ${COLUMNS} FROM ${t} WHERE hash = ${p(1)} AND revoked_at IS NULL`,
    list: `SELECT ${COLUMNS} FROM ${t} ORDER BY created_at, id`,
    liveByIdOrName: `SELECT ${COLUMNS} FROM ${t} WHERE (id = ${p(1)} OR name = ${p(2)}) AND revoked_at IS NULL
      LIMIT 1${d.forUpdate}`,
    revoke: `UPDATE ${t} SET revoked_at = ${p(1)} WHERE id = ${p(2)}`,
    countLive: `SELECT count(*) AS n FROM ${t} WHERE revoked_at IS NULL`,
    /** Serialises creators of one name where the database has more than one writer (the index is the backstop). */
    lockName: d.lockKey(),
  };
}

/** The API keys component: one row per key, revoked keys kept for the audit trail. */
export const API_KEYS = sqlComponent('api_keys', 1, apiKeysDdl, apiKeysSql);

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

const auditDetails = (key: ApiKey) => ({ id: key.id, scope: key.scope, tenant: key.tenant });

/**
 * API keys in a SQL backend (SQLite or PostgreSQL, one implementation over `SqlExecutor`); each change
 * and its audit line commit in one transaction.
 */
export class SqlApiKeyRepository
  extends SqlRepository<ReturnType<typeof apiKeysSql>>
  implements ApiKeyRepository
{
  /** Writes through this repository (another connection's commits show in `externalChanges`). */
  #writes = 0;
  readonly changeMarker?: () => string;

  private constructor(db: SqlExecutor, options: SqlRepositoryOptions & { externalChanges?: () => number }) {
    super(db, API_KEYS, options);
    const external = options.externalChanges;
    if (external) this.changeMarker = () => `${external()}:${this.#writes}`;
  }

  /**
   * Creates the table if needed (idempotent) and returns the repository. `externalChanges` is a counter
   * that moves whenever another connection commits (SQLite's `PRAGMA data_version`); with it the
   * repository offers `changeMarker` (see the port).
   */
  static async open(
    db: SqlExecutor,
    options: SqlRepositoryOptions & { externalChanges?: () => number } = {},
  ): Promise<SqlApiKeyRepository> {
    return new SqlApiKeyRepository(await API_KEYS.install(db), options);
  }

  async create(input: NewApiKey, actor: string): Promise<ApiKey> {
    try {
      return await this.transaction('create an API key', function* ({ sql, clock, audit }) {
        if (sql.lockName) yield* exec(sql.lockName, [`reembed:api-key:${input.name}`]);
        if ((yield* rows(sql.taken, [input.name, input.id])).length > 0) throw nameTaken(input.name);
        const at = clock.now().toISOString();
        yield* exec(sql.insert, [input.id, input.name, input.scope, input.tenant, input.hash, at, actor]);
        const key = fromRow({ ...input, created_at: at, created_by: actor, revoked_at: null });
        yield* audit(actor, 'key.create', `key:${key.name}`, auditDetails(key));
        return key;
      });
    } finally {
      // After the commit: a lookup cached before it (an unknown key) is made again.
      this.#writes++;
    }
  }

  async findByHash(hash: string): Promise<ApiKey | null> {
    const found = await this.db.all<Row>('read API keys', this.sql.byHash, [hash]);
    return found[0] ? fromRow(found[0]) : null;
  }

  async list(): Promise<ApiKey[]> {
    return (await this.db.all<Row>('read API keys', this.sql.list)).map(fromRow);
  }

  async revoke(idOrName: string, actor: string): Promise<ApiKey> {
    try {
      return await this.transaction('revoke an API key', function* ({ sql, clock, audit }) {
        const row = (yield* rows<Row>(sql.liveByIdOrName, [idOrName, idOrName]))[0];
        if (!row) throw unknownKey(idOrName);
        const at = clock.now().toISOString();
        yield* exec(sql.revoke, [at, row.id]);
        const key = fromRow({ ...row, revoked_at: at });
        yield* audit(actor, 'key.revoke', `key:${key.name}`, auditDetails(key));
        return key;
      });
    } finally {
      // After the commit (and after a failure, harmlessly): a key cached before it is looked up again.
      this.#writes++;
    }
  }

  async countLive(): Promise<number> {
    const found = await this.db.all<{ n: unknown }>('read API keys', this.sql.countLive);
    return Number(found[0]?.n ?? 0);
  }
}
