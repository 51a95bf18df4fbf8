import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigrationService } from '../../app/migrate.js';
import type { MigrationInput } from '../../app/migrate-options.js';
import type { GoldenSet } from '../../core/golden.js';
import { formatDuration } from '../progress.js';
import { DemoClock } from './clock.js';
import { backfillTo, demoMigration, migrationOf, runStage, track } from './stage.js';
import { mark } from './timeline.js';
import { TrafficRecorder } from './traffic.js';
import { type DemoState, type DemoStep, need, type StepOutcome } from './types.js';

/** Backfill targets at which the demo stops to measure (the last one finishes the pass). */
export const COVERAGE_POINTS = [0, 0.1, 0.3, 0.5, 0.7, 1] as const;
/** Short, so the demo can show the window closing (on a simulated clock) before it retires v1. */
export const ROLLBACK_WINDOW = '1h';
/** Shadow: half the live queries also read the new namespace; cutover needs this many shadowing samples. */
export const SHADOW_SAMPLE_RATE = 0.5;
export const MIN_SHADOW_SAMPLES = 20;

/** The migration the demo runs, as `reembed migrate start docs --to v2-lsa --strategy …` would. */
export function migrationInput(state: DemoState): MigrationInput {
  const m = demoMigration(state);
  return {
    alias: state.alias,
    to: m.to.slice(m.to.indexOf('@') + 1),
    strategy: m.strategy,
    options: {
      rollbackWindow: m.rollbackWindow,
      golden: m.goldenPath,
      sampleRate: SHADOW_SAMPLE_RATE,
      minShadowSamples: MIN_SHADOW_SAMPLES,
      backfill: { batchSize: m.batchSize },
    },
  };
}

/** The golden set as JSONL (`{id, query, relevant}`), so the migration's own quality gate can read it. */
function writeGoldenJsonl(golden: GoldenSet, path: string): void {
  const lines = golden.queries.map((q) =>
    JSON.stringify({ id: q.id, query: q.text, relevant: golden.qrels[q.id] ?? {} }),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/**
 * Step: part 2 begins. The clean v2 namespace of part 1 was a yardstick built outside any migration; it is
 * set aside (retired, vectors dropped) so the migration really re-embeds the corpus. Then the migration
 * service is created (its observer watches the query path, like the demo's traffic recorder) and the
 * migration is planned: documents, tokens, cost and time, and the gates it must pass.
 */
export const migratePlanStep: DemoStep = {
  name: 'migrate-plan',
  async run(state: DemoState): Promise<StepOutcome> {
    const { app } = state;
    const v2 = need(state.v2, 'space v2');
    const golden = need(state.golden, 'the golden set');
    const v1Namespace = need(state.v1Namespace, 'the v1 namespace');
    const strategy = need(state.options.strategy, 'the strategy');
    if (state.v2Namespace) {
      const yardstick = await app.backend.catalog.getNamespace(state.v2Namespace);
      if (yardstick.state !== 'retired') {
        await app.backend.catalog.setNamespaceState(yardstick.name, 'retired', app.actor);
        await app.backend.store.dropNamespace(yardstick.name);
      }
    }
    const goldenPath = join(state.dataDir, 'demo-golden.jsonl');
    writeGoldenJsonl(golden, goldenPath);
    const clock = new DemoClock();
    const service = new MigrationService(app, { clock });
    const to = `${state.collection}@${v2.name}`;
    const recorder = new TrafficRecorder(state.alias, to, v2.fingerprint);
    state.migration = {
      service,
      clock,
      recorder,
      strategy,
      from: v1Namespace,
      to,
      goldenPath,
      rollbackWindow: ROLLBACK_WINDOW,
      batchSize: Math.max(16, Math.ceil((state.documents ?? 0) / 50)),
      detach: app.queries.observe(recorder),
      id: null,
      state: null,
      fusion: null,
      cursor: 0,
      plan: null,
      points: [],
      gates: [],
      cutover: null,
      retirement: null,
    };
    const plan = await service.plan(migrationInput(state));
    const e = plan.estimate;
    state.migration.plan = {
      documents: e.documents,
      toEmbed: e.toEmbed,
      chunks: e.chunks,
      tokens: e.tokens,
      costUsd: e.costUsd,
      pricePerMillionTokens: plan.space.pricePerMillionTokens,
      seconds: e.seconds,
      batches: e.batches,
      bottleneck: e.bottleneck,
      latencySource: e.latencySource,
      gates: plan.options.gates,
      steps: e.steps,
    };
    const price = plan.space.pricePerMillionTokens;
    const summary =
      `plan ${strategy} ${plan.from} → ${plan.to}: ${e.toEmbed} of ${e.documents} documents to embed, ` +
      `${e.tokens.toLocaleString('en-US')} tokens, ${price > 0 ? `$${e.costUsd.toFixed(4)} at $${price}/1M tokens` : '$0 (local model)'}, ` +
      `~${e.seconds < 60 ? `${e.seconds.toFixed(1)}s` : formatDuration(e.seconds)} (${e.batches} batches, bound by ${e.bottleneck}); gates: ${plan.options.gates.join('; ')}`;
    mark(state, 'plan', summary, state.migration.plan);
    const setAside = state.v2Namespace
      ? `set aside the part-1 yardstick ${state.v2Namespace} (vectors dropped, so the migration re-embeds); `
      : '';
    return { summary: `${setAside}${summary}`, details: { plan: state.migration.plan } };
  },
};

/** Step: `migrate start` — the target namespace (dual-writes from now on), the stored migration, the routing. */
export const migrateStartStep: DemoStep = {
  name: 'migrate-start',
  async run(state: DemoState): Promise<StepOutcome> {
    const m = demoMigration(state);
    const report = await m.service.start(migrationInput(state));
    m.state = 'planned';
    if (m.strategy === 'lazy') m.fusion = report.migration.options.fusion.method;
    const route = report.steps.find((s) => s.name === 'route')?.detail ?? '';
    track(state, report, route);
    const routing = (await state.app.backend.catalog.getAlias(state.alias)).routing;
    return {
      summary: `migration ${report.migration.id} started (${m.strategy}): ${route}; ${report.steps[0]?.detail ?? ''}`,
      details: { id: report.migration.id, state: report.migration.state, routing, steps: report.steps },
    };
  },
};

/**
 * Step: the backfill, in chunks up to each coverage point, while live queries are answered through the
 * alias; at every point the served quality, the new namespace's own quality and the traffic are measured.
 */
export const migrateBackfillStep: DemoStep = {
  name: 'migrate-backfill',
  async run(state: DemoState): Promise<StepOutcome> {
    const m = migrationOf(state);
    const total = (m.plan?.toEmbed as number | undefined) ?? state.documents ?? 0;
    const task = state.ctx.progress.start(`backfill ${m.to}`, { total, unit: 'docs' });
    try {
      for (const target of COVERAGE_POINTS) {
        const point = await runStage(
          state,
          `backfill ${Math.round(target * 100)}%`,
          target === 0 ? undefined : () => backfillTo(state, target, task),
        );
        task.advance(point.fromReads); // lazy: documents re-embedded on read count as migrated too
      }
    } finally {
      task.end();
    }
    const points = m.points;
    const first = points[0];
    const last = points[points.length - 1];
    const sum = (f: (p: (typeof points)[number]) => number) => points.reduce((n, p) => n + f(p), 0);
    const queries = sum((p) => p.traffic.queries);
    const errors = sum((p) => p.traffic.errors);
    const mixed = sum((p) => p.traffic.mixedVersion);
    const reads = m.recorder.reembedded.size;
    return {
      summary:
        `backfilled ${m.to} to ${((last?.coverage ?? 0) * 100).toFixed(1)}% in ${points.length} stages ` +
        `(${sum((p) => p.backfilled)} written by the backfill${reads > 0 ? `, ${reads} re-embedded on read` : ''}); ` +
        `${queries} live queries answered meanwhile, ${errors} failed, ${mixed} mixed-version; served nDCG@10 ` +
        `${first?.served['ndcg@10'].toFixed(3)} → ${last?.served['ndcg@10'].toFixed(3)}, new alone ` +
        `${first?.newAlone?.['ndcg@10'].toFixed(3)} → ${last?.newAlone?.['ndcg@10'].toFixed(3)}`,
      details: { points, state: m.state },
    };
  },
};
