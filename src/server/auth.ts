import type { MiddlewareHandler } from 'hono';
import { hashApiKey, looksLikeApiKey, scopeAllows } from '../app/api-keys.js';
import type { ReembedError } from '../core/errors.js';
import type { ApiKey, ApiKeyRepository, ApiKeyScope } from '../ports/api-keys.js';
import type { ServerEnv } from './env.js';
import { apiError, sendError } from './errors.js';
import type { RateLimiter } from './rate-limit.js';

/**
 * Upper bound on how long a looked-up key is reused. Within it, an entry is reused only while the
 * repository's `changeMarker` is unchanged, so a revocation (through the API, `reembed keys revoke` in
 * another process, or the library) refuses the key on the very next request.
 */
const KEY_CACHE_MS = 60_000;

interface CachedKey {
  readonly key: ApiKey | null;
  readonly marker: string;
  readonly until: number;
}

/**
 * Authenticates `Authorization: Bearer <key>` (or `X-API-Key`) against the stored hashes, then applies
 * the key's rate limit. Refusals say what is wrong with the key, never anything about the data asked for:
 * they happen before the route is looked at.
 */
export class Authenticator {
  readonly #repository: ApiKeyRepository;
  readonly #limiter: RateLimiter;
  /** By SHA-256 of the presented key (never the key itself). */
  readonly #cache = new Map<string, CachedKey>();

  constructor(repository: ApiKeyRepository, limiter: RateLimiter) {
    this.#repository = repository;
    this.#limiter = limiter;
  }

  /** Forgets cached lookups. */
  invalidate(): void {
    this.#cache.clear();
  }

  /**
   * The key `secret` belongs to: from the cache when it is still valid (synchronously: no promise and
   * no extra turn of the event loop on every request), else from the repository.
   */
  #lookup(secret: string): ApiKey | null | Promise<ApiKey | null> {
    if (!looksLikeApiKey(secret)) return null;
    const hash = hashApiKey(secret);
    const changeMarker = this.#repository.changeMarker;
    // Without a marker there is no cheap way to see a revocation: look the key up every time.
    if (!changeMarker) return this.#repository.findByHash(hash);
    const marker = changeMarker.call(this.#repository);
    const now = performance.now();
    const held = this.#cache.get(hash);
    if (held && held.marker === marker && held.until > now) return held.key;
    return this.#repository.findByHash(hash).then((key) => {
      if (this.#cache.size >= 1_000) this.#cache.clear();
      // Unknown keys are cached too, so a flood of one bad key costs no database reads. The marker read
      // before the lookup: a change committed during it makes the entry stale at once.
      this.#cache.set(hash, { key, marker, until: now + KEY_CACHE_MS });
      return key;
    });
  }

  middleware(): MiddlewareHandler<ServerEnv> {
    return async (c, next) => {
      const secret = presentedKey(c.req.header('authorization'), c.req.header('x-api-key'));
      if (secret === null) {
        return sendError(
          c,
          apiError(
            'UNAUTHORIZED',
            'This endpoint needs an API key: send "Authorization: Bearer <key>". Create one with: reembed keys create <name> --scope query',
          ),
        );
      }
      const found = this.#lookup(secret);
      const key = found instanceof Promise ? await found : found;
      if (!key) {
        return sendError(
          c,
          apiError(
            'UNAUTHORIZED',
            'The API key is not valid (unknown or revoked). List keys with: reembed keys list',
          ),
        );
      }
      const wait = this.#limiter.take(key.id);
      if (wait > 0) {
        c.header('Retry-After', String(Math.max(1, Math.ceil(wait))));
        return sendError(
          c,
          apiError('RATE_LIMITED', `Rate limit of this key exceeded; retry in ${Math.ceil(wait * 1000)} ms.`),
        );
      }
      c.set('key', key);
      await next();
    };
  }
}

function presentedKey(authorization: string | undefined, header: string | undefined): string | null {
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ?? '';
  }
  return header === undefined ? null : header.trim();
}

export interface Requirement {
  readonly scope: ApiKeyScope;
  /** Whether a tenant-bound key may call it (its handler then confines the request to that tenant). */
  readonly tenantKeys: boolean;
}

/**
 * Why `key` may not call an endpoint with `requirement`, or null when it may: the key's scope must include
 * `scope` (`admin` ⊇ `write` ⊇ `query`), and a tenant-bound key is refused where the answer would span
 * tenants (catalog listings, migrations, eval).
 */
export function refusal(key: ApiKey, requirement: Requirement): ReembedError | null {
  if (!scopeAllows(key.scope, requirement.scope)) {
    return apiError(
      'FORBIDDEN',
      `This endpoint needs a key with the ${requirement.scope} scope; this key has ${key.scope}.`,
    );
  }
  if (key.tenant !== null && !requirement.tenantKeys) {
    return apiError(
      'FORBIDDEN',
      'This endpoint spans tenants; a tenant-bound key can only search, upsert and delete its own documents.',
    );
  }
  return null;
}

/** Route middleware refusing keys `refusal` refuses. */
export function requires(requirement: Requirement): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const refused = refusal(c.get('key'), requirement);
    if (refused) return sendError(c, refused);
    await next();
  };
}
