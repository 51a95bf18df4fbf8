import * as nodeCrypto from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import { ReembedError } from '../core/errors.js';
import { assertName } from '../core/space.js';
import { API_KEY_SCOPES, type ApiKey, type ApiKeyRepository, type ApiKeyScope } from '../ports/api-keys.js';
import { type Backend, requireRepository } from '../ports/backend.js';

/**
 * API keys: `rk_<id>_<secret>` with a 256-bit random secret. Only the SHA-256 of the whole key is stored.
 * A slow password hash (scrypt, bcrypt) protects low-entropy secrets people choose; a 256-bit random
 * secret cannot be guessed from its SHA-256, and a fast hash keeps authentication at microseconds per
 * request instead of the tens of milliseconds a password hash costs.
 */
const KEY_RE = /^rk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface CreatedApiKey {
  /** The key itself: shown once, never stored. */
  readonly secret: string;
  readonly key: ApiKey;
}

export interface CreateKeyInput {
  readonly name: string;
  readonly scope: ApiKeyScope;
  readonly tenant?: string | null;
}

/**
 * `crypto.hash` (Node 20.12+): the same digest without a `Hash` stream object per call. Every
 * authenticated request hashes the presented key, and a `Hash` object per call showed in a CPU profile of
 * the server path (BENCHMARKS.md, "Figures behind code choices"). Older Node 20 releases fall back to `createHash`.
 */
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string })
  .hash;

export function hashApiKey(secret: string): string {
  return oneShotHash
    ? oneShotHash('sha256', secret, 'hex')
    : createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** True when `value` has the shape of a reembed API key (checked before any lookup). */
export function looksLikeApiKey(value: string): boolean {
  return KEY_RE.test(value);
}

export function requireApiKeys(backend: Backend): ApiKeyRepository {
  return requireRepository(
    backend,
    'apiKeys',
    'does not store API keys; serve from the SQLite or PostgreSQL backend.',
  );
}

/**
 * Creates a key and returns its secret (the only time it exists outside the client). A tenant-bound key
 * cannot be `admin`: administration acts on whole collections, across tenants.
 *
 * @example
 * const { secret } = await createApiKey(app.backend, { name: 'search-svc', scope: 'query' }, 'alice');
 */
export async function createApiKey(
  backend: Backend,
  input: CreateKeyInput,
  actor: string,
): Promise<CreatedApiKey> {
  const repository = requireApiKeys(backend);
  assertName('key', input.name);
  if (!(API_KEY_SCOPES as readonly string[]).includes(input.scope)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Unknown scope "${input.scope}": use one of ${API_KEY_SCOPES.join(', ')}.`,
      { details: { field: 'scope' } },
    );
  }
  const tenant = input.tenant ?? null;
  if (tenant !== null && (tenant.length === 0 || tenant.length > 256)) {
    throw new ReembedError('INVALID_INPUT', 'A tenant is 1-256 characters.', {
      details: { field: 'tenant' },
    });
  }
  if (tenant !== null && input.scope === 'admin') {
    throw new ReembedError(
      'INVALID_INPUT',
      'An admin key acts on whole collections and cannot be bound to a tenant; give a tenant key the query or write scope.',
      { details: { field: 'tenant' } },
    );
  }
  const id = randomBytes(6).toString('hex');
  const secret = `rk_${id}_${randomBytes(32).toString('base64url')}`;
  const key = await repository.create(
    { id, name: input.name, scope: input.scope, tenant, hash: hashApiKey(secret) },
    actor,
  );
  return Object.freeze({ secret, key });
}

/** The live key a presented secret belongs to, or null (malformed, unknown or revoked). */
export async function authenticateApiKey(
  repository: ApiKeyRepository,
  secret: string,
): Promise<ApiKey | null> {
  if (!looksLikeApiKey(secret)) return null;
  return repository.findByHash(hashApiKey(secret));
}

const RANK: Record<ApiKeyScope, number> = { query: 0, write: 1, admin: 2 };

/** `admin` includes `write`, which includes `query`. */
export function scopeAllows(held: ApiKeyScope, needed: ApiKeyScope): boolean {
  return RANK[held] >= RANK[needed];
}
