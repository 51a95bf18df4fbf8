import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/app/api-keys.js';
import { openReembed } from '../../src/app/open.js';
import { PG_SKIP_LINE, PG_URL } from '../../src/stores/pg/test-support.js';
import { type TestServer, testServer } from './helpers.js';

/**
 * Access control against a real server on 127.0.0.1 over a real SQLite file: every endpoint of the
 * OpenAPI document tried without a key, with a bad key, with too small a scope and with a tenant-bound
 * key; refusals are typed and identical whether the named alias / collection / migration exists or not.
 */
type Need = readonly ['query' | 'write' | 'admin', 'tenant-ok' | 'no-tenant'];

/** Every operation and what it needs. A new endpoint must be classified here (the first test checks). */
const EXPECTED: Record<string, Need> = {
  'POST /v1/aliases/{alias}/search': ['query', 'tenant-ok'],
  'POST /v1/collections/{collection}/documents': ['write', 'tenant-ok'],
  'POST /v1/collections/{collection}/documents/delete': ['write', 'tenant-ok'],
  'GET /v1/spaces': ['query', 'no-tenant'],
  'GET /v1/collections': ['query', 'no-tenant'],
  'GET /v1/namespaces': ['query', 'no-tenant'],
  'GET /v1/aliases': ['query', 'no-tenant'],
  'GET /v1/aliases/{alias}': ['query', 'no-tenant'],
  'GET /v1/status': ['query', 'no-tenant'],
  'GET /v1/session': ['query', 'tenant-ok'],
  'GET /v1/coverage': ['query', 'no-tenant'],
  'POST /v1/migrations/{migration}/gates': ['admin', 'no-tenant'],
  'POST /v1/migrations/{migration}/replay': ['admin', 'no-tenant'],
  'GET /v1/migrations/{migration}/review': ['admin', 'no-tenant'],
  'POST /v1/migrations/{migration}/review': ['admin', 'no-tenant'],
  'GET /v1/probes': ['admin', 'no-tenant'],
  'POST /v1/probes': ['admin', 'no-tenant'],
  'GET /v1/probes/{name}': ['admin', 'no-tenant'],
  'POST /v1/probes/{name}/eval': ['admin', 'no-tenant'],
  'GET /v1/monitor': ['query', 'no-tenant'],
  'POST /v1/migrations/plan': ['admin', 'no-tenant'],
  'POST /v1/migrations': ['admin', 'no-tenant'],
  'GET /v1/migrations': ['admin', 'no-tenant'],
  'GET /v1/migrations/{migration}': ['admin', 'no-tenant'],
  'POST /v1/migrations/{migration}/step': ['admin', 'no-tenant'],
  'POST /v1/migrations/{migration}/cutover': ['admin', 'no-tenant'],
  'POST /v1/migrations/{migration}/rollback': ['admin', 'no-tenant'],
  'POST /v1/migrations/{migration}/finish': ['admin', 'no-tenant'],
  'POST /v1/eval': ['admin', 'no-tenant'],
  'GET /v1/golden-sets': ['admin', 'no-tenant'],
  'PUT /v1/golden-sets/{name}': ['admin', 'no-tenant'],
  'DELETE /v1/golden-sets/{name}': ['admin', 'no-tenant'],
  'GET /v1/audit': ['admin', 'no-tenant'],
  'GET /v1/keys': ['admin', 'no-tenant'],
  'POST /v1/keys': ['admin', 'no-tenant'],
  'DELETE /v1/keys/{key}': ['admin', 'no-tenant'],
};

/** Fills path parameters with names that exist (`docs`, the reader key) or do not (`nope`). */
function concrete(path: string, exists: boolean): string {
  return path.replace(/\{(\w+)\}/g, (_m, p: string) => {
    if (!exists) return 'nope';
    return p === 'key' ? 'reader' : p === 'name' ? 'golden-1' : 'docs';
  });
}

const BODY = { text: 'embedding', ids: ['d'], documents: [{ id: 'd', text: 'stolen' }] };

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
}, 30_000);
afterAll(async () => {
  await s.close();
});

describe('access control', () => {
  it('the OpenAPI document lists exactly the classified endpoints, each with bearer security', async () => {
    const doc = (await s.call('GET', '/openapi.json')).json as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const ops: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        ops.push(`${method.toUpperCase()} ${path}`);
        expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
      }
    }
    expect(ops.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  const refusals =
    (key: () => string | undefined, refused: (need: Need) => boolean, code: string) => async () => {
      let tried = 0;
      for (const [op, need] of Object.entries(EXPECTED)) {
        if (!refused(need)) continue;
        const [method, path] = op.split(' ') as [string, string];
        const k = key();
        const there = await s.call(method, concrete(path, true), { ...(k ? { key: k } : {}), body: BODY });
        const absent = await s.call(method, concrete(path, false), { ...(k ? { key: k } : {}), body: BODY });
        expect(there.status, op).toBe(code === 'UNAUTHORIZED' ? 401 : 403);
        expect((there.json as { error: { code: string } }).error.code, op).toBe(code);
        // Nothing tells an existing name from a missing one, and no document text comes back.
        expect(absent.text, op).toBe(there.text);
        expect(there.text).not.toMatch(/tombstone|Blue-green|stolen/);
        tried++;
      }
      expect(tried).toBeGreaterThan(0);
    };

  it('without a key: every endpoint and /metrics answer 401 UNAUTHORIZED', async () => {
    await refusals(
      () => undefined,
      () => true,
      'UNAUTHORIZED',
    )();
    expect((await s.call('GET', '/metrics')).status).toBe(401);
  });

  it('with a malformed, an unknown or a revoked key: 401', async () => {
    await refusals(
      () => 'rk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      () => true,
      'UNAUTHORIZED',
    )();
    expect((await s.call('GET', '/v1/spaces', { key: 'not-a-key' })).status).toBe(401);
    const doomed = await s.key('doomed', 'admin');
    expect((await s.call('GET', '/v1/spaces', { key: doomed })).status).toBe(200);
    expect((await s.call('DELETE', '/v1/keys/doomed', { key: s.keys.admin })).status).toBe(200);
    expect((await s.call('GET', '/v1/spaces', { key: doomed })).status).toBe(401);
  });

  it('a key revoked by another process is refused on the next request, and one it creates works at once', async () => {
    // Looked-up keys are cached; the cache must never outlive a revocation made elsewhere. A second
    // connection to the same file stands for `reembed keys revoke` run in another process.
    const other = await openReembed({ db: s.db, actor: 'other-process' });
    try {
      const early = await s.key('early', 'query');
      for (let i = 0; i < 3; i++)
        expect((await s.call('GET', '/v1/spaces', { key: early })).status).toBe(200);
      await other.backend.apiKeys?.revoke('early', 'other-process');
      expect((await s.call('GET', '/v1/spaces', { key: early })).status).toBe(401);

      // Presented before it exists (cached as unknown), then created by the other process: accepted.
      const { secret } = await createApiKey(other.backend, { name: 'late', scope: 'query' }, 'other');
      const unknown = secret.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      expect((await s.call('GET', '/v1/spaces', { key: unknown })).status).toBe(401);
      expect((await s.call('GET', '/v1/spaces', { key: secret })).status).toBe(200);
      // Revoked through the server's own app (the library, not the API): refused at once as well.
      await s.app.backend.apiKeys?.revoke('late', 'test');
      expect((await s.call('GET', '/v1/spaces', { key: secret })).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('a query key is refused by write and admin endpoints; a write key by admin endpoints', async () => {
    await refusals(
      () => s.keys.reader,
      ([scope]) => scope !== 'query',
      'FORBIDDEN',
    )();
    await refusals(
      () => s.keys.writer,
      ([scope]) => scope === 'admin',
      'FORBIDDEN',
    )();
  });

  it('a tenant-bound key is refused by every endpoint that spans tenants, and by /metrics', async () => {
    await refusals(
      () => s.keys.tenant1,
      ([, t]) => t === 'no-tenant',
      'FORBIDDEN',
    )();
    expect((await s.call('GET', '/metrics', { key: s.keys.tenant1 })).status).toBe(403);
  });

  it('a tenant-bound key searches only its tenant, whatever the filter says', async () => {
    for (const filter of [undefined, { tenant: 't2' }, { tenant: 't1' }]) {
      const r = await s.call('POST', '/v1/aliases/docs/search', {
        key: s.keys.tenant1,
        body: {
          text: 'tombstone deleted document embedding spaces fusion',
          k: 10,
          ...(filter ? { filter } : {}),
        },
      });
      expect(r.status).toBe(200);
      const hits = (r.json as { hits: { sourceId: string; tenant: string | null }[] }).hits;
      expect(hits.map((h) => h.sourceId)).toEqual(['c']);
    }
    // An unbound key sees every tenant.
    const all = await s.call('POST', '/v1/aliases/docs/search', {
      key: s.keys.reader,
      body: { text: 'fusion', k: 10 },
    });
    expect((all.json as { hits: unknown[] }).hits.length).toBe(4);
  });

  it("a tenant-bound key writes under its tenant and never over another tenant's document", async () => {
    const other = await s.call('POST', '/v1/collections/docs/documents', {
      key: s.keys.tenant1,
      body: { documents: [{ id: 'x1', text: 'mine', tenant: 't2' }] },
    });
    expect(other.status).toBe(403);
    for (const id of ['d', 'a']) {
      const r = await s.call('POST', '/v1/collections/docs/documents', {
        key: s.keys.tenant1,
        body: {
          documents: [
            { id: 'ok-1', text: 'fine' },
            { id, text: 'overwritten by tenant 1' },
          ],
        },
      });
      expect(r.status, id).toBe(403);
      expect((await s.app.backend.sources.get('docs', id))?.text).not.toMatch(/overwritten/);
    }
    expect(await s.app.backend.sources.get('docs', 'ok-1')).toBeNull(); // the batch wrote nothing
    const ok = await s.call('POST', '/v1/collections/docs/documents', {
      key: s.keys.tenant1,
      body: { documents: [{ id: 'e', text: 'a tenant one note about recall' }] },
    });
    expect(ok.status).toBe(200);
    expect((await s.app.backend.sources.get('docs', 'e'))?.tenant).toBe('t1');
  });

  it("a tenant-bound key's deletes touch only its tenant, and say nothing about other tenants' ids", async () => {
    const foreign = await s.call('POST', '/v1/collections/docs/documents/delete', {
      key: s.keys.tenant1,
      body: { ids: ['d', 'a'] },
    });
    const missing = await s.call('POST', '/v1/collections/docs/documents/delete', {
      key: s.keys.tenant1,
      body: { ids: ['zz-1', 'zz-2'] },
    });
    expect(foreign.status).toBe(200);
    expect(foreign.text).toBe(missing.text);
    expect((await s.app.backend.sources.get('docs', 'd'))?.deleted).toBe(false);
    expect((await s.app.backend.sources.get('docs', 'a'))?.deleted).toBe(false);
    const own = await s.call('POST', '/v1/collections/docs/documents/delete', {
      key: s.keys.tenant1,
      body: { ids: ['e', 'd'] },
    });
    expect((own.json as { deleted: number }).deleted).toBe(1);
    expect((await s.app.backend.sources.get('docs', 'e'))?.deleted).toBe(true);
  });
});

/** A POST with a chunked body (no Content-Length): its size is only known while it is read. */
function postChunked(
  url: string,
  key: string,
  chunks: readonly string[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'transfer-encoding': 'chunked',
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('limits', () => {
  it('a chunked body is counted while read: over the limit 413 TOO_LARGE, under it answered', async () => {
    const small = await testServer({ maxBodyBytes: 2048 });
    try {
      const url = `${small.url}/v1/aliases/docs/search`;
      const key = small.keys.reader as string;
      const big = await postChunked(url, key, ['{"text":"', 'x'.repeat(1500), 'y'.repeat(1500), '"}']);
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body).error.code).toBe('TOO_LARGE');
      const fine = await postChunked(url, key, ['{"text":', '"rank fusion"}']);
      expect(fine.status, fine.body).toBe(200);
      expect(JSON.parse(fine.body).hits.length).toBeGreaterThan(0);
    } finally {
      await small.close();
    }
  });

  it('a body over the limit is 413 TOO_LARGE; a key over its rate is 429 RATE_LIMITED with Retry-After', async () => {
    const small = await testServer({ maxBodyBytes: 2048, rateLimit: { perSecond: 5, burst: 5 } });
    try {
      const big = await small.call('POST', '/v1/aliases/docs/search', {
        key: small.keys.reader,
        body: { text: 'x'.repeat(5000) },
      });
      expect(big.status).toBe(413);
      expect((big.json as { error: { code: string } }).error.code).toBe('TOO_LARGE');
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++)
        statuses.push((await small.call('GET', '/v1/spaces', { key: small.keys.admin })).status);
      expect(statuses).toContain(429);
      // Another key has its own budget.
      expect((await small.call('GET', '/v1/spaces', { key: small.keys.writer })).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});

describe.skipIf(!PG_URL)(PG_URL ? 'revocation on PostgreSQL' : PG_SKIP_LINE, () => {
  it('a key revoked by another connection is refused on the next request', async () => {
    const pg = await testServer({ backend: 'postgres' });
    const schema = (pg.app.backend as { config?: { schema?: string } }).config?.schema;
    expect(schema).toMatch(/^t_/);
    const other = await openReembed({ pg: PG_URL, pgSchema: schema, actor: 'other-process' });
    try {
      const key = await pg.key('early', 'query');
      for (let i = 0; i < 3; i++) expect((await pg.call('GET', '/v1/spaces', { key })).status).toBe(200);
      await other.backend.apiKeys?.revoke('early', 'other-process');
      expect((await pg.call('GET', '/v1/spaces', { key })).status).toBe(401);
    } finally {
      await other.close();
      await pg.close();
    }
  });
});
