import { canonicalJson } from '../core/canonical.js';
import { ReembedError } from '../core/errors.js';
import type { GoldenSet } from '../core/golden.js';
import {
  assertTransition,
  isComplete,
  type Migration,
  type MigrationReport,
  migrationReport,
  type StepResult,
  stepResult,
} from '../core/migration.js';
import type { Routing } from '../core/routing.js';
import { gateHints } from './gate-hints.js';
import { unfreezeOld } from './migrate-bridge.js';
import { type MigrationContext, runStep, startRetiring } from './migrate-context.js';
import { evaluateMigrationGates, recordGates, refusalReasons, shortDetail } from './migrate-gates.js';

export interface CutoverOptions {
  /** Cut over although gates fail; needs `reason`, and writes `gate.forced` to the audit log. */
  readonly force?: boolean;
  readonly reason?: string;
  /** Golden set for `new.*` / `old.*` facts (default: the migration's `golden` option). */
  readonly golden?: GoldenSet | string;
  readonly extraFacts?: Readonly<Record<string, number>>;
}

/**
 * Cutover: gates, then ONE catalog write pointing the alias at the new namespace (invariant 7), then —
 * only after that commit — the migration is marked complete (invariant 6), the old namespace enters its
 * rollback window and the new one is `serving`. Gate failures throw `GATE_FAILED` before any change;
 * anything after the alias write is reported per step instead of thrown.
 */
export async function cutoverMigration(
  ctx: MigrationContext,
  id: string,
  options: CutoverOptions = {},
): Promise<MigrationReport> {
  const migration = await ctx.migrations.get(id);
  if (isComplete(migration.state)) {
    return migrationReport(migration, [
      stepResult('cutover', 'skipped', `already cut over at ${migration.completedAt}`),
    ]);
  }
  const alias = await ctx.backend.catalog.getAlias(migration.alias);
  const alreadyCut = alias.routing.kind === 'single' && alias.routing.namespace === migration.to;
  if (!alreadyCut) assertTransition(migration, 'cut-over');
  const steps: StepResult[] = [];
  const gates = await evaluateMigrationGates(ctx, migration, {
    golden: options.golden,
    extraFacts: options.extraFacts,
  });
  const failing = gates.results.filter((r) => !r.passed);
  if (failing.length > 0 && !alreadyCut) {
    if (!options.force) {
      await recordGates(ctx, migration, gates);
      const hints = gateHints(migration, failing);
      throw new ReembedError(
        'GATE_FAILED',
        `Cutover of ${migration.id} refused: ${refusalReasons(migration, gates).join('; ')}. ` +
          `${hints.length ? `To pass: ${hints.join(' ')} ` : ''}Or pass --force with a reason (audited).`,
        {
          details: {
            migration: migration.id,
            failed: failing.map((r) => r.rule),
            hints,
            results: gates.results,
            facts: gates.facts,
          },
        },
      );
    }
    if (!options.reason?.trim()) {
      throw new ReembedError(
        'INVALID_INPUT',
        'A forced cutover needs a reason (--reason "..."); it is written to the audit log.',
        {
          details: { field: 'reason' },
        },
      );
    }
    await ctx.backend.catalog.audit(ctx.actor, 'gate.forced', migration.id, {
      reason: options.reason,
      failed: failing.map((r) => ({ rule: r.rule, detail: r.detail })),
      facts: gates.facts,
    });
  }
  steps.push(
    stepResult(
      'gates',
      failing.length ? 'skipped' : 'done',
      failing.length
        ? `FORCED past ${failing.length} failing gate(s): ${failing.map((r) => `"${r.rule}" (${shortDetail(r.detail)})`).join('; ')} — reason: ${options.reason}`
        : `${gates.results.length} gate(s) passed`,
      {
        results: gates.results,
        facts: gates.facts,
        ...(gates.baseline ? { baseline: gates.baseline } : {}),
        ...(failing.length ? { forced: failing.map((r) => r.rule), reason: options.reason } : {}),
      },
    ),
  );
  if (alreadyCut)
    steps.push(stepResult('alias', 'skipped', `alias ${alias.name} already serves ${migration.to}`));
  else {
    // Gates take a while: refuse if another process moved the migration meanwhile (e.g. rolled it back).
    const now = await ctx.migrations.get(migration.id);
    if (now.version !== migration.version) {
      throw new ReembedError(
        'CONFLICT',
        `Migration ${migration.id} changed while its gates were evaluated (now "${now.state}"); nothing was cut over. Check it and retry.`,
        { details: { migration: migration.id, state: now.state } },
      );
    }
    const next = await ctx.backend.catalog.setAlias(
      alias.name,
      alias.collection,
      { kind: 'single', namespace: migration.to },
      ctx.actor,
      {
        expectedVersion: alias.version,
        reason: `cutover ${migration.id}${options.force && failing.length ? ' (forced)' : ''}${options.reason?.trim() ? `: ${options.reason.trim()}` : ''}`,
      },
    );
    steps.push(
      stepResult('alias', 'done', `alias ${alias.name} → ${migration.to} (version ${next.version})`),
    );
  }
  const report = await finishCutover(
    ctx,
    migration,
    steps,
    failing.length > 0
      ? { forced: true, forcedGates: failing.map((r) => r.rule), reason: options.reason ?? null }
      : { forced: false, ...(options.reason?.trim() ? { reason: options.reason.trim() } : {}) },
  );
  // After the commit (recording before would bump the version the cutover compares): status shows these gates.
  await recordGates(ctx, migration, gates);
  return migrationReport(await ctx.migrations.get(migration.id).catch(() => report.migration), report.steps);
}

/** The steps after the alias commit; also how `step` finishes a cutover that crashed halfway. */
export async function finishCutover(
  ctx: MigrationContext,
  start: Migration,
  steps: StepResult[],
  details: Readonly<Record<string, unknown>> = {},
): Promise<MigrationReport> {
  let migration = start;
  steps.push(
    await runStep('complete', async () => {
      if (migration.state !== 'cut-over') {
        migration = await ctx.migrations.transition(migration.id, 'cut-over', ctx.actor, {
          details,
          info: { cutoverAt: ctx.clock.now().toISOString() },
        });
      }
      return `migration ${migration.id} complete (cut-over committed)`;
    }),
  );
  steps.push(
    await runStep('namespaces', async () => {
      const old = await startRetiring(ctx, migration.from, migration);
      await ctx.backend.catalog.setNamespaceState(migration.to, 'serving', ctx.actor);
      const bridge = migration.options.bridge;
      // A corpus bridge's derived namespace served with the old one; it retires with it.
      const derived =
        bridge && bridge.primary !== migration.from
          ? `; ${await startRetiring(ctx, bridge.primary, migration)}`
          : '';
      return `${migration.to} is serving; ${old}${derived}`;
    }),
  );
  await forgetServedQueries(ctx, migration);
  if (steps.every((s) => s.status !== 'failed')) {
    steps.push(
      await runStep('retiring', async () => {
        migration = await ctx.migrations.transition(migration.id, 'retiring', ctx.actor);
        return 'cut-over → retiring';
      }),
    );
  }
  const release = ctx.backend.store.releaseIndex;
  if (release) {
    // The retired namespace's search structures (its exact matrix, its HNSW index) would otherwise stay in
    // memory for the whole rollback window; a search after a rollback reloads them.
    const retired = [migration.from, ...(migration.options.bridge ? [migration.options.bridge.primary] : [])];
    steps.push(
      await runStep('release', async () => {
        for (const namespace of new Set(retired)) await release.call(ctx.backend.store, namespace);
        return `freed the in-memory search structures of ${[...new Set(retired)].join(', ')}`;
      }),
    );
  }
  return migrationReport(migration, steps);
}

/**
 * Rollback: the alias serves the old namespace alone again (one write); both namespaces are kept — the
 * new one enters a rollback window of its own, after which the retirement job may drop it if unused.
 */
export async function rollbackMigration(
  ctx: MigrationContext,
  id: string,
  options: { reason?: string } = {},
): Promise<MigrationReport> {
  let migration = await ctx.migrations.get(id);
  assertTransition(migration, 'rolled-back');
  const from = await ctx.backend.catalog.getNamespace(migration.from);
  if (from.state === 'retired') {
    throw new ReembedError(
      'INVALID_STATE',
      `Cannot roll back ${id}: ${from.name} was already retired (its vectors are dropped).`,
      {
        details: { migration: id, namespace: from.name },
      },
    );
  }
  const steps: StepResult[] = [];
  const reason = `rollback ${id}${options.reason ? `: ${options.reason}` : ''}`;
  const aliasStep = await runStep('route', async () => {
    const alias = await ctx.backend.catalog.getAlias(migration.alias);
    const single: Routing = { kind: 'single', namespace: migration.from };
    if (canonicalJson(alias.routing) === canonicalJson(single))
      return stepResult('route', 'skipped', `alias already serves ${migration.from}`);
    const next = await ctx.backend.catalog.setAlias(alias.name, alias.collection, single, ctx.actor, {
      expectedVersion: alias.version,
      reason,
    });
    return `alias ${alias.name} → ${migration.from} (version ${next.version})`;
  });
  steps.push(aliasStep);
  if (aliasStep.status === 'failed') return migrationReport(migration, steps);
  steps.push(
    await runStep('namespaces', async () => {
      if (from.state !== 'serving')
        await ctx.backend.catalog.setNamespaceState(from.name, 'serving', ctx.actor);
      const retiring = await startRetiring(ctx, migration.to, migration);
      const unfrozen = await unfreezeOld(ctx, migration);
      return `${from.name} is serving; ${retiring}${unfrozen ? `; ${unfrozen}` : ''}`;
    }),
  );
  steps.push(
    await runStep('transition', async () => {
      const prior = migration.state;
      migration = await ctx.migrations.transition(id, 'rolled-back', ctx.actor, {
        details: { reason: options.reason ?? null },
      });
      return `${prior} → rolled-back`;
    }),
  );
  await forgetServedQueries(ctx, migration);
  return migrationReport(migration, steps);
}

/** Kept query texts serve only the migration's replay: they go when it finishes (best effort). */
async function forgetServedQueries(ctx: MigrationContext, migration: Migration): Promise<void> {
  if (migration.options.keepQueries)
    await ctx.migrations.forgetQueries?.(migration.id).catch(() => undefined);
}
