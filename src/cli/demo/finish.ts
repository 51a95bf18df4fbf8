import { ReembedError } from '../../core/errors.js';
import type { MigrationReport } from '../../core/migration.js';
import { parseDuration } from '../../core/migration.js';
import { formatDuration } from '../progress.js';
import { MIN_SHADOW_SAMPLES, SHADOW_SAMPLE_RATE } from './migrate.js';
import type { DemoMigration } from './migration-state.js';
import { migrationOf, runStage, track } from './stage.js';
import { mark } from './timeline.js';
import type { DemoState, DemoStep, StepOutcome } from './types.js';

/**
 * Shadow rounds of live traffic to wait for the agreement samples the gate needs, before giving up: at
 * least 10, and enough for twice the samples the gate needs on average (sampling is random: with
 * `--traffic 5`, 10 rounds gave 25 samples on average and fewer than 20 about one run in 16).
 */
function maxShadowRounds(traffic: number): number {
  return Math.max(10, Math.ceil((2 * MIN_SHADOW_SAMPLES) / (traffic * SHADOW_SAMPLE_RATE)));
}

type GateResults = DemoMigration['gates'];

function gatesOf(report: MigrationReport): GateResults | null {
  const data = report.steps.find((s) => s.name === 'gates')?.data as { results?: GateResults } | undefined;
  return data?.results ?? null;
}

/** The facts a gate result names, e.g. `shadow.samples=15` out of `15 >= 20 fails (shadow.samples=15)`. */
function factsOf(detail: string): string {
  return /\(([^()]*)\)\s*$/.exec(detail)?.[1] ?? detail;
}

export function gateLine(results: GateResults): string {
  const failing = results.filter((r) => !r.passed);
  return failing.length === 0
    ? `all ${results.length} gates pass: ${results.map((r) => `${r.rule} [${factsOf(r.detail)}]`).join('; ')}`
    : `waiting on ${failing.map((r) => `${r.rule} [${factsOf(r.detail)}]`).join('; ')}`;
}

/** Records a gate evaluation in the migration state (and the timeline); true when every gate passes. */
function noteGates(state: DemoState, report: MigrationReport, timeline = true): boolean {
  const m = migrationOf(state);
  const results = gatesOf(report);
  if (!results) return false;
  m.gates = results;
  if (timeline) mark(state, 'gates', gateLine(results), { results });
  return results.every((r) => r.passed);
}

/**
 * Step: validation and the strategy's last phase. Every strategy evaluates its gates (coverage, errors,
 * the golden set's nDCG@10 against v1); shadow then gathers agreement samples on live traffic until its
 * gate passes, and progressive raises its traffic share step by step to 100%, measuring each step.
 */
export const migrateValidateStep: DemoStep = {
  name: 'migrate-validate',
  async run(state: DemoState): Promise<StepOutcome> {
    const m = migrationOf(state);
    const validated = await m.service.step(m.id);
    track(state, validated);
    let passed = noteGates(state, validated);
    if (m.strategy === 'shadow') {
      const maxRounds = maxShadowRounds(state.options.traffic);
      for (let round = 0; !passed || round === 0; round++) {
        if (round >= maxRounds) {
          throw new ReembedError(
            'GATE_FAILED',
            `Shadow gates still fail after ${maxRounds} rounds of ${state.options.traffic} queries: ${gateLine(m.gates)}. Raise --traffic.`,
          );
        }
        await runStage(state, round === 0 ? 'shadowing' : `shadowing ${round + 1}`);
        passed = noteGates(state, await m.service.step(m.id));
      }
    }
    if (m.strategy === 'progressive') {
      for (let percent = rolloutPercent(m); percent < 100; ) {
        const report = await m.service.step(m.id);
        track(state, report);
        const next = rolloutPercent(m, report);
        if (next <= percent) break;
        percent = next;
        await runStage(state, `rollout ${percent}%`);
      }
    }
    const phase = m.points.filter((p) => /^(shadowing|rollout)/.test(p.label)).length;
    return {
      summary: `${m.state}: ${gateLine(m.gates)}${phase > 0 ? ` (after ${phase} more stage(s) of live traffic)` : ''}`,
      details: { state: m.state, gates: m.gates },
    };
  },
};

function rolloutPercent(m: DemoMigration, report?: MigrationReport): number {
  const step = report?.steps.find((s) => s.name === 'rollout')?.data as { percent?: number } | undefined;
  if (step?.percent !== undefined) return step.percent;
  const last = [...m.points].reverse().find((p) => p.rollout);
  return last?.rollout?.percent ?? 0;
}

/**
 * Step: cutover — the gates again (with the golden set), then one alias write. The stage after it is
 * measured like the others: served quality must now be clean v2's.
 */
export const cutoverStep: DemoStep = {
  name: 'cutover',
  async run(state: DemoState): Promise<StepOutcome> {
    const m = migrationOf(state);
    const before = m.state;
    const report = await m.service.cutover(m.id);
    const alias = report.steps.find((s) => s.name === 'alias')?.detail ?? '';
    noteGates(state, report, false);
    mark(state, 'cutover', `gates checked again, then ${alias}: one write`, { steps: report.steps });
    track(state, report, `migration complete; ${m.from} kept for the ${m.rollbackWindow} rollback window`);
    const point = await runStage(state, 'after cutover');
    const clean = state.evaluations.find((e) => e.row === 'clean-v2')?.metrics['ndcg@10'];
    m.cutover = {
      from: before,
      completedAt: report.migration.completedAt,
      gates: m.gates,
      served: point.served,
      cleanV2: clean ?? null,
    };
    return {
      summary:
        `cutover ${before} → ${m.state}: alias ${state.alias} serves ${m.to} (${m.gates.length} gates passed); served nDCG@10 ` +
        `${point.served['ndcg@10'].toFixed(3)}${clean !== undefined ? ` (clean v2 in part 1: ${clean.toFixed(3)})` : ''}`,
      details: { ...m.cutover },
    };
  },
};

/**
 * Step: retirement. Right after cutover the old namespace is kept (its rollback window is open); the
 * demo's clock then skips the window — no query has read v1 since cutover — and the migration's retire
 * step drops v1's vectors. Its manifest and history stay.
 */
export const retireStep: DemoStep = {
  name: 'retire',
  async run(state: DemoState): Promise<StepOutcome> {
    const m = migrationOf(state);
    const early = await m.service.retire({ namespaces: [m.from] });
    const kept = early.namespaces.find((o) => o.namespace === m.from);
    mark(state, 'retirement', `${m.from}: ${kept?.status ?? 'not a candidate'} — ${kept?.reason ?? ''}`, {
      outcome: kept ?? null,
    });
    const skip = parseDuration(m.rollbackWindow) + 1_000;
    m.clock.advance(skip);
    mark(
      state,
      'clock',
      `${formatDuration(skip / 1000)} pass (simulated): the rollback window closes, no reads of ${m.from}`,
    );
    const report = await m.service.step(m.id);
    const retired = report.steps.find((s) => s.name === 'retire');
    track(state, report, retired?.detail);
    const ns = await state.app.backend.catalog.getNamespace(m.from);
    const held = await state.app.backend.store.describeNamespace(m.from);
    if (ns.state !== 'retired' || held !== null || m.state !== 'retired') {
      throw new ReembedError(
        'INVALID_STATE',
        `Retirement did not finish: ${m.from} is ${ns.state}${held ? ' and still holds vectors' : ''}, migration ${m.state}. ${retired?.detail ?? ''}`,
      );
    }
    mark(state, 'retirement', `${m.from} retired: vectors dropped, manifest and audit history kept`);
    m.retirement = {
      early: kept ?? null,
      skippedSeconds: skip / 1000,
      namespace: m.from,
      namespaceState: ns.state,
      retiredAt: ns.retiredAt,
      detail: retired?.detail ?? null,
    };
    return {
      summary: `${m.from} kept while its ${m.rollbackWindow} rollback window was open, retired once it closed (simulated clock); migration ${m.state}`,
      details: { ...m.retirement },
    };
  },
};
