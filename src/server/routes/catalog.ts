import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { SpendEstimator } from '../../app/spend.js';
import { parseDuration } from '../../core/migration.js';
import { runMonitor } from '../../monitor/run.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import { CollectionQuery, CoverageQuery, JsonList, MonitorQuery, Name } from '../schemas.js';
import { routeGroup } from './define.js';

/** Reading the control plane: spaces, collections with their namespaces' manifests, aliases, status, monitor. */
const NEED = { scope: 'query', tenantKeys: false } as const;
const route = routeGroup('catalog', NEED);

const spaces = route('GET /v1/spaces', 'Embedding spaces (spec and fingerprint)', { returns: JsonList });

const collections = route(
  'GET /v1/collections',
  'Collections, each with its namespaces (manifests) and aliases',
  { returns: JsonList },
);

const namespaces = route(
  'GET /v1/namespaces',
  'Namespace manifests: space, records, fingerprints, coverage',
  { request: { query: CollectionQuery }, returns: JsonList },
);

const aliases = route('GET /v1/aliases', 'Aliases with their routing and the migration that owns it', {
  request: { query: CollectionQuery },
  returns: JsonList,
});

const alias = route('GET /v1/aliases/{alias}', 'One alias', {
  request: { params: z.object({ alias: Name('docs') }) },
});

const coverage = route(
  'GET /v1/coverage',
  'Coverage over time: samples the server takes while a backfill runs (and reembed monitor / report)',
  {
    request: { query: CoverageQuery },
    description: 'Oldest first; empty when the backend keeps no coverage history.',
  },
);

const session = route(
  'GET /v1/session',
  "The presented key's name, scope and tenant (what the dashboard may show and do)",
  { need: { scope: 'query', tenantKeys: true } },
);

const status = route(
  'GET /v1/status',
  'Namespace manifests and the status of every unfinished migration (with tokens and cost so far)',
  { request: { query: CollectionQuery } },
);

const monitor = route(
  'GET /v1/monitor',
  'Run the monitor checks now (fingerprints, coverage, traffic share, latency, mixed versions)',
  { request: { query: MonitorQuery } },
);

export function registerCatalogRoutes(api: OpenAPIHono<ServerEnv>, deps: ServerDeps): void {
  const { app } = deps;
  const spend = new SpendEstimator(app);
  api.openapi(session, (c) => {
    const key = c.get('key');
    return c.json({ id: key.id, name: key.name, scope: key.scope, tenant: key.tenant }, 200);
  });
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

  api.openapi(coverage, async (c) => {
    const q = c.req.valid('query');
    const repository = app.backend.coverageSamples;
    const samples = repository
      ? await repository.read({
          ...(q.collection ? { collection: q.collection } : {}),
          ...(q.namespace ? { namespace: q.namespace } : {}),
          ...(q.since ? { since: new Date(q.since) } : {}),
        })
      : [];
    return c.json({ kind: 'coverage-history', stored: repository !== null, samples }, 200);
  });

  api.openapi(status, async (c) => {
    const { collection } = c.req.valid('query');
    const manifests = await app.status(collection);
    const active = await deps.migrations.list({ active: true, ...(collection ? { collection } : {}) });
    const migrations = await Promise.all(
      active.map(async (m) => {
        const s = await deps.migrations.status(m.id);
        return { ...s, spend: await spend.estimate(m, s.coverage.current) };
      }),
    );
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
