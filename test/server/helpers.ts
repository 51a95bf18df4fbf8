import { createApiKey } from '../../src/app/api-keys.js';
import { openReembed } from '../../src/app/open.js';
import type { Reembed } from '../../src/app/reembed.js';
import type { ApiKeyScope } from '../../src/ports/api-keys.js';
import { type RunningServer, type ServeOptions, startServer } from '../../src/server/serve.js';
import { PG_URL, uniqueSchema } from '../../src/stores/pg/test-support.js';
import { DOCS, hashing, tempApp } from '../app/helpers.js';

export interface TestServer {
  readonly app: Reembed;
  readonly server: RunningServer;
  readonly url: string;
  readonly db: string;
  /** Secrets of keys created for the test, by name. */
  readonly keys: Record<string, string>;
  key(name: string, scope: ApiKeyScope, tenant?: string): Promise<string>;
  call(
    method: string,
    path: string,
    options?: { key?: string; body?: unknown; raw?: string },
  ): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
}

export type TestBackend = 'sqlite' | 'postgres';

/**
 * A real server on 127.0.0.1 (free port) over a real SQLite file, or a fresh PostgreSQL schema (dropped
 * afterwards) with `backend: 'postgres'` (needs REEMBED_PG_URL): collection `docs` on space `v1` holding
 * DOCS (tenants t1, t2 and none), and an admin, a write, a query and a tenant-t1 key.
 */
export async function testServer(
  options: ServeOptions & { backend?: TestBackend } = {},
): Promise<TestServer> {
  const { backend = 'sqlite', ...serveOptions } = options;
  const { app, db, cleanup } = backend === 'postgres' ? await pgApp() : await tempApp({ actor: 'test' });
  await app.addSpace(hashing('v1', 1));
  await app.addSpace(hashing('v2', 2));
  await app.createCollection('docs', 'v1');
  await app.ingest('docs', DOCS);
  const server = await startServer(app, {
    host: '127.0.0.1',
    port: 0,
    monitorIntervalMs: 0,
    retireIntervalMs: 0,
    ...serveOptions,
  });
  const keys: Record<string, string> = {};
  const key = async (name: string, scope: ApiKeyScope, tenant?: string): Promise<string> => {
    const { secret } = await createApiKey(app.backend, { name, scope, tenant: tenant ?? null }, 'test');
    keys[name] = secret;
    return secret;
  };
  await key('admin', 'admin');
  await key('writer', 'write');
  await key('reader', 'query');
  await key('tenant1', 'write', 't1');
  const call = async (
    method: string,
    path: string,
    o: { key?: string; body?: unknown; raw?: string } = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (o.key !== undefined) headers.authorization = `Bearer ${o.key}`;
    let body: string | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (method === 'GET' || method === 'HEAD') body = undefined;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: res.status, text, json };
  };
  return {
    app,
    server,
    url: server.url,
    db,
    keys,
    key,
    call,
    async close() {
      await server.close();
      await cleanup();
    },
  };
}

/** An app over a fresh PostgreSQL schema; `cleanup` drops it (and the job queue's schema, if created). */
async function pgApp(): Promise<{ app: Reembed; db: string; cleanup(): Promise<void> }> {
  if (!PG_URL) throw new Error('REEMBED_PG_URL is not set');
  const schema = uniqueSchema();
  const app = await openReembed({ pg: PG_URL, pgSchema: schema, pgDropSchemaOnClose: true, actor: 'test' });
  return {
    app,
    db: PG_URL,
    async cleanup() {
      const pool = (app.backend as { pool?: { query(sql: string): Promise<unknown> } }).pool;
      await pool?.query(`DROP SCHEMA IF EXISTS "${schema}_worker" CASCADE`).catch(() => undefined);
      await app.close();
    },
  };
}
