import { evaluateAlias, evaluateNamespace, type TargetEvaluation } from '../../app/evaluate.js';
import { measureCoverage } from '../../app/status.js';
import { ReembedError } from '../../core/errors.js';
import type { MigrationReport } from '../../core/migration.js';
import type { ProgressTask } from '../../ports/progress.js';
import { runningCount } from '../progress.js';
import type { CoveragePoint, DemoMigration, Quality } from './migration-state.js';
import { mark } from './timeline.js';
import { serveTraffic } from './traffic.js';
import { type DemoState, need } from './types.js';

/** Part 2's state, once `migrate-plan` created it. */
export function demoMigration(state: DemoState): DemoMigration {
  return need(state.migration, 'the migration plan');
}

/** Part 2's state, once the migration has started (it has an id). */
export function migrationOf(state: DemoState): DemoMigration & { id: string } {
  const m = demoMigration(state);
  if (!m.id) throw new ReembedError('INVALID_STATE', 'Demo step order: the migration has not started.');
  return m as DemoMigration & { id: string };
}

/**
 * Folds a migration report into the demo: the new state, a timeline event per state change (with
 * `note` appended) and per rollout change, and a typed error carrying the failing step's own message.
 */
export function track(state: DemoState, report: MigrationReport, note?: string): void {
  const m = state.migration;
  if (!m) return;
  const before = m.state;
  m.id = report.migration.id;
  m.state = report.migration.state;
  for (const s of report.steps) {
    if (s.name === 'rollout' && s.status === 'done') mark(state, 'rollout', s.detail, s.data ?? {});
  }
  if (before !== m.state) {
    mark(state, 'transition', `${before ?? 'new'} → ${m.state}${note ? `: ${note}` : ''}`, {
      from: before,
      to: m.state,
    });
  }
  const failed = report.steps.find((s) => s.status === 'failed');
  if (failed) {
    throw new ReembedError(
      'INVALID_STATE',
      `Migration ${report.migration.id}: step ${failed.name} failed: ${failed.detail}`,
      { details: { migration: report.migration.id, step: failed.name } },
    );
  }
}

async function coverageNow(state: DemoState, m: DemoMigration) {
  const ns = await state.app.backend.catalog.getNamespace(m.to);
  return measureCoverage(state.app.backend, ns);
}

/**
 * Backfills until the new namespace holds `target` (0..1) of the live documents: `step` with a batch
 * budget sized from the remaining gap, re-measured after each call (lazy reads also add coverage).
 * At 1, runs the pass to its end, which moves the migration to `validating`. Returns documents written.
 */
export async function backfillTo(state: DemoState, target: number, task: ProgressTask): Promise<number> {
  const m = migrationOf(state);
  // Ctrl-C stops the backfill at its next checkpoint (the batches in flight finish), as the CLI promises.
  const signal = state.ctx.interrupt();
  let written = 0;
  for (let round = 0; m.state === 'backfilling'; round++) {
    signal.throwIfAborted();
    const coverage = await coverageNow(state, m);
    if (target < 1 && coverage.ratio >= target) break;
    if (round >= 50) {
      throw new ReembedError(
        'INVALID_STATE',
        `The backfill of ${m.to} made no progress towards ${Math.round(target * 100)}% coverage (now ${(coverage.ratio * 100).toFixed(1)}%).`,
        { details: { target, coverage: coverage.ratio } },
      );
    }
    const gap = Math.ceil(target * coverage.live) - coverage.current;
    const count = runningCount(task);
    const report = await m.service.step(m.id, {
      signal,
      ...(target < 1 ? { maxBatches: Math.max(1, Math.ceil(gap / m.batchSize)) } : {}),
      onProgress: (p) => count(p.written),
    });
    const run = report.steps.find((s) => s.name === 'backfill')?.data?.report as
      | { written?: number }
      | undefined;
    written += run?.written ?? 0;
    track(state, report);
  }
  return written;
}

function quality(e: TargetEvaluation): Quality {
  return { 'ndcg@10': e.metrics['ndcg@10'] ?? 0, 'recall@10': e.metrics['recall@10'] ?? 0 };
}

/**
 * One measured stage: `work` (a backfill chunk, a rollout step, nothing) runs while the live traffic
 * stream is answered through the alias; then the alias's served quality and the new namespace's own
 * quality are evaluated — on an unobserved engine, so measuring neither writes nor counts as traffic.
 */
export async function runStage(
  state: DemoState,
  label: string,
  work: () => Promise<number> = async () => 0,
): Promise<CoveragePoint> {
  const m = migrationOf(state);
  const golden = need(state.golden, 'the golden set');
  const before = await coverageNow(state, m);
  const [backfilled] = await Promise.all([work(), serveTraffic(state, state.options.traffic)]);
  await m.service.observer.flush();
  const status = await m.service.status(m.id);
  const after = status.coverage;
  const target = await state.app.backend.catalog.getNamespace(m.to);
  const info = status.migration.info as { rolloutPercent?: number; rolloutTenants?: string[] };
  const point: CoveragePoint = Object.freeze({
    label,
    at: (performance.now() - state.started) / 1000,
    state: status.migration.state,
    routing: status.alias.routing.kind,
    coverage: after.ratio,
    backfilled,
    fromReads: Math.max(0, after.current - before.current - backfilled),
    served: quality(
      await evaluateAlias(state.app, state.alias, golden, { ks: [10], allowUnknownDocs: true }),
    ),
    newAlone:
      target.state === 'retired'
        ? null
        : quality(
            await evaluateNamespace(state.app, m.to, golden, {
              ks: [10],
              exact: true,
              allowUnknownDocs: true,
            }),
          ),
    traffic: m.recorder.window(),
    rollout:
      m.strategy === 'progressive'
        ? { percent: info.rolloutPercent ?? 0, tenants: info.rolloutTenants?.length ?? 0 }
        : null,
  });
  m.points.push(point);
  mark(state, 'coverage', pointSummary(point, m), { point: point.label, coverage: point.coverage });
  return point;
}

const pct = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;

/** One line per stage: coverage, quality served and alone, the traffic, and the strategy's own facts. */
export function pointSummary(p: CoveragePoint, m: Pick<DemoMigration, 'strategy' | 'fusion'>): string {
  const t = p.traffic;
  const alone = p.newAlone ? ` (new alone ${p.newAlone['ndcg@10'].toFixed(3)})` : '';
  const errors = t.errors > 0 ? `, ${t.errors} FAILED (${t.firstError})` : ', 0 errors';
  const mixed = t.mixedVersion > 0 ? `, ${t.mixedVersion} MIXED-VERSION responses` : '';
  return (
    `${p.label.padEnd(13)} coverage ${pct(p.coverage).padStart(6)}, served nDCG@10 ${p.served['ndcg@10'].toFixed(3)}${alone}; ` +
    `${t.queries} live queries${errors}${mixed}, p50 ${t.p50Ms?.toFixed(1) ?? '-'} ms; ${strategyFacts(p, m)}`
  );
}

export function strategyFacts(p: CoveragePoint, m: Pick<DemoMigration, 'strategy' | 'fusion'>): string {
  const t = p.traffic;
  switch (m.strategy) {
    case 'shadow':
      return t.shadow.samples > 0
        ? `shadow overlap@10 ${t.shadow.overlap?.toFixed(2)}, RBO ${t.shadow.rbo?.toFixed(2)} (${t.shadow.samples} samples)`
        : 'no shadow samples';
    case 'progressive':
      return `${p.rollout?.percent ?? 0}% of traffic + ${p.rollout?.tenants ?? 0} tenant(s) on new; ${t.servedNew}/${t.queries} answers used it`;
    case 'lazy':
      return `${t.reembeds} re-embedded on read (+${p.fromReads} docs current), ${t.fused}/${t.queries} answers fused (${m.fusion ?? '-'})`;
    case 'blue-green':
      return p.routing === 'single' && t.readNew === 0
        ? 'new namespace built offline, read by no query'
        : `${t.readNew}/${t.queries} queries read the new namespace`;
  }
}
