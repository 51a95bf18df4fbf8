import { isAbsolute, resolve } from 'node:path';
import { canonicalJson } from '../core/canonical.js';
import { ReembedError } from '../core/errors.js';
import {
  type Migration,
  type MigrationOptions,
  type MigrationReport,
  migrationId,
  migrationReport,
  migrationRouting,
  type StepResult,
  stepResult,
  unfinishedMigrationConflict,
} from '../core/migration.js';
import { type Namespace, namespaceName } from '../core/namespace.js';
import type { Alias, Routing } from '../core/routing.js';
import type { Space } from '../core/space.js';
import { isDirectory, isFile } from '../eval/lines.js';
import { resolveGoldenSet } from './golden-sets.js';
import { type BridgeBaseline, bridgeBaselineOf, freezeOld, resolveBridge } from './migrate-bridge.js';
import { type MigrationContext, runStep } from './migrate-context.js';
import { type MigrationInput, resolveMigrationOptions } from './migrate-options.js';
import { resolveMigrationProbe } from './migrate-probe.js';

/** The alias, its serving namespace and the target space a migration input names, checked. */
export async function resolveInput(
  ctx: MigrationContext,
  input: MigrationInput,
): Promise<{ alias: Alias; from: Namespace; space: Space; to: string }> {
  const alias = await ctx.backend.catalog.getAlias(input.alias);
  if (alias.routing.kind !== 'single') {
    throw new ReembedError(
      'INVALID_STATE',
      `Alias "${alias.name}" is already routed by a ${alias.routing.kind} routing (a migration is running). Cut it over or roll it back first.`,
      { details: { alias: alias.name, routing: alias.routing.kind } },
    );
  }
  const from = await ctx.backend.catalog.getNamespace(alias.routing.namespace);
  const space = await ctx.backend.catalog.getSpace(input.to);
  if (space.fingerprint === from.space.fingerprint) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Alias "${alias.name}" already serves space ${space.name}; nothing to migrate.`,
      {
        details: { alias: alias.name, space: space.name },
      },
    );
  }
  return { alias, from, space, to: namespaceName(from.collection, space) };
}

/**
 * Starts a migration: creates (or reuses) the target namespace in a writable state, so every ingest
 * dual-writes to it from this moment, stores the migration, routes the alias for the strategy and
 * moves to `backfilling`. A crash between steps is finished by `step`, which resumes from `planned`.
 */
export async function startMigration(ctx: MigrationContext, input: MigrationInput): Promise<MigrationReport> {
  let options = resolveMigrationOptions(input.strategy, input.options);
  // A golden set given as a relative path is kept absolute: later steps and the cutover may run elsewhere.
  if (options.golden !== null && !isAbsolute(options.golden) && (await isGoldenPath(options.golden)))
    options = Object.freeze({ ...options, golden: resolve(options.golden) });
  const { alias, from, space, to } = await resolveInput(ctx, input);
  await ctx.embedders.get(space); // an unknown provider fails now, before anything is created
  const [open] = await ctx.migrations.list({ alias: alias.name, active: true });
  if (open) throw unfinishedMigrationConflict(alias.name, open);
  const steps: StepResult[] = [];
  if (options.bridge) {
    // Refused (GATE_FAILED) unless its adapter passed its gate; the old model is never called.
    const bridge = await resolveBridge(ctx, options, from, space);
    options = Object.freeze({ ...options, bridge });
    steps.push(
      stepResult(
        'bridge',
        'done',
        `${bridge.direction} bridge through adapter ${bridge.name} (gate passed): ${
          bridge.direction === 'query'
            ? `new-model queries are mapped into ${from.name}`
            : `${bridge.primary} holds ${from.name}'s vectors mapped into ${space.name}`
        }`,
        { ...bridge },
      ),
    );
  }
  // The quality check: it reads the collection as it is now, and refuses nothing by itself.
  const probe = await resolveMigrationProbe(ctx, from, input, options);
  const baseline = options.bridge ? await plannedBridgeBaseline(ctx, from, probe.options) : null;
  steps.push(await ensureTarget(ctx, from, space, input.strategy === 'blue-green' ? 'building' : 'active'));
  steps.push(
    baseline ? { ...probe.step, detail: `${probe.step.detail}; quality gates: ${baseline.why}` } : probe.step,
  );
  const migration = await ctx.migrations.create(
    {
      id: migrationId(to, ctx.clock.now()),
      collection: from.collection,
      alias: alias.name,
      from: from.name,
      to,
      strategy: input.strategy,
      options: probe.options,
      info: baseline ? { ...probe.info, bridgeBaseline: baseline } : probe.info,
    },
    ctx.actor,
  );
  steps.push(
    stepResult('migration', 'done', `migration ${migration.id} planned (${input.strategy})`, {
      id: migration.id,
    }),
  );
  const advanced = await advanceFromPlanned(ctx, migration);
  return migrationReport(advanced.migration, [...steps, ...advanced.steps]);
}

/**
 * Which `old` side a bridged migration's quality gates will read (see `BridgeBaseline`): on its golden set
 * or its probe, the clean-old quality recorded there while the old model answered, else the bridge itself.
 */
export async function plannedBridgeBaseline(
  ctx: Pick<MigrationContext, 'backend'>,
  from: Namespace,
  options: MigrationOptions,
): Promise<BridgeBaseline | null> {
  if (options.golden) {
    const { golden } = await resolveGoldenSet(ctx.backend, options.golden);
    return bridgeBaselineOf(from, options.bridge, {
      label: golden.name,
      digest: golden.digest,
      kind: 'golden',
    });
  }
  if (options.probe && ctx.backend.probes) {
    const probe = await ctx.backend.probes.get(options.probe);
    return bridgeBaselineOf(from, options.bridge, {
      label: `probe:${probe.name}`,
      digest: probe.digest,
      kind: 'probe',
    });
  }
  return null;
}

async function ensureTarget(
  ctx: MigrationContext,
  from: Namespace,
  space: Space,
  state: 'building' | 'active',
): Promise<StepResult> {
  const name = namespaceName(from.collection, space);
  const existing = (await ctx.backend.catalog.listNamespaces(from.collection)).find((n) => n.name === name);
  if (!existing) {
    await ctx.app.createNamespace(from.collection, space, state, from.name);
    return stepResult('namespace', 'done', `created ${name} (${state}); new writes go to both namespaces`);
  }
  if (existing.state === 'serving') {
    throw new ReembedError(
      'INVALID_STATE',
      `Namespace ${name} is serving another alias; it cannot be a migration target.`,
      {
        details: { namespace: name },
      },
    );
  }
  // A retired namespace lost its vectors (not its manifest): recreate the physical index.
  await ctx.backend.store.createNamespace({
    name,
    fingerprint: space.fingerprint,
    spaceName: space.name,
    dimension: space.spec.dimension,
    metric: space.spec.metric,
  });
  if (existing.state !== state) await ctx.backend.catalog.setNamespaceState(name, state, ctx.actor);
  return stepResult(
    'namespace',
    'done',
    `reusing ${name} (was ${existing.state}, now ${state}); the backfill skips what it already holds`,
  );
}

/** planned → backfilling: route the alias for the strategy (compare-and-set), then transition. */
export async function advanceFromPlanned(
  ctx: MigrationContext,
  migration: Migration,
): Promise<{ migration: Migration; steps: StepResult[] }> {
  const steps: StepResult[] = [];
  if (migration.options.bridge) {
    const frozen = await runStep('freeze', () => freezeOld(ctx, migration));
    steps.push(frozen);
    if (frozen.status === 'failed') return { migration, steps };
  }
  const route = await runStep('route', async () => {
    const routing = migrationRouting(migration);
    if (!routing)
      return stepResult(
        'route',
        'skipped',
        `blue-green: ${migration.alias} keeps serving ${migration.from} until cutover`,
      );
    return setRouting(ctx, migration, routing, migration.from);
  });
  steps.push(route);
  if (route.status === 'failed') return { migration, steps };
  let current = migration;
  steps.push(
    await runStep('transition', async () => {
      current = await ctx.migrations.transition(migration.id, 'backfilling', ctx.actor, {
        expectedVersion: migration.version,
      });
      return 'planned → backfilling';
    }),
  );
  return { migration: current, steps };
}

/**
 * Replaces the alias routing in one compare-and-set write, provided the alias still serves `serving`
 * (nobody else re-pointed it meanwhile). A routing already in place is a skipped step (idempotent).
 */
export async function setRouting(
  ctx: MigrationContext,
  migration: Migration,
  routing: Routing,
  serving: string,
  reason = `migration ${migration.id} (${migration.strategy})`,
): Promise<StepResult> {
  const alias = await ctx.backend.catalog.getAlias(migration.alias);
  if (canonicalJson(alias.routing) === canonicalJson(routing))
    return stepResult('route', 'skipped', `alias already routed (${routing.kind})`);
  const servingNow = alias.routing.kind === 'single' ? alias.routing.namespace : alias.routing.primary;
  if (servingNow !== serving) {
    throw new ReembedError(
      'CONFLICT',
      `Alias "${alias.name}" now serves ${servingNow}, not ${serving}: someone re-pointed it. Inspect it (reembed status) before continuing.`,
      {
        details: { alias: alias.name, expected: serving, actual: servingNow },
      },
    );
  }
  const next = await ctx.backend.catalog.setAlias(alias.name, alias.collection, routing, ctx.actor, {
    expectedVersion: alias.version,
    reason,
  });
  return stepResult('route', 'done', `alias ${alias.name} → ${routing.kind} (version ${next.version})`, {
    routing,
    version: next.version,
  });
}

async function isGoldenPath(ref: string): Promise<boolean> {
  return (await isDirectory(ref)) || (await isFile(ref));
}
