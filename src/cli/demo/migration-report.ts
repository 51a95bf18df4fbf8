import type { CliContext } from '../context.js';
import type { CoveragePoint, DemoMigration } from './migration-state.js';
import { printTimeline } from './timeline.js';
import type { DemoState } from './types.js';

/** Part 2 in the `--json` document: the plan, every measured stage, gates, cutover and retirement. */
export function migrationDocument(m: DemoMigration | undefined): Record<string, unknown> | null {
  if (!m) return null;
  return {
    id: m.id,
    strategy: m.strategy,
    from: m.from,
    to: m.to,
    state: m.state,
    rollbackWindow: m.rollbackWindow,
    plan: m.plan,
    points: m.points,
    gates: m.gates,
    cutover: m.cutover,
    retirement: m.retirement,
    fusion: m.fusion,
    reembeddedOnRead: m.recorder.reembedded.size,
  };
}

const fixed = (value: number | null | undefined, digits = 3): string =>
  value === null || value === undefined ? '-' : value.toFixed(digits);

/** The strategy's own column: what only this strategy can show about its traffic. */
function strategyColumn(m: DemoMigration): { header: string; value: (p: CoveragePoint) => string } {
  switch (m.strategy) {
    case 'shadow':
      return {
        header: 'SHADOW OVERLAP@10 / RBO (SAMPLES)',
        value: (p) =>
          p.traffic.shadow.samples > 0
            ? `${fixed(p.traffic.shadow.overlap, 2)} / ${fixed(p.traffic.shadow.rbo, 2)} (${p.traffic.shadow.samples})`
            : '-',
      };
    case 'progressive':
      return {
        header: 'TRAFFIC ON NEW (TENANTS) / ANSWERS USING IT',
        value: (p) =>
          `${p.rollout ? `${p.rollout.percent}% (${p.rollout.tenants})` : '-'} / ${p.traffic.servedNew}`,
      };
    case 'lazy':
      return {
        header: `RE-EMBEDDED ON READ / FUSED ANSWERS (${m.fusion ?? '-'})`,
        value: (p) => `${p.traffic.reembeds} (+${p.fromReads} current) / ${p.traffic.fused}`,
      };
    case 'blue-green':
      return { header: 'QUERIES READING NEW', value: (p) => String(p.traffic.readNew) };
  }
}

export function printMigration(ctx: CliContext, state: DemoState): void {
  const m = state.migration;
  if (!m || m.points.length === 0) return;
  const { bold } = ctx.out.style;
  ctx.out.line();
  ctx.out.line(
    bold(
      `Migration ${m.from} → ${m.to} (${m.strategy}): quality at each stage, ${state.options.traffic} live queries per stage through alias ${state.alias}:`,
    ),
  );
  const special = strategyColumn(m);
  ctx.out.table(
    [
      { header: 'STAGE', value: (p: CoveragePoint) => p.label },
      { header: 'STATE', value: (p: CoveragePoint) => p.state },
      { header: 'ROUTING', value: (p: CoveragePoint) => p.routing },
      {
        header: 'COVERAGE',
        value: (p: CoveragePoint) => `${(p.coverage * 100).toFixed(1)}%`,
        align: 'right',
      },
      { header: 'SERVED NDCG@10', value: (p: CoveragePoint) => fixed(p.served['ndcg@10']), align: 'right' },
      { header: 'RECALL@10', value: (p: CoveragePoint) => fixed(p.served['recall@10']), align: 'right' },
      { header: 'NEW ALONE', value: (p: CoveragePoint) => fixed(p.newAlone?.['ndcg@10']), align: 'right' },
      {
        header: 'QUERIES/ERR',
        value: (p: CoveragePoint) => `${p.traffic.queries}/${p.traffic.errors}`,
        align: 'right',
      },
      { header: 'P50 MS', value: (p: CoveragePoint) => fixed(p.traffic.p50Ms, 1), align: 'right' },
      { header: special.header, value: special.value },
    ],
    m.points,
  );
  printTimeline(ctx, state);
}
