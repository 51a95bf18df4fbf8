import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { createApiKey, requireApiKeys } from '../../app/api-keys.js';
import type { Authenticator } from '../auth.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import { AuditQuery, JsonList, KeyCreateRequest, KeyRef } from '../schemas.js';
import { ADMIN_ONLY, jsonBody, routeGroup } from './define.js';

/** The audit log and API keys. */
const route = routeGroup('admin', ADMIN_ONLY);

const audit = route(
  'GET /v1/audit',
  'The audit log (filters as `reembed audit`: subject, action, actor with `*` patterns, since, until, limit)',
  { request: { query: AuditQuery }, returns: JsonList },
);

const listKeys = route('GET /v1/keys', 'API keys (never their secrets)', { returns: JsonList });

const createKey = route('POST /v1/keys', 'Create an API key; the answer holds its secret, shown this once', {
  request: { body: jsonBody(KeyCreateRequest) },
});

const revokeKey = route('DELETE /v1/keys/{key}', 'Revoke an API key by id or name', {
  request: { params: z.object({ key: KeyRef }) },
});

export function registerAdminRoutes(
  api: OpenAPIHono<ServerEnv>,
  deps: ServerDeps,
  auth: Authenticator,
): void {
  const { app } = deps;
  api.openapi(audit, async (c) => c.json(await app.auditLog(c.req.valid('query')), 200));

  api.openapi(listKeys, async (c) => c.json(await requireApiKeys(app.backend).list(), 200));

  api.openapi(createKey, async (c) => {
    const created = await createApiKey(app.backend, c.req.valid('json'), `key:${c.get('key').name}`);
    return c.json({ secret: created.secret, key: created.key }, 200);
  });

  api.openapi(revokeKey, async (c) => {
    const revoked = await requireApiKeys(app.backend).revoke(
      c.req.valid('param').key,
      `key:${c.get('key').name}`,
    );
    auth.invalidate();
    return c.json({ ...revoked }, 200);
  });
}
