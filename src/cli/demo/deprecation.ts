import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateAdapter } from '../../app/bridge-evaluate.js';
import { embedSample } from '../../app/bridge-sample.js';
import { evaluateAlias, evaluateNamespace } from '../../app/evaluate.js';
import { MigrationService } from '../../app/migrate.js';
import { measureCoverage } from '../../app/status.js';
import { recordBaseline } from '../../bridge/baseline.js';
import { fitAdapter } from '../../bridge/fit.js';
import { requireVectors } from '../../bridge/pairs.js';
import { ReembedError } from '../../core/errors.js';
import type { GoldenSet } from '../../core/golden.js';
import { queryText } from '../../core/pipeline.js';
import type { Space } from '../../core/space.js';
import { evaluateRetriever } from '../../eval/evaluate.js';
import { runningCount } from '../progress.js';
import { evaluateV1Step } from './evaluate.js';
import { topSources } from './mixed.js';
import { goldenStep, ingestStep, setupStep } from './setup.js';
import { mark } from './timeline.js';
import { type DemoState, type DemoStep, need, type StepOutcome } from './types.js';
import { fitV2Step, sourcePages } from './upgrade.js';

/**
 * `reembed demo --scenario deprecation` (issue 17): the old space's provider stops answering. Without a
 * bridge the alias is down until the whole corpus is re-embedded (or it is swapped to a half-built new
 * namespace, or the two are silently mixed). With one, reembed fits an adapter on a small paired sample
 * (embedded with the new model only), gates it, serves new-model queries through it at once, re-embeds
 * in the background and cuts over to native — the old model is never called again.
 */

/** Share of documents embedded with the new model for the bridge's paired sample. */
const SAMPLE_SHARE = 0.05;
/** Backfill targets at which the demo measures what is served. */
const STAGES = [0.25, 0.5, 1] as const;
/** In the deprecation case the alternatives are the new namespace alone or downtime: beat the first, significantly. */
const DEPRECATION_GATE = 'vs_alone.ndcg@10.lo > 0';

/** One row of the deprecation table: what each option serves at one moment. */
export interface DeprecationStage {
  readonly label: string;
  readonly coverage: number;
  /** What reembed serves through the alias (bridge + native), nDCG@10. */
  readonly served: number;
  /** Swapping the alias to the new namespace as it is (nDCG@10 at this coverage). */
  readonly newAlone: number;
  /** One index mixing native new vectors and old ones, queried with the new model. */
  readonly mixed: number;
  /** The old model's alias, now failing: queries answered (0: downtime). */
  readonly oldAnswered: number;
}

interface DeprecationState {
  service?: MigrationService;
  migration?: string;
  adapter?: string;
  oldCalls: number;
  /** v1 calls made (and failed) while showing the downtime, before the bridge. */
  downtimeCalls: number;
  stages: DeprecationStage[];
  gate?: { passed: boolean; facts: Record<string, number> };
  cleanOld?: number;
}

const STORE = new WeakMap<DemoState, DeprecationState>();

export function deprecationOf(state: DemoState): DeprecationState {
  let d = STORE.get(state);
  if (!d) {
    d = { oldCalls: 0, downtimeCalls: 0, stages: [] };
    STORE.set(state, d);
  }
  return d;
}

const f3 = (n: number): string => n.toFixed(3);

/**
 * Step: the provider deprecates v1. While it still answers, the clean v1 quality on the judged set is
 * recorded in the v1 namespace's manifest (what `reembed adapter eval` records); then every v1 call fails
 * (and is counted): the alias, still served by v1, answers no query.
 */
export const deprecateStep: DemoStep = {
  name: 'deprecate-v1',
  async run(state: DemoState): Promise<StepOutcome> {
    const v1 = need(state.v1, 'space v1');
    const golden = need(state.golden, 'the golden set');
    const ns = need(state.v1Namespace, 'the v1 namespace');
    const d = deprecationOf(state);
    const clean = await evaluateNamespace(state.app, ns, golden, { ks: [10], exact: true });
    await recordBaseline(state.app.backend, ns, golden.digest, {
      set: golden.name,
      at: new Date().toISOString(),
      metrics: { ...clean.metrics },
      perQuery: Object.fromEntries(clean.perQuery.map((q) => [q.queryId, q.metrics['ndcg@10'] ?? 0])),
      metric: 'ndcg@10',
    });
    d.cleanOld = clean.metrics['ndcg@10'] ?? 0;
    retireProvider(state, v1, d);
    const down = await evaluateAlias(state.app, state.alias, golden, {
      ks: [10],
      allowUnknownDocs: true,
      maxErrors: golden.queries.length,
    });
    const answered = golden.queries.length - down.errors.count;
    d.downtimeCalls = d.oldCalls;
    d.oldCalls = 0;
    mark(
      state,
      'serving',
      `provider of ${v1.name} retired: ${answered}/${golden.queries.length} queries answered`,
      {
        answered,
      },
    );
    return {
      summary: `clean ${v1.name} nDCG@10 ${f3(d.cleanOld)} recorded while it still answered; then its provider retired the model: the alias answers ${answered} of ${golden.queries.length} queries (${down.errors.samples[0]?.message.split('\n')[0] ?? 'no error'})`,
      details: { cleanOld: d.cleanOld, answered, queries: golden.queries.length },
    };
  },
};

/** Replaces the v1 embedder with one that fails every call, as a retired model does, and counts the calls. */
function retireProvider(state: DemoState, v1: Space, d: DeprecationState): void {
  state.app.embedders.set(v1, {
    maxBatchSize: 64,
    countTokens: (text: string) => Math.ceil(text.length / 4),
    embed: async () => {
      d.oldCalls++;
      throw new ReembedError(
        'EMBEDDER_FAILED',
        `The provider of ${v1.name} answered 404: the model was deprecated and removed.`,
      );
    },
  } as unknown as Parameters<typeof state.app.embedders.set>[1]);
}

/**
 * Step: a paired sample (5% of the documents, embedded with v2 only: their v1 vectors are already stored),
 * an adapter fitted on it (corpus bridge: v1 vectors mapped into v2), and its gate on the judged set.
 */
export const bridgeStep: DemoStep = {
  name: 'fit-bridge',
  async run(state: DemoState): Promise<StepOutcome> {
    const [v1, v2, golden] = [need(state.v1, 'v1'), need(state.v2, 'v2'), need(state.golden, 'golden')];
    const d = deprecationOf(state);
    const count = Math.max(50, Math.round(SAMPLE_SHARE * (state.documents ?? 0)));
    const task = state.ctx.progress.start('embed the paired sample with v2', { total: count, unit: 'docs' });
    const advance = runningCount(task);
    const sample = await embedSample(state.app, {
      collection: state.collection,
      from: v1.name,
      to: v2.name,
      count,
      seed: state.options.seed,
      signal: state.ctx.interrupt(),
      onProgress: (p) => advance(p.done),
    }).finally(() => task.end());
    const { record, report } = await fitAdapter(state.app, {
      collection: state.collection,
      from: v1.name,
      to: v2.name,
      direction: 'corpus',
      seed: state.options.seed,
      signal: state.ctx.interrupt(),
    });
    d.adapter = record.adapter.name;
    // The default gate compares with clean old; the old model being gone, the deprecation-case gate asks
    // only that the bridge serve significantly better than the new namespace alone (the other options left).
    const strict = (
      await evaluateAdapter(state.app, record.adapter.name, {
        golden,
        old: 'recorded',
        signal: state.ctx.interrupt(),
      })
    ).evaluation;
    const evaluation = strict.passed
      ? strict
      : (
          await evaluateAdapter(state.app, record.adapter.name, {
            golden,
            old: 'recorded',
            rules: [DEPRECATION_GATE],
            signal: state.ctx.interrupt(),
          })
        ).evaluation;
    d.gate = { passed: evaluation.passed, facts: { ...evaluation.facts } };
    const facts = evaluation.facts;
    const strictLine = strict.passed
      ? 'default gate (bridged >= clean old - 0.01, and better than new alone) PASSED'
      : `default gate FAILED (${strict.results
          .filter((r) => !r.passed)
          .map((r) => r.rule)
          .join(
            '; ',
          )}: clean old is no longer on offer); deprecation-case gate "${DEPRECATION_GATE}" (95% interval of the gain over the new namespace alone above zero) ${evaluation.passed ? 'PASSED' : 'FAILED: the bridge is refused'}`;
    mark(state, 'serving', `adapter ${record.adapter.name}: ${strictLine}`, { adapter: record.adapter.name });
    if (!evaluation.passed)
      throw new ReembedError(
        'GATE_FAILED',
        `The bridge serves no better than the new namespace alone (${strictLine}); without it the alias stays down until the re-embedding completes.`,
      );
    const verdict = strictLine;
    return {
      summary: `${sample.embedded} documents embedded with ${v2.name} (the old model not called); adapter ${record.adapter.name} (${record.adapter.spec.method}) fitted; bridged nDCG@10 ${f3(facts['bridged.ndcg@10'] ?? 0)} vs clean old ${f3(facts['old.ndcg@10'] ?? 0)} (recorded) and new alone ${f3(facts['alone.ndcg@10'] ?? 0)}: ${verdict}`,
      details: { sample: sample.embedded, adapter: record.adapter.name, fit: report, evaluation },
    };
  },
};

/** Writes the golden set as JSONL for the migration's own quality gate. */
function goldenFile(state: DemoState, golden: GoldenSet): string {
  const path = join(state.dataDir, 'demo-golden.jsonl');
  const lines = golden.queries.map((q) =>
    JSON.stringify({ id: q.id, query: q.text, relevant: golden.qrels[q.id] ?? {} }),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Step: `migrate start --strategy lazy --bridge corpus`: the new model serves at once, through the bridge. */
export const bridgedStartStep: DemoStep = {
  name: 'serve-through-bridge',
  async run(state: DemoState): Promise<StepOutcome> {
    const [v2, golden] = [need(state.v2, 'v2'), need(state.golden, 'golden')];
    const d = deprecationOf(state);
    const adapter = need(d.adapter, 'the adapter');
    const service = new MigrationService(state.app, { flushMs: 0 });
    d.service = service;
    const started = await service.start({
      alias: state.alias,
      to: v2.name,
      strategy: 'lazy',
      options: {
        bridge: { direction: 'corpus', adapter },
        golden: goldenFile(state, golden),
        backfill: { batchSize: state.options.batchSize },
      },
    });
    const failed = started.steps.find((s) => s.status === 'failed');
    if (failed)
      throw new ReembedError('INVALID_STATE', `migrate start: ${failed.name} failed: ${failed.detail}`);
    d.migration = started.migration.id;
    const stage = await measureStage(state, 'day 0');
    return {
      summary: `migration ${started.migration.id} (lazy, corpus bridge through ${adapter}): ${stageLine(stage)}`,
      details: { migration: started.migration.id, stage },
    };
  },
};

/** Step: the background re-embedding, measured at 25%, 50% and 100% of the documents. */
export const bridgedBackfillStep: DemoStep = {
  name: 're-embed',
  async run(state: DemoState): Promise<StepOutcome> {
    const d = deprecationOf(state);
    const service = need(d.service, 'the migration');
    const id = need(d.migration, 'the migration');
    const lines: string[] = [];
    const task = state.ctx.progress.start('re-embed with v2', { total: state.documents ?? 0, unit: 'docs' });
    // Ctrl-C stops the re-embedding at its next checkpoint (the batches in flight finish).
    const signal = state.ctx.interrupt();
    try {
      for (const target of STAGES) {
        const last = d.stages[d.stages.length - 1];
        if (target < 1 && last && last.coverage >= target) continue; // a batch went past it already
        for (let round = 0; round < 100; round++) {
          signal.throwIfAborted();
          const status = await service.status(id);
          if (status.migration.state !== 'backfilling') break;
          const coverage = status.coverage;
          if (target < 1 && coverage.ratio >= target) break;
          const gap = Math.ceil(target * coverage.live) - coverage.current;
          const count = runningCount(task);
          await service.step(id, {
            signal,
            ...(target < 1 ? { maxBatches: Math.max(1, Math.ceil(gap / state.options.batchSize)) } : {}),
            onProgress: (p) => count(p.written),
          });
        }
        const stage = await measureStage(state, `${Math.round(target * 100)}%`);
        lines.push(stageLine(stage));
      }
    } finally {
      task.end();
    }
    return { summary: lines.join(' | '), details: { stages: deprecationOf(state).stages } };
  },
};

/** Step: cutover to native v2 (its gate reads the recorded clean v1 quality: the old model is not called). */
export const bridgedCutoverStep: DemoStep = {
  name: 'cutover',
  async run(state: DemoState): Promise<StepOutcome> {
    const d = deprecationOf(state);
    const service = need(d.service, 'the migration');
    const report = await service.cutover(need(d.migration, 'the migration'));
    const gates = report.steps.find((s) => s.name === 'gates');
    if (gates?.status === 'failed') throw new ReembedError('GATE_FAILED', `cutover refused: ${gates.detail}`);
    const stage = await measureStage(state, 'native');
    const alias = await state.app.backend.catalog.getAlias(state.alias);
    await service.close();
    d.service = undefined;
    return {
      summary: `cut over (${gates?.detail ?? 'gates'}; old side: the recorded clean v1): alias → ${alias.routing.kind === 'single' ? alias.routing.namespace : alias.routing.kind}, ${stageLine(stage)}; v1 provider calls since the bridge took over: ${d.oldCalls}`,
      details: { stage, oldCalls: d.oldCalls },
    };
  },
};

/** Serves the golden set through the alias, the new namespace alone and a naive mixed index, at the current coverage. */
async function measureStage(state: DemoState, label: string): Promise<DeprecationStage> {
  const [v1, v2, golden] = [need(state.v1, 'v1'), need(state.v2, 'v2'), need(state.golden, 'golden')];
  const d = deprecationOf(state);
  const nextName = `${state.collection}@${v2.name}`;
  const next = await state.app.backend.catalog.getNamespace(nextName);
  const coverage = (await measureCoverage(state.app.backend, next)).ratio;
  const signal = state.ctx.interrupt();
  const served = await evaluateAlias(state.app, state.alias, golden, {
    ks: [10],
    allowUnknownDocs: true,
    signal,
  });
  const alone = await evaluateNamespace(state.app, nextName, golden, {
    ks: [10],
    exact: true,
    allowUnknownDocs: true,
    signal,
  });
  const mixed = await mixedIndex(state, v1, v2, nextName, golden);
  const stage: DeprecationStage = {
    label,
    coverage,
    served: served.metrics['ndcg@10'] ?? 0,
    newAlone: alone.metrics['ndcg@10'] ?? 0,
    mixed,
    oldAnswered: 0,
  };
  d.stages.push(stage);
  mark(state, 'coverage', stageLine(stage), { coverage, served: stage.served });
  return stage;
}

/**
 * The index a team would get by writing new-model vectors over old ones in one index (what reembed refuses):
 * the native v2 vectors held now, the stored v1 vectors for the rest, queried with v2. Read from the store,
 * so the old model is not needed.
 */
async function mixedIndex(
  state: DemoState,
  v1: Space,
  v2: Space,
  nextName: string,
  golden: GoldenSet,
): Promise<number> {
  const reader = requireVectors(state.app.backend);
  const owners: string[] = [];
  const rows: Float32Array[] = [];
  const v1Name = need(state.v1Namespace, 'v1 namespace');
  for await (const page of sourcePages(state.app, state.collection)) {
    const ids = page.map((p) => p.id);
    const native = await reader.read(nextName, ids);
    const have = new Set(native.map((r) => r.sourceId));
    const old = (await reader.read(v1Name, ids)).filter((r) => !have.has(r.sourceId));
    for (const r of [...native, ...old]) {
      owners.push(r.sourceId);
      rows.push(r.vector);
    }
  }
  const dimension = v2.spec.dimension;
  if (v1.spec.dimension !== dimension) return Number.NaN;
  const matrix = new Float32Array(rows.length * dimension);
  for (const [i, r] of rows.entries()) matrix.set(r, i * dimension);
  const embedder = await state.app.embedders.get(v2);
  const result = await evaluateRetriever(
    golden,
    async (text, k) => {
      const [q] = await embedder.embed([queryText(v2.spec, text)], { inputType: 'query' });
      return topSources(q as Float32Array, matrix, owners, k);
    },
    { ks: [10], signal: state.ctx.interrupt() },
  );
  return result.metrics['ndcg@10'] ?? 0;
}

function stageLine(s: DeprecationStage): string {
  return `${s.label}: v2 coverage ${(s.coverage * 100).toFixed(0)}%, served nDCG@10 ${f3(s.served)} (new alone ${f3(s.newAlone)}, mixed index ${f3(s.mixed)}${s.coverage < 1 ? ', without a bridge: down' : ''})`;
}

/** The deprecation scenario's steps: part 1's serving and v2 fit, then the deprecation and the bridge. */
export const DEPRECATION_STEPS: readonly DemoStep[] = [
  setupStep,
  ingestStep,
  goldenStep,
  evaluateV1Step,
  fitV2Step,
  deprecateStep,
  bridgeStep,
  bridgedStartStep,
  bridgedBackfillStep,
  bridgedCutoverStep,
];

/** The closing table: served quality at each stage next to the alternatives. */
export function printDeprecationSummary(state: DemoState): void {
  const { ctx } = state;
  const d = deprecationOf(state);
  const { bold } = ctx.out.style;
  ctx.out.line();
  ctx.out.line(
    bold(
      `nDCG@10 served on ${state.golden?.queries.length ?? 0} judged queries after the provider retired ${state.v1?.name ?? 'v1'} (clean v1 was ${f3(d.cleanOld ?? 0)}):`,
    ),
  );
  ctx.out.table(
    [
      { header: 'STAGE', value: (s: DeprecationStage) => s.label },
      {
        header: 'V2 COVERAGE',
        value: (s: DeprecationStage) => `${(s.coverage * 100).toFixed(0)}%`,
        align: 'right',
      },
      { header: 'REEMBED (BRIDGE)', value: (s: DeprecationStage) => f3(s.served), align: 'right' },
      {
        header: 'WAIT (DOWNTIME)',
        value: (s: DeprecationStage) => (s.coverage < 1 ? 'down' : f3(s.newAlone)),
        align: 'right',
      },
      { header: 'SWAP TO NEW', value: (s: DeprecationStage) => f3(s.newAlone), align: 'right' },
      { header: 'MIXED INDEX', value: (s: DeprecationStage) => f3(s.mixed), align: 'right' },
    ],
    d.stages,
  );
  const atLeast = d.stages.every((s) => s.served >= s.newAlone - 1e-9 && s.served >= s.mixed - 1e-9);
  ctx.out.line();
  ctx.out.line(
    `After the retirement the alias answered nothing (${d.downtimeCalls} failed v1 calls); from the bridge on, v1 was called ${d.oldCalls} time(s). The bridge served the new model from day 0, ${atLeast ? 'at every stage at least as well as' : 'NOT at every stage as well as'} swapping to the half-built new namespace or mixing the two in one index, and the cutover to native v2 gated on the clean v1 quality recorded before the deprecation.`,
  );
}

export function deprecationDocument(state: DemoState): Record<string, unknown> {
  const d = deprecationOf(state);
  return {
    scenario: 'deprecation',
    cleanOld: d.cleanOld ?? null,
    adapter: d.adapter ?? null,
    gate: d.gate ?? null,
    stages: d.stages,
    oldCalls: d.oldCalls,
    downtimeCalls: d.downtimeCalls,
  };
}
