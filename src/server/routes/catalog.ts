import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { parseDuration } from '../../core/migration.js';
import { runMonitor } from '../../monitor/run.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import { CollectionQuery, Json, JsonList, MonitorQuery, Name } from '../schemas.js';
import { guarded, responses } from './define.js';

/** Reading the control plane: spaces, collections with their namespaces' manifests, aliases, status, monitor. */
const NEED = { scope: 'query', tenantKeys: false } as const;

const spaces = createRoute({
  method: 'get',
  path: '/v1/spaces',
  summary: 'Embedding spaces (spec and fingerprint)',
  ...guarded('catalog', NEED),
  responses: responses(JsonList),
});

const collections = createRoute({
  method: 'get',
  path: '/v1/collections',
  summary: 'Collections, each with its namespaces (manifests) and aliases',
  ...guarded('catalog', NEED),
  responses: responses(JsonList),
});

const namespaces = createRoute({
  method: 'get',
  path: '/v1/namespaces',
  summary: 'Namespace manifests: space, records, fingerprints, coverage',
  request: { query: CollectionQuery },
  ...guarded('catalog', NEED),
  responses: responses(JsonList),
});

const aliases = createRoute({
  method: 'get',
  path: '/v1/aliases',
  summary: 'Aliases with their routing and the migration that owns it',
  request: { query: CollectionQuery },
  ...guarded('catalog', NEED),
  responses: responses(JsonList),
});

const alias = createRoute({
  method: 'get',
  path: '/v1/aliases/{alias}',
  summary: 'One alias',
  request: { params: z.object({ alias: Name('docs') }) },
  ...guarded('catalog', NEED),
  responses: responses(Json),
});

const status = createRoute({
  method: 'get',
  path: '/v1/status',
  summary: 'Namespace manifests and the status of every unfinished migration',
  request: { query: CollectionQuery },
  ...guarded('catalog', NEED),
  responses: responses(Json),
});

const monitor = createRoute({
  method: 'get',
  path: '/v1/monitor',
  summary: 'Run the monitor checks now (fingerprints, coverage, traffic share, latency, mixed versions)',
  request: { query: MonitorQuery },
  ...guarded('catalog', NEED),
  responses: responses(Json),
});

export function registerCatalogRoutes(api: OpenAPIHono<ServerEnv>, deps: ServerDeps): void {
  const { app } = deps;
  api.openapi(spaces, async (c) => c.json(await app.backend.catalog.listSpaces(), 200));

  api.openapi(collections, async (c) => {
    const out = [];
    for (const collection of await app.backend.catalog.listCollections()) {
      out.push({
        ...collection,
        namespaces: await app.status(collection.name),
        aliases: await app.listAliases(collection.name),
      });
    }
    return c.json(out, 200);
  });

  api.openapi(namespaces, async (c) => {
    const { collection } = c.req.valid('query');
    return c.json(await app.status(collection), 200);
  });

  api.openapi(aliases, async (c) => {
    const { collection } = c.req.valid('query');
    return c.json(await app.listAliases(collection), 200);
  });

  api.openapi(alias, async (c) => c.json({ ...(await app.getAlias(c.req.valid('param').alias)) }, 200));

  api.openapi(status, async (c) => {
    const { collection } = c.req.valid('query');
    const manifests = await app.status(collection);
    const active = await deps.migrations.list({ active: true, ...(collection ? { collection } : {}) });
    const migrations = await Promise.all(active.map((m) => deps.migrations.status(m.id)));
    return c.json({ namespaces: manifests, migrations }, 200);
  });

  api.openapi(monitor, async (c) => {
    const { collection, since } = c.req.valid('query');
    const now = new Date();
    const report = await runMonitor(app, {
      now,
      ...(collection ? { collection } : {}),
      ...(since ? { since: new Date(now.getTime() - parseDuration(since)) } : {}),
    });
    deps.metrics.publishMonitor(report);
    return c.json({ ...report }, 200);
  });
}
