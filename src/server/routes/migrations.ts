import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { requireGoldenSets } from '../../app/golden-sets.js';
import type { MigrationService } from '../../app/migrate.js';
import { shortDetail } from '../../app/migrate-gates.js';
import { defined } from '../../core/defined.js';
import { ReembedError } from '../../core/errors.js';
import type { Migration } from '../../core/migration.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import {
  CutoverRequest,
  FinishRequest,
  GatesRequest,
  JsonList,
  MigrationListQuery,
  MigrationRef,
  PlanRequest,
  ReplayRequest,
  RollbackRequest,
  StartRequest,
  StepRequest,
} from '../schemas.js';
import { ADMIN_ONLY, jsonBody, optionalJsonBody, routeGroup } from './define.js';

/** Migrations through the API: the same state machine, gates and audit log as `reembed migrate`. */
const route = routeGroup('migrations', ADMIN_ONLY);
/** The `{migration}` path parameter: an id or an alias (see `resolve`); review routes share it. */
export const ref = { params: z.object({ migration: MigrationRef }) };

const plan = route(
  'POST /v1/migrations/plan',
  'Plan a migration: counts, tokens, cost, time and gates. Changes nothing',
  { request: { body: jsonBody(PlanRequest) } },
);

const start = route(
  'POST /v1/migrations',
  'Start a migration (creates the target namespace; dual writes begin)',
  { request: { body: jsonBody(StartRequest) } },
);

const list = route('GET /v1/migrations', 'Migrations (filter by alias, collection, unfinished)', {
  request: { query: MigrationListQuery },
  returns: JsonList,
});

const get = route(
  'GET /v1/migrations/{migration}',
  "A migration's status: state, routing, coverage, backfill, agreement",
  {
    request: ref,
    description:
      'Address a migration by id (mig_...) or by its alias (its unfinished, else latest, migration).',
  },
);

const step = route(
  'POST /v1/migrations/{migration}/step',
  "Do the current state's work (e.g. the backfill, bounded by maxBatches / maxSeconds) and advance",
  { request: { ...ref, body: optionalJsonBody(StepRequest) } },
);

const cutover = route(
  'POST /v1/migrations/{migration}/cutover',
  'Check the gates, then point the alias at the new namespace in one atomic write',
  {
    request: { ...ref, body: optionalJsonBody(CutoverRequest) },
    description: 'A failing gate answers 412 GATE_FAILED naming the rules; `force` needs a `reason`.',
  },
);

const rollback = route(
  'POST /v1/migrations/{migration}/rollback',
  'Point the alias back at the old namespace',
  { request: { ...ref, body: optionalJsonBody(RollbackRequest) } },
);

const finish = route(
  'POST /v1/migrations/{migration}/finish',
  'Close a cut-over migration before its rollback window ends',
  { request: { ...ref, body: jsonBody(FinishRequest) } },
);

const gates = route(
  'POST /v1/migrations/{migration}/gates',
  'Evaluate the gates now, as cutover would, without acting (results and the facts they read)',
  {
    request: { ...ref, body: optionalJsonBody(GatesRequest) },
    description:
      "The same evaluation as `cutover` (and the dashboard shows it before a step, cutover or rollback); recorded as the migration's last gates and one point of its quality history.",
  },
);

const replay = route(
  'POST /v1/migrations/{migration}/replay',
  "Replay the probe's (or kept served) queries through both namespaces of a shadow migration",
  {
    request: { ...ref, body: optionalJsonBody(ReplayRequest) },
    description:
      'Records agreement samples of the shadowing phase, as `reembed migrate replay` does (a query file is a CLI-only source: the API never reads server paths).',
  },
);

export async function resolve(service: MigrationService, ref: string): Promise<Migration> {
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
    const result = await deps.migrations.plan(input, defined({ latencyMs, sampleSize }));
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
    const report = await as(c).step(
      migration.id,
      defined({
        signal: deps.shutdown,
        maxBatches: body.maxBatches,
        maxMs: body.maxSeconds === undefined ? undefined : body.maxSeconds * 1000,
      }),
    );
    return c.json({ ...report }, 200);
  });

  api.openapi(cutover, async (c) => {
    const migration = await resolve(deps.migrations, c.req.valid('param').migration);
    const body = c.req.valid('json');
    // A golden set is read from the catalog by name only: a request never names a server-side path.
    const golden = body.golden ? await requireGoldenSets(deps.app.backend).get(body.golden) : undefined;
    const report = await as(c).cutover(
      migration.id,
      defined({ force: body.force, reason: body.reason, golden }),
    );
    return c.json({ ...report }, 200);
  });

  api.openapi(gates, async (c) => {
    const migration = await resolve(deps.migrations, c.req.valid('param').migration);
    const body = c.req.valid('json');
    const golden = body.golden ? await requireGoldenSets(deps.app.backend).get(body.golden) : undefined;
    const g = await as(c).gates(migration.id, golden ? { golden } : {});
    return c.json(
      {
        kind: 'gate-evaluation',
        migration: migration.id,
        passed: g.passed,
        results: g.results.map((r) => ({ rule: r.rule, passed: r.passed, detail: shortDetail(r.detail) })),
        plan: g.plan,
        facts: g.facts,
        coverage: g.coverage,
        deadLetters: g.deadLetters,
        agreement: g.agreement,
        quality: g.evaluation
          ? {
              label: 'golden',
              set: g.evaluation.new.golden.name,
              old: g.evaluation.old.metrics,
              new: g.evaluation.new.metrics,
            }
          : g.probe
            ? {
                label: 'probe',
                set: `probe:${g.probe.probe.name}`,
                old: g.probe.old.metrics,
                new: g.probe.new.metrics,
              }
            : null,
      },
      200,
    );
  });

  api.openapi(replay, async (c) => {
    const migration = await resolve(deps.migrations, c.req.valid('param').migration);
    const body = c.req.valid('json');
    const report = await as(c).replay(migration.id, {
      signal: deps.shutdown,
      source:
        body.source === 'recent'
          ? { kind: 'recent' }
          : { kind: 'probe', ...(body.probe ? { probe: body.probe } : {}) },
      ...defined({ limit: body.limit, k: body.k }),
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
