import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { requireGoldenSets } from '../../app/golden-sets.js';
import type { MigrationService } from '../../app/migrate.js';
import { ReembedError } from '../../core/errors.js';
import type { Migration } from '../../core/migration.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import {
  CutoverRequest,
  FinishRequest,
  Json,
  JsonList,
  MigrationListQuery,
  MigrationRef,
  PlanRequest,
  RollbackRequest,
  StartRequest,
  StepRequest,
} from '../schemas.js';
import { guarded, jsonBody, optionalJsonBody, responses } from './define.js';

/** Migrations through the API: the same state machine, gates and audit log as `reembed migrate`. */
const NEED = { scope: 'admin', tenantKeys: false } as const;
const ref = { params: z.object({ migration: MigrationRef }) };

const plan = createRoute({
  method: 'post',
  path: '/v1/migrations/plan',
  summary: 'Plan a migration: counts, tokens, cost, time and gates. Changes nothing',
  request: { body: jsonBody(PlanRequest) },
  ...guarded('migrations', NEED),
  responses: responses(Json),
});

const start = createRoute({
  method: 'post',
  path: '/v1/migrations',
  summary: 'Start a migration (creates the target namespace; dual writes begin)',
  request: { body: jsonBody(StartRequest) },
  ...guarded('migrations', NEED),
  responses: responses(Json),
});

const list = createRoute({
  method: 'get',
  path: '/v1/migrations',
  summary: 'Migrations (filter by alias, collection, unfinished)',
  request: { query: MigrationListQuery },
  ...guarded('migrations', NEED),
  responses: responses(JsonList),
});

const get = createRoute({
  method: 'get',
  path: '/v1/migrations/{migration}',
  summary: "A migration's status: state, routing, coverage, backfill, agreement",
  request: ref,
  ...guarded(
    'migrations',
    NEED,
    'Address a migration by id (mig_...) or by its alias (its unfinished, else latest, migration).',
  ),
  responses: responses(Json),
});

const step = createRoute({
  method: 'post',
  path: '/v1/migrations/{migration}/step',
  summary: "Do the current state's work (e.g. the backfill, bounded by maxBatches / maxSeconds) and advance",
  request: { ...ref, body: optionalJsonBody(StepRequest) },
  ...guarded('migrations', NEED),
  responses: responses(Json),
});

const cutover = createRoute({
  method: 'post',
  path: '/v1/migrations/{migration}/cutover',
  summary: 'Check the gates, then point the alias at the new namespace in one atomic write',
  request: { ...ref, body: optionalJsonBody(CutoverRequest) },
  ...guarded(
    'migrations',
    NEED,
    'A failing gate answers 412 GATE_FAILED naming the rules; `force` needs a `reason`.',
  ),
  responses: responses(Json),
});

const rollback = createRoute({
  method: 'post',
  path: '/v1/migrations/{migration}/rollback',
  summary: 'Point the alias back at the old namespace',
  request: { ...ref, body: optionalJsonBody(RollbackRequest) },
  ...guarded('migrations', NEED),
  responses: responses(Json),
});

const finish = createRoute({
  method: 'post',
  path: '/v1/migrations/{migration}/finish',
  summary: 'Close a cut-over migration before its rollback window ends',
  request: { ...ref, body: jsonBody(FinishRequest) },
  ...guarded('migrations', NEED),
  responses: responses(Json),
});

async function resolve(service: MigrationService, ref: string): Promise<Migration> {
  if (ref.startsWith('mig_')) return service.get(ref);
  const migration = await service.current(ref);
  if (!migration) {
    throw new ReembedError(
      'NOT_FOUND',
      `Alias "${ref}" has no migration. Start one with POST /v1/migrations.`,
      {
        details: { alias: ref },
      },
    );
  }
  return migration;
}

export function registerMigrationRoutes(api: OpenAPIHono<ServerEnv>, deps: ServerDeps): void {
  const as = (c: { get(key: 'key'): { name: string } }): MigrationService =>
    deps.migrations.asActor(`key:${c.get('key').name}`);

  api.openapi(plan, async (c) => {
    const { latencyMs, sampleSize, ...input } = c.req.valid('json');
    const result = await deps.migrations.plan(input, {
      ...(latencyMs !== undefined ? { latencyMs } : {}),
      ...(sampleSize !== undefined ? { sampleSize } : {}),
    });
    return c.json({ ...result }, 200);
  });

  api.openapi(start, async (c) => c.json({ ...(await as(c).start(c.req.valid('json'))) }, 200));

  api.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const found = await deps.migrations.list({
      ...(q.alias ? { alias: q.alias } : {}),
      ...(q.collection ? { collection: q.collection } : {}),
      ...(q.active ? { active: q.active === 'true' } : {}),
    });
    return c.json(found, 200);
  });

  api.openapi(get, async (c) => {
    const migration = await resolve(deps.migrations, c.req.valid('param').migration);
    return c.json({ ...(await deps.migrations.status(migration.id)) }, 200);
  });

  api.openapi(step, async (c) => {
    const migration = await resolve(deps.migrations, c.req.valid('param').migration);
    const body = c.req.valid('json');
    const report = await as(c).step(migration.id, {
      signal: deps.shutdown,
      ...(body.maxBatches !== undefined ? { maxBatches: body.maxBatches } : {}),
      ...(body.maxSeconds !== undefined ? { maxMs: body.maxSeconds * 1000 } : {}),
    });
    return c.json({ ...report }, 200);
  });

  api.openapi(cutover, async (c) => {
    const migration = await resolve(deps.migrations, c.req.valid('param').migration);
    const body = c.req.valid('json');
    // A golden set is read from the catalog by name only: a request never names a server-side path.
    const golden = body.golden ? await requireGoldenSets(deps.app.backend).get(body.golden) : undefined;
    const report = await as(c).cutover(migration.id, {
      ...(body.force !== undefined ? { force: body.force } : {}),
      ...(body.reason !== undefined ? { reason: body.reason } : {}),
      ...(golden ? { golden } : {}),
    });
    return c.json({ ...report }, 200);
  });

  api.openapi(rollback, async (c) => {
    const migration = await resolve(deps.migrations, c.req.valid('param').migration);
    const body = c.req.valid('json');
    return c.json(
      { ...(await as(c).rollback(migration.id, body.reason ? { reason: body.reason } : {})) },
      200,
    );
  });

  api.openapi(finish, async (c) => {
    const migration = await resolve(deps.migrations, c.req.valid('param').migration);
    const body = c.req.valid('json');
    return c.json({ ...(await as(c).finish(migration.id, body)) }, 200);
  });
}
