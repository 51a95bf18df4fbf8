import { ReembedError } from '../core/errors.js';

/**
 * API keys of the HTTP server (`reembed serve`), kept in the catalog of the backend. Only a hash of each
 * key is stored (see `src/app/api-keys.ts`): a leaked database does not leak keys.
 */
export const API_KEY_SCOPES = ['query', 'write', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKey {
  readonly kind: 'api-key';
  /** Public identifier, also the first part of the key itself (`rk_<id>_<secret>`): safe to log. */
  readonly id: string;
  /** A human label (unique among keys that are not revoked). */
  readonly name: string;
  readonly scope: ApiKeyScope;
  /** When set, the key only ever sees and writes this tenant's documents. */
  readonly tenant: string | null;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
}

export interface NewApiKey {
  readonly id: string;
  readonly name: string;
  readonly scope: ApiKeyScope;
  readonly tenant: string | null;
  /** Hex digest of the whole key (never the key). */
  readonly hash: string;
}

export interface ApiKeyRepository {
  /** Stores a key; `ALREADY_EXISTS` when a live key has this name (or the id is taken). Audited as `key.create`. */
  create(input: NewApiKey, actor: string): Promise<ApiKey>;
  /** The live (not revoked) key with this hash, or null. */
  findByHash(hash: string): Promise<ApiKey | null>;
  /** Every key, revoked ones included, oldest first. */
  list(): Promise<ApiKey[]>;
  /** Revokes a live key by id or name; `NOT_FOUND` when no live key matches. Audited as `key.revoke`. */
  revoke(idOrName: string, actor: string): Promise<ApiKey>;
  /** How many keys are live (the server creates a first admin key when there is none). */
  countLive(): Promise<number>;
  /**
   * Optional: a value that changes whenever a key may have been created or revoked, by this process or
   * any other, and is cheap enough to read on every request (SQLite: the connection's `data_version`
   * with this repository's own writes). The server caches a looked-up key only while it is unchanged, so
   * a revocation takes effect on the next request; a backend without it has every request looked up.
   */
  changeMarker?(): string;
}

export function nameTaken(name: string): ReembedError {
  return new ReembedError(
    'ALREADY_EXISTS',
    `A live API key named "${name}" already exists. Pick another name, or revoke it first: reembed keys revoke ${name}`,
    { details: { name } },
  );
}

export function unknownKey(idOrName: string): ReembedError {
  return new ReembedError(
    'NOT_FOUND',
    `No live API key with id or name "${idOrName}". List them with: reembed keys list`,
    { details: { key: idOrName } },
  );
}
