import { requireAdapters } from '../bridge/fit.js';
import {
  type Migration,
  type MigrationBridge,
  type MigrationReport,
  migrationReport,
  migrationRouting,
  nextRolloutStep,
  parseDuration,
  rolloutPercentFor,
  type StepResult,
  stepResult,
} from '../core/migration.js';
import type { BackfillProgress, RunOptions } from '../jobs/backfill.js';
import { runRetirement } from '../jobs/retire.js';
import { forecastMigration } from './forecast.js';
import { gateHints } from './gate-hints.js';
import { createBackfillRunner } from './migrate-backfill.js';
import { type MigrationContext, runStep, startRetiring } from './migrate-context.js';
import { finishCutover } from './migrate-cutover.js';
import { evaluateMigrationGates, type GateEvaluation, recordGates, refusalReasons } from './migrate-gates.js';
import { advanceFromPlanned, setRouting } from './migrate-start.js';
import { resolveProbeSet } from './probes.js';
import { measureCoverage } from './status.js';

export interface StepOptions extends RunOptions {
  readonly onProgress?: (progress: BackfillProgress) => void;
}

/**
 * Does the work of the migration's current state and moves it along its strategy's path when that work
 * is finished. Never cuts over by itself (that is `cutover`, behind the gates); reports every step.
 */
export async function stepMigration(
  ctx: MigrationContext,
  id: string,
  options: StepOptions = {},
): Promise<MigrationReport> {
  const migration = await ctx.migrations.get(id);
  const recovered = await recoverCutover(ctx, migration);
  if (recovered) return recovered;
  switch (migration.state) {
    case 'planned': {
      const r = await advanceFromPlanned(ctx, migration);
      return migrationReport(r.migration, r.steps);
    }
    case 'backfilling':
      return backfillStep(ctx, migration, options);
    case 'validating':
      return validateStep(ctx, migration);
    case 'shadowing':
      return gatesStep(ctx, migration, 'shadowing: agreement is recorded on sampled queries');
    case 'rolling-out':
      return rolloutStep(ctx, migration);
    case 'cut-over':
      return finishCutover(ctx, migration, []);
    case 'retiring':
      return retireStep(ctx, migration);
    default:
      return migrationReport(migration, [
        stepResult('step', 'skipped', `migration is ${migration.state}; nothing left to do`),
      ]);
  }
}

/** The alias already serves the target (a cutover crashed after its commit): finish it. */
async function recoverCutover(ctx: MigrationContext, m: Migration): Promise<MigrationReport | null> {
  if (!['validating', 'shadowing', 'rolling-out'].includes(m.state)) return null;
  const alias = await ctx.backend.catalog.getAlias(m.alias);
  if (alias.routing.kind !== 'single' || alias.routing.namespace !== m.to) return null;
  return finishCutover(ctx, m, [
    stepResult('alias', 'skipped', `alias already serves ${m.to}: finishing the interrupted cutover`),
  ]);
}

async function backfillStep(
  ctx: MigrationContext,
  m: Migration,
  options: StepOptions,
): Promise<MigrationReport> {
  const steps: StepResult[] = [];
  const runner = await createBackfillRunner(ctx, { migration: m });
  if (options.onProgress) runner.on('progress', options.onProgress);
  const report = await runner.run(options);
  steps.push(
    stepResult(
      'backfill',
      report.status === 'failed' ? 'failed' : 'done',
      `${report.status}: ${report.written} written, ${report.skipped} already current, ${report.deadLettered} dead-lettered` +
        (report.error ? ` — ${report.error.code}: ${report.error.message}` : ''),
      { report },
    ),
  );
  if (m.strategy === 'progressive') steps.push(await runStep('rollout', () => coverageRollout(ctx, m)));
  let current = m;
  if (report.status === 'done') {
    steps.push(
      await runStep('validate', async () => {
        const target = await ctx.backend.catalog.getNamespace(m.to);
        const coverage = await measureCoverage(ctx.backend, target);
        const dead = await ctx.jobs.countDeadLetters(m.to);
        if (coverage.ratio < 1 || coverage.resurrected > 0) {
          return stepResult(
            'validate',
            'skipped',
            `coverage ${(coverage.ratio * 100).toFixed(2)}% (${coverage.live - coverage.current} not current, ${dead} dead-lettered): ` +
              (dead > 0
                ? 'fix them and run `reembed backfill retry-dead`'
                : 'step again to backfill the rest'),
          );
        }
        current = await ctx.migrations.transition(m.id, 'validating', ctx.actor, {
          details: { coverage: coverage.ratio },
        });
        return 'backfilling → validating (coverage 100%)';
      }),
    );
  }
  return migrationReport(current, steps);
}

/**
 * Progressive, while the backfill runs: move complete tenants, and raise the traffic share by at most ONE
 * configured step per `migrate step` — and only to a step the coverage already reaches (never serve a
 * larger share than is migrated). The share only grows, and stays below 100% until validation: the last
 * step belongs to the rollout (see `rolloutNext`).
 */
async function coverageRollout(ctx: MigrationContext, m: Migration): Promise<StepResult> {
  const target = await ctx.backend.catalog.getNamespace(m.to);
  const coverage = await measureCoverage(ctx.backend, target, { byTenant: m.options.tenants });
  const held = rolloutOf(m);
  const tenants = Object.entries(coverage.tenants ?? {})
    .filter(([t, c]) => t !== '' && c.live > 0 && c.current === c.live)
    .map(([t]) => t)
    .sort();
  const reachable = rolloutPercentFor(
    m.options.steps.filter((s) => s < 100),
    coverage.ratio,
  );
  const percent = reachable > held.percent ? nextRolloutStep(m.options.steps, held.percent) : held.percent;
  const moved = [...new Set([...held.tenants, ...tenants])].sort();
  if (percent > held.percent || moved.length > held.tenants.length) {
    const hold = await rolloutQualityHold(ctx, m);
    if (hold)
      return stepResult('rollout', 'skipped', `holding ${held.percent}%: ${hold}`, { percent: held.percent });
  }
  return applyRollout(ctx, m, percent, moved);
}

/**
 * Before a progressive migration moves any traffic during its backfill, the new space must not be
 * forecast worse: the probe's documents and queries are embedded in both spaces once (the pre-flight
 * forecast of `migrate plan`) and the verdict is kept in the migration's info. A `no-go` holds the
 * traffic where it is (the gates refuse the cutover too); a migration with no quality measure at all
 * (no golden set, no probe) moves no traffic until it is cut over by force. Returns why to hold, or null.
 */
async function rolloutQualityHold(ctx: MigrationContext, m: Migration): Promise<string | null> {
  if (m.options.bridge) return bridgeHold(ctx, m);
  if (m.options.golden !== null) return null;
  if (!m.options.probe) {
    return m.options.defaultGates
      ? 'quality is not measured (no golden set, no probe): traffic moves only with a cutover forced with a reason'
      : null;
  }
  const info = m.info as { forecast?: { verdict: string; reasons: string[] } };
  let forecast = info.forecast;
  if (!forecast) {
    const probe = await resolveProbeSet(ctx.backend, m.options.probe);
    const from = await ctx.backend.catalog.getNamespace(m.from);
    const to = await ctx.backend.catalog.getNamespace(m.to);
    const f = await forecastMigration(ctx.backend, ctx.embedders, from.space, to.space, probe, {
      maxSampleCostUsd: Number.POSITIVE_INFINITY,
    });
    forecast = { verdict: f.verdict, reasons: [...f.reasons] };
    await ctx.migrations.updateInfo(
      m.id,
      { forecast: { ...forecast, at: ctx.clock.now().toISOString() } },
      ctx.actor,
    );
  }
  return forecast.verdict === 'no-go'
    ? `the pre-flight forecast is no-go: ${forecast.reasons.join('; ')}`
    : null;
}

/**
 * A bridged progressive migration cannot forecast (that embeds the probe with the old model, which is gone).
 * What the moved share serves during the backfill — the new namespace fused with the bridge, by
 * coverage-aware score — is what the adapter's gate measured against clean old (or the new namespace
 * alone), so traffic moves only while that gate holds: the adapter passed and was not revoked, and its
 * latest evaluation (a drift re-evaluation included) passed. Returns why to hold, or null.
 */
async function bridgeHold(ctx: MigrationContext, m: Migration): Promise<string | null> {
  const bridge = m.options.bridge as MigrationBridge;
  const record = await requireAdapters(ctx.backend).get(bridge.adapter);
  if (record.state !== 'passed')
    return `adapter ${bridge.name} is ${record.state === 'revoked' ? 'revoked' : 'not gated'}: no more traffic moves through its bridge (fit and evaluate a new one, or roll back)`;
  if (record.latest && !record.latest.passed)
    return `the latest evaluation of adapter ${bridge.name} (${record.latest.reason}, ${record.latest.at}) failed its gate: refit it (reembed adapter fit ${m.collection} …) or roll back`;
  return null;
}

function rolloutOf(m: Migration): { percent: number; tenants: string[]; at: string | null } {
  const info = m.info as { rolloutPercent?: number; rolloutTenants?: string[]; rolloutAt?: string };
  return {
    percent: info.rolloutPercent ?? 0,
    tenants: info.rolloutTenants ?? [],
    at: info.rolloutAt ?? null,
  };
}

async function applyRollout(
  ctx: MigrationContext,
  m: Migration,
  percent: number,
  tenants: string[],
): Promise<StepResult> {
  const routing = migrationRouting(m, { percent, tenants });
  if (!routing) return stepResult('rollout', 'skipped', 'no routing for this strategy');
  // A bridged rollout's primary is what the bridge serves: the old namespace (query) or the derived one (corpus).
  const serving = m.options.bridge?.primary ?? m.from;
  const result = await setRouting(ctx, m, routing, serving, `migration ${m.id}: rollout ${percent}%`);
  if (result.status === 'done') {
    const moved = percent !== rolloutOf(m).percent;
    await ctx.migrations.updateInfo(
      m.id,
      {
        rolloutPercent: percent,
        rolloutTenants: tenants,
        ...(moved ? { rolloutAt: ctx.clock.now().toISOString() } : {}),
      },
      ctx.actor,
    );
  }
  return stepResult(
    'rollout',
    result.status,
    `${percent}% of traffic and ${tenants.length} tenant(s) on ${m.to}`,
    { percent, tenants },
  );
}

async function validateStep(ctx: MigrationContext, m: Migration): Promise<MigrationReport> {
  const gates = await evaluateMigrationGates(ctx, m);
  const steps: StepResult[] = [];
  const behind = gates.coverage.ratio < 1 && gates.deadLetters === 0;
  let current = m;
  if (behind || gates.coverage.resurrected > 0) {
    current = await ctx.migrations.transition(m.id, 'backfilling', ctx.actor, {
      details: { coverage: gates.coverage.ratio },
    });
    steps.push(
      stepResult(
        'validate',
        'done',
        `coverage fell to ${(gates.coverage.ratio * 100).toFixed(2)}%: back to backfilling`,
      ),
    );
    return migrationReport(current, steps);
  }
  await recordGates(ctx, m, gates);
  steps.push(gateSummary(m, gates));
  if (m.strategy === 'shadow' || m.strategy === 'progressive') {
    const to = m.strategy === 'shadow' ? 'shadowing' : 'rolling-out';
    current = await ctx.migrations.transition(m.id, to, ctx.actor);
    steps.push(stepResult('transition', 'done', `validating → ${to}`));
  }
  return migrationReport(current, steps);
}

async function gatesStep(ctx: MigrationContext, m: Migration, note: string): Promise<MigrationReport> {
  const gates = await evaluateMigrationGates(ctx, m);
  await recordGates(ctx, m, gates);
  return migrationReport(await ctx.migrations.get(m.id), [
    stepResult('observe', 'done', note, { agreement: gates.agreement }),
    gateSummary(m, gates),
  ]);
}

async function rolloutStep(ctx: MigrationContext, m: Migration): Promise<MigrationReport> {
  const step = await runStep('rollout', () => rolloutNext(ctx, m));
  return migrationReport(await ctx.migrations.get(m.id), [step]);
}

/**
 * Progressive, after validation: one configured step per `migrate step`, each only once the current step
 * has been observed for `stepHold` and the migration's gates pass at it (errors, coverage, and quality: on
 * the golden set, else on the probe — the default gates); otherwise traffic stays where it is and the step
 * says what it waits for, with how to pass.
 */
async function rolloutNext(ctx: MigrationContext, m: Migration): Promise<StepResult> {
  const held = rolloutOf(m);
  if (held.percent >= 100)
    return stepResult('rollout', 'skipped', 'all traffic is on the new namespace: run cutover');
  const holdMs = parseDuration(m.options.stepHold ?? '0s');
  const since = held.at === null ? null : Date.parse(held.at);
  if (since !== null && ctx.clock.now().getTime() - since < holdMs) {
    const until = new Date(since + holdMs).toISOString();
    return stepResult(
      'rollout',
      'skipped',
      `holding ${held.percent}% until ${until} (step hold ${m.options.stepHold}); step again after it`,
      { percent: held.percent, until },
    );
  }
  // More traffic only while the new namespace passes its gates: a worse model stops at its current share.
  const gates = await evaluateMigrationGates(ctx, m);
  await recordGates(ctx, m, gates);
  if (!gates.passed) {
    return stepResult('rollout', 'skipped', `holding ${held.percent}%: ${waitingOn(m, gates)}`, {
      percent: held.percent,
      results: gates.results,
      hints: gateHints(
        m,
        gates.results.filter((r) => !r.passed),
      ),
    });
  }
  return applyRollout(
    ctx,
    await ctx.migrations.get(m.id),
    nextRolloutStep(m.options.steps, held.percent),
    held.tenants,
  );
}

async function retireStep(ctx: MigrationContext, m: Migration): Promise<MigrationReport> {
  await ctx.observer.flush();
  const steps: StepResult[] = [];
  const from = await ctx.backend.catalog.getNamespace(m.from);
  if (from.state !== 'retiring' && from.state !== 'retired')
    steps.push(await runStep('namespaces', () => startRetiring(ctx, m.from, m)));
  const report = await runRetirement(
    { catalog: ctx.backend.catalog, store: ctx.backend.store, migrations: ctx.migrations },
    { now: ctx.clock.now(), actor: ctx.actor, namespaces: [m.from] },
  );
  for (const o of report.namespaces) {
    steps.push(
      stepResult(
        'retire',
        o.status === 'failed' ? 'failed' : o.status === 'retired' ? 'done' : 'skipped',
        `${o.namespace}: ${o.reason}`,
      ),
    );
  }
  return migrationReport(await ctx.migrations.get(m.id), steps);
}

function gateSummary(m: Migration, gates: GateEvaluation): StepResult {
  const { results } = gates;
  const failing = results.filter((r) => !r.passed);
  if (failing.length === 0)
    return stepResult('gates', 'done', `all ${results.length} gate(s) pass: ready for cutover`, { results });
  return stepResult('gates', 'skipped', waitingOn(m, gates), { results, hints: gateHints(m, failing) });
}

/** What the failing gates wait on (with the figures that decided) and how to pass them. */
function waitingOn(m: Migration, gates: GateEvaluation): string {
  const hints = gateHints(
    m,
    gates.results.filter((r) => !r.passed),
  );
  return `waiting on ${refusalReasons(m, gates).join('; ')}${hints.length ? `. To pass: ${hints.join(' ')}` : ''}`;
}
