import { OpenAPIHono, z } from '@hono/zod-openapi';
import fc from 'fast-check';
import type { Context } from 'hono';
import { validator } from 'hono/validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireApiKeys } from '../../src/app/api-keys.js';
import { MigrationService } from '../../src/app/migrate.js';
import { createServerApp } from '../../src/server/app.js';
import { Authenticator, requires } from '../../src/server/auth.js';
import type { ServerDeps, ServerEnv } from '../../src/server/env.js';
import { apiError, describeIssues, sendError } from '../../src/server/errors.js';
import { fastSearchBody } from '../../src/server/fast-search.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { RateLimiter } from '../../src/server/rate-limit.js';
import { NAME, Name, SearchRequest } from '../../src/server/schemas.js';
import { type TestServer, testServer } from './helpers.js';

/**
 * POST /v1/aliases/{alias}/search runs access, path and body checks in one handler instead of one
 * middleware layer each. It must answer exactly what the layered route did (kept here as the reference:
 * `requires`, hono's param and json validators, the same handler) for any key, alias, media type and body.
 */
function viaSchema<S extends z.ZodTypeAny>(schema: S, value: unknown, where: string, c: Context) {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.infer<S>;
  return sendError(c, apiError('INVALID_INPUT', describeIssues(where, result.error.issues)));
}

function layeredSearch(deps: ServerDeps): OpenAPIHono<ServerEnv> {
  const api = new OpenAPIHono<ServerEnv>();
  const auth = new Authenticator(requireApiKeys(deps.app.backend), new RateLimiter({ perSecond: 0 }));
  const SearchParams = z.object({ alias: Name('docs') });
  api.use('/v1/*', auth.middleware());
  api.post(
    '/v1/aliases/:alias/search',
    requires({ scope: 'query', tenantKeys: true }),
    validator('param', (value, c) => {
      const alias = (value as Record<string, unknown>).alias;
      if (typeof alias === 'string' && NAME.test(alias)) return { alias };
      return viaSchema(SearchParams, value, 'path', c);
    }),
    validator(
      'json',
      (value, c) => fastSearchBody(value) ?? viaSchema(SearchRequest, value, 'request body', c),
    ),
    async (c) => {
      const { alias } = c.req.valid('param') as { alias: string };
      const body = c.req.valid('json') as z.infer<typeof SearchRequest>;
      const key = c.get('key');
      const filter = key.tenant === null ? body.filter : { ...body.filter, tenant: key.tenant };
      const response = await deps.app.search(alias, { ...body, ...(filter ? { filter } : {}) });
      return c.json(response, 200);
    },
  );
  api.onError((error, c) => sendError(c, error));
  return api;
}

let s: TestServer;
let product: OpenAPIHono<ServerEnv>;
let reference: OpenAPIHono<ServerEnv>;
beforeAll(async () => {
  s = await testServer({ rateLimit: { perSecond: 0 } });
  await s.key('query-t2', 'query', 't2');
  const deps: ServerDeps = {
    app: s.app,
    migrations: new MigrationService(s.app),
    metrics: new ServerMetrics(),
    shutdown: new AbortController().signal,
  };
  product = createServerApp(deps, { rateLimit: { perSecond: 0 } }).api;
  reference = layeredSearch(deps);
});
afterAll(() => s.close());

/** Status, headers (without the date) and body text: the whole answer a client sees. */
async function answer(api: OpenAPIHono<ServerEnv>, path: string, init: RequestInit) {
  const res = await api.request(path, init);
  const headers = [...res.headers.entries()].filter(([k]) => k !== 'date');
  return { status: res.status, headers, text: await res.text() };
}

describe('the search route', () => {
  it('answers exactly as the layered route for any key, alias, media type and body', async () => {
    const keyOf = fc.constantFrom<string | null>(
      'admin',
      'writer',
      'reader',
      'tenant1',
      'query-t2',
      'none',
      'malformed',
      'unknown',
    );
    const alias = fc.constantFrom('docs', 'nope', 'Docs', 'a b', '.x', 'x'.repeat(64), 'a%20b', 'd_o.c-s');
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/vnd.reembed+json',
      'text/plain',
      undefined,
    );
    const valid = fc.record(
      {
        text: fc.constantFrom('rank fusion', 'embedding spaces', 'tombstone deleted document'),
        k: fc.integer({ min: 1, max: 10 }),
        exact: fc.boolean(),
        filter: fc.constantFrom({ tenant: 't1' }, { tenant: 't2' }, {}),
      },
      { requiredKeys: ['text'] },
    );
    const value = fc.oneof(
      { arbitrary: valid, weight: 3 },
      fc.record(
        {
          text: fc.oneof(
            fc.constantFrom('rank fusion', 'embedding spaces', ''),
            fc.string({ maxLength: 12 }),
          ),
          k: fc.oneof(fc.integer({ min: -1, max: 1001 }), fc.constant(2.5)),
          exact: fc.boolean(),
          filter: fc.constantFrom({ tenant: 't1' }, { tenant: 't2' }, {}, { tenant: 5 }, { metadata: {} }),
          vector: fc.array(fc.double({ noNaN: true, min: -1, max: 1 }), { maxLength: 3 }),
          space: fc.constantFrom('v1', 'v2', 'nope'),
          extra: fc.string({ maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
      fc.anything({ maxDepth: 2 }),
    );
    const raw = fc.oneof(
      value.map((v) => JSON.stringify(v) ?? ''),
      fc.constantFrom('{', '', 'null', '[]', '{"text":"a",}', '{"text":"a"}garbage', '\u0000'),
    );
    await fc.assert(
      fc.asyncProperty(keyOf, alias, contentType, raw, async (who, name, type, body) => {
        const headers: Record<string, string> = {};
        if (who === 'malformed') headers.authorization = 'Bearer rk_nope';
        else if (who === 'unknown') headers.authorization = `Bearer rk_0123456789ab_${'A'.repeat(43)}`;
        else if (who !== 'none' && who !== null) headers.authorization = `Bearer ${s.keys[who]}`;
        if (type !== undefined) headers['content-type'] = type;
        const init = { method: 'POST', headers, body };
        const path = `/v1/aliases/${name}/search`;
        const [got, want] = await Promise.all([answer(product, path, init), answer(reference, path, init)]);
        // Latencies in the trace differ run to run: compare everything else.
        const stable = (t: string) => t.replace(/"(latencyMs|tookMs)":[0-9.e+-]+/g, '"$1":0');
        expect({ ...got, text: stable(got.text) }).toEqual({ ...want, text: stable(want.text) });
      }),
      { numRuns: 400 },
    );
  });

  it('confines a tenant-bound key to its tenant whatever the filter says', async () => {
    for (const filter of [undefined, { tenant: 't2' }, { tenant: 't1' }]) {
      const res = await s.call('POST', '/v1/aliases/docs/search', {
        key: s.keys.tenant1,
        body: {
          text: 'tombstone deleted document rank fusion embedding',
          k: 10,
          ...(filter ? { filter } : {}),
        },
      });
      expect(res.status).toBe(200);
      const body = res.json as { hits: { sourceId: string }[]; trace: { filter: unknown } };
      expect(body.hits.map((h) => h.sourceId)).toEqual(['c']);
      expect(body.trace.filter).toEqual({ tenant: 't1' });
    }
  });

  it('is rate limited per key: 429 RATE_LIMITED with Retry-After past the burst', async () => {
    const limited = await testServer({ rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const statuses: number[] = [];
      let refused: Response | null = null;
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${limited.url}/v1/aliases/docs/search`, {
          method: 'POST',
          headers: { authorization: `Bearer ${limited.keys.reader}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'rank fusion' }),
        });
        statuses.push(res.status);
        if (res.status === 429) refused = res;
        await res.arrayBuffer();
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses).toContain(429);
      expect(refused?.headers.get('retry-after')).toBe('1');
      expect(refused?.headers.get('x-reembed-error')).toBe('RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });
});
