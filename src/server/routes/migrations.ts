import type { OpenAPIHono } from '@hono/zod-openapi';
import { requireGoldenSets } from '../../app/golden-sets.js';
import { type GateEvaluation, shortDetail } from '../../app/migrate-gates.js';
import { defined } from '../../core/defined.js';
import type { Migration } from '../../core/migration.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import {
  CutoverRequest,
  FinishRequest,
  GatesRequest,
  JsonList,
  MigrationListQuery,
  PlanRequest,
  ReplayRequest,
  RollbackRequest,
  StartRequest,
  StepRequest,
} from '../schemas.js';
import { ADMIN_ONLY, jsonBody, optionalJsonBody, routeGroup } from './define.js';
import { action, ref, registerMigrationActions, resolve } from './migration-action.js';

/** Migrations through the API: the same state machine, gates and audit log as `reembed migrate`. */
const route = routeGroup('migrations', ADMIN_ONLY);

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

export function registerMigrationRoutes(api: OpenAPIHono<ServerEnv>, deps: ServerDeps): void {
  api.openapi(plan, async (c) => {
    const { latencyMs, sampleSize, ...input } = c.req.valid('json');
    const result = await deps.migrations.plan(input, defined({ latencyMs, sampleSize }));
    return c.json({ ...result }, 200);
  });

  api.openapi(start, async (c) => {
    const service = deps.migrations.asActor(`key:${c.get('key').name}`);
    return c.json({ ...(await service.start(c.req.valid('json'))) }, 200);
  });

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

  registerMigrationActions(api, deps, route, {
    step: action({
      summary:
        "Do the current state's work (e.g. the backfill, bounded by maxBatches / maxSeconds) and advance",
      body: optionalJsonBody(StepRequest),
      run: ({ service, migration, body }) =>
        service.step(
          migration.id,
          defined({
            signal: deps.shutdown,
            maxBatches: body.maxBatches,
            maxMs: body.maxSeconds === undefined ? undefined : body.maxSeconds * 1000,
          }),
        ),
    }),
    cutover: action({
      summary: 'Check the gates, then point the alias at the new namespace in one atomic write',
      description: 'A failing gate answers 412 GATE_FAILED naming the rules; `force` needs a `reason`.',
      body: optionalJsonBody(CutoverRequest),
      run: async ({ service, migration, body }) => {
        // A golden set is read from the catalog by name only: a request never names a server-side path.
        const golden = body.golden ? await requireGoldenSets(deps.app.backend).get(body.golden) : undefined;
        return service.cutover(migration.id, defined({ force: body.force, reason: body.reason, golden }));
      },
    }),
    gates: action({
      summary: 'Evaluate the gates now, as cutover would, without acting (results and the facts they read)',
      description:
        "The same evaluation as `cutover` (and the dashboard shows it before a step, cutover or rollback); recorded as the migration's last gates and one point of its quality history.",
      body: optionalJsonBody(GatesRequest),
      run: async ({ service, migration, body }) => {
        const golden = body.golden ? await requireGoldenSets(deps.app.backend).get(body.golden) : undefined;
        return gateEvaluation(migration, await service.gates(migration.id, golden ? { golden } : {}));
      },
    }),
    replay: action({
      summary: "Replay the probe's (or kept served) queries through both namespaces of a shadow migration",
      description:
        'Records agreement samples of the shadowing phase, as `reembed migrate replay` does (a query file is a CLI-only source: the API never reads server paths).',
      body: optionalJsonBody(ReplayRequest),
      run: ({ service, migration, body }) =>
        service.replay(migration.id, {
          signal: deps.shutdown,
          source:
            body.source === 'recent'
              ? { kind: 'recent' }
              : { kind: 'probe', ...(body.probe ? { probe: body.probe } : {}) },
          ...defined({ limit: body.limit, k: body.k }),
        }),
    }),
    rollback: action({
      summary: 'Point the alias back at the old namespace',
      body: optionalJsonBody(RollbackRequest),
      run: ({ service, migration, body }) =>
        service.rollback(migration.id, body.reason ? { reason: body.reason } : {}),
    }),
    finish: action({
      summary: 'Close a cut-over migration before its rollback window ends',
      body: jsonBody(FinishRequest),
      run: ({ service, migration, body }) => service.finish(migration.id, body),
    }),
  });
}

/** The answer of POST .../gates: each rule's result and the facts the gates read. */
function gateEvaluation(migration: Migration, g: GateEvaluation): Record<string, unknown> {
  return {
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
  };
}
