import { readBaseline } from '../bridge/baseline.js';
import { evaluateGates, type GateResult } from '../core/gates.js';
import type { GoldenSet } from '../core/golden.js';
import type { Migration } from '../core/migration.js';
import { evaluateRetriever, type RetrieverEvaluation } from '../eval/evaluate.js';
import type { Backend } from '../ports/backend.js';
import type { JobRepository } from '../ports/jobs.js';
import type { AgreementSummary, MigrationRepository } from '../ports/migrations.js';
import type { EmbedderCache } from './embedders.js';
import { resolveGoldenSet } from './golden-sets.js';
import {
  type BridgeBaseline,
  bridgeBaselineOf,
  compareBridgedProbe,
  evaluateBridgeOnGolden,
} from './migrate-bridge.js';
import { defaultGatePlan, type GatePlanEntry } from './migrate-options.js';
import { compareProbe, type ProbeComparison } from './probe-compare.js';
import { resolveProbeSet } from './probes.js';
import type { QueryEngine } from './query.js';
import { type NamespaceAnswer, queryNamespaceMany } from './query-many.js';
import { type Coverage, measureCoverage } from './status.js';

export interface GateContext {
  readonly backend: Backend;
  readonly migrations: MigrationRepository;
  readonly jobs: JobRepository;
  readonly queries: QueryEngine;
  readonly embedders: EmbedderCache;
}

/** Everything a cutover decision reads, kept for the report and the audit log. */
export interface GateEvaluation {
  readonly facts: Readonly<Record<string, number>>;
  readonly results: readonly GateResult[];
  readonly passed: boolean;
  readonly coverage: Coverage;
  readonly deadLetters: number;
  readonly agreement: AgreementSummary | null;
  readonly evaluation: { readonly old: RetrieverEvaluation; readonly new: RetrieverEvaluation } | null;
  /** Both sides on the migration's probe set, when it has one and no golden set. */
  readonly probe: ProbeComparison | null;
  /** The rules evaluated and why each applies. */
  readonly plan: readonly GatePlanEntry[];
  /** In a bridged migration: where the `old.*` facts came from (the old model is never called). */
  readonly baseline: BridgeBaseline | null;
}

/**
 * Gathers the facts of a migration's target namespace — coverage, errors (dead letters, resurrected
 * deletes, records of another fingerprint or dimension), shadow agreement of the `shadowing` phase, and
 * `new.*` / `old.*` metrics when a golden set is given — and evaluates the migration's gate rules.
 */
export async function evaluateMigrationGates(
  ctx: GateContext,
  migration: Migration,
  options: { golden?: GoldenSet | string | null; extraFacts?: Readonly<Record<string, number>> } = {},
): Promise<GateEvaluation> {
  const target = await ctx.backend.catalog.getNamespace(migration.to);
  const [coverage, stats, deadLetters] = await Promise.all([
    measureCoverage(ctx.backend, target),
    ctx.backend.store.stats(migration.to),
    ctx.jobs.countDeadLetters(migration.to),
  ]);
  const foreign = Object.entries(stats.fingerprints)
    .filter(([fp]) => fp !== target.space.fingerprint)
    .reduce((sum, [, n]) => sum + n, 0);
  const badDimension = Object.entries(stats.dimensions)
    .filter(([d]) => Number(d) !== target.space.spec.dimension)
    .reduce((sum, [, n]) => sum + n, 0);
  const facts: Record<string, number> = {
    coverage: coverage.ratio,
    'coverage.stale': coverage.stale,
    'coverage.missing': coverage.live - coverage.current - coverage.stale,
    'coverage.resurrected': coverage.resurrected,
    deadLetters,
    errors: deadLetters + coverage.resurrected + foreign + badDimension,
  };

  let agreement: AgreementSummary | null = null;
  if (migration.strategy === 'shadow') {
    agreement = await ctx.migrations.agreementSummary(migration.id, { phase: 'shadowing' });
    Object.assign(facts, agreementFacts(agreement));
  }

  let evaluation: GateEvaluation['evaluation'] = null;
  let goldenMeasured = false;
  let baseline: BridgeBaseline | null = null;
  const goldenInput = options.golden ?? migration.options.golden;
  if (goldenInput) {
    // A path (BEIR directory, JSONL file) or the name of a set stored with `--save-as`.
    const golden =
      typeof goldenInput === 'string'
        ? (await resolveGoldenSet(ctx.backend, goldenInput)).golden
        : goldenInput;
    // Every judged query of a side embedded in batches and searched in one batched store call (the first
    // query starts the batch; each query then takes its own answer or error).
    const order = new Map(golden.queries.map((q, i) => [q.id, i]));
    const run = (namespace: string): Promise<RetrieverEvaluation> => {
      let batch: { k: number; answers: Promise<NamespaceAnswer[]> } | null = null;
      return evaluateRetriever(golden, async (text, k, { queryId }) => {
        const i = order.get(queryId);
        if (i === undefined || golden.queries[i]?.text !== text || (batch !== null && batch.k !== k)) {
          const { hits } = await ctx.queries.queryNamespace(namespace, { text, k, exact: true });
          return hits.map((h) => h.sourceId);
        }
        batch ??= {
          k,
          answers: queryNamespaceMany(
            ctx,
            namespace,
            golden.queries.map((q) => ({ text: q.text, k, exact: true })),
          ),
        };
        const answer = (await batch.answers)[i] as NamespaceAnswer;
        if ('error' in answer) throw answer.error;
        return answer.hits.map((h) => h.sourceId);
      });
    };
    const old = await ctx.backend.catalog.getNamespace(migration.from);
    if (old.info.frozen === true && migration.options.bridge) {
      // A bridged migration never calls the old model: old.* facts are the clean-old quality recorded on
      // this set while the old model answered (adapter eval records it), else what the bridge serves.
      const fresh = await run(migration.to);
      for (const [key, value] of Object.entries(fresh.metrics)) facts[`new.${key}`] = value;
      baseline = bridgeBaselineOf(old, migration.options.bridge, {
        label: golden.name,
        digest: golden.digest,
        kind: 'golden',
      });
      const recorded = readBaseline(old, golden.digest);
      const oldMetrics = recorded
        ? recorded.metrics
        : (await evaluateBridgeOnGolden(ctx, migration.options.bridge, golden)).metrics;
      for (const [key, value] of Object.entries(oldMetrics)) facts[`old.${key}`] = value;
      goldenMeasured = true;
    } else {
      evaluation = { old: await run(migration.from), new: await run(migration.to) };
      for (const [key, value] of Object.entries(evaluation.old.metrics)) facts[`old.${key}`] = value;
      for (const [key, value] of Object.entries(evaluation.new.metrics)) facts[`new.${key}`] = value;
      goldenMeasured = true;
    }
  }
  let probe: ProbeComparison | null = null;
  let probeMeasured = false;
  if (!goldenMeasured && migration.options.probe) {
    const set = await resolveProbeSet(ctx.backend, migration.options.probe);
    const old = await ctx.backend.catalog.getNamespace(migration.from);
    if (old.info.frozen === true && migration.options.bridge) {
      const bridged = await compareBridgedProbe(ctx, migration, old, set);
      probe = bridged.comparison;
      baseline = bridged.baseline;
      Object.assign(facts, bridged.facts);
    } else {
      probe = await compareProbe(ctx, migration.from, migration.to, set);
      Object.assign(facts, probe.facts);
    }
    probeMeasured = true;
  }
  facts['quality.measured'] = goldenMeasured || probeMeasured ? 1 : 0;
  Object.assign(facts, options.extraFacts ?? {});

  const plan = gatePlanOf(migration, {
    golden: goldenMeasured ? nameOf(goldenInput) : null,
    ...(baseline ? { oldBaseline: baseline.why } : {}),
  });
  const results = evaluateGates(
    plan.map((g) => g.rule),
    facts,
  );
  return Object.freeze({
    facts: Object.freeze(facts),
    results: Object.freeze(results),
    passed: results.every((r) => r.passed),
    coverage,
    deadLetters,
    agreement,
    evaluation,
    probe,
    baseline,
    plan: Object.freeze(plan),
  });
}

/**
 * The rules a migration's cutover must pass and why: the rules given with `--gate` as they are, or the
 * defaults for what the migration measures (its golden set, else its probe, else nothing — which a
 * cutover refuses unless forced). A judged set given at evaluation time (`cutover --golden`) replaces
 * the probe: judged queries outrank known-item ones.
 */
export function gatePlanOf(
  migration: Migration,
  at: { golden?: string | null; oldBaseline?: string | null } = {},
): GatePlanEntry[] {
  const o = migration.options;
  const info = migration.info as { probeUnavailable?: unknown; bridgeBaseline?: { why?: unknown } };
  const recorded = typeof info.bridgeBaseline?.why === 'string' ? info.bridgeBaseline.why : null;
  const oldBaseline = at.oldBaseline ?? recorded;
  if (!o.defaultGates)
    return o.gates.map((rule) => ({
      rule,
      why: `given with --gate${oldBaseline && /\bold\b/.test(rule) ? `; ${oldBaseline}` : ''}`,
    }));
  const unavailable = info.probeUnavailable;
  return defaultGatePlan({
    strategy: migration.strategy,
    minShadowSamples: o.minShadowSamples,
    golden: at.golden ?? o.golden,
    probe: o.probe ?? null,
    probeUnavailable: typeof unavailable === 'string' ? unavailable : null,
    oldBaseline,
  });
}

function nameOf(golden: GoldenSet | string | null | undefined): string | null {
  if (!golden) return null;
  return typeof golden === 'string' ? golden : golden.name;
}

/**
 * Why a cutover is refused (or a step waits), with the figures that decided: each failing rule with its
 * values, then — when a probe gate fails — the probe's figures of both namespaces. How to pass is
 * `gateHints` (gate-hints.ts).
 */
export function refusalReasons(migration: Migration, gates: GateEvaluation): string[] {
  const failing = gates.results.filter((r) => !r.passed);
  const reasons: string[] = [];
  for (const r of failing) {
    if (r.rule.startsWith('quality.measured')) {
      const unavailable = (migration.info as { probeUnavailable?: unknown }).probeUnavailable;
      reasons.push(
        `gate "${r.rule}" (quality is not measured: no judged golden set, and no probe — ` +
          (typeof unavailable === 'string' ? `${whyNoProbe(unavailable)})` : 'started with --no-probe)'),
      );
    } else reasons.push(`gate "${r.rule}" (${shortDetail(r.detail)})`);
  }
  const fmt = (n: number | undefined): string => (n === undefined ? '?' : n.toFixed(4));
  const f = gates.facts;
  if (failing.some((r) => r.rule.startsWith('probe.')) && migration.options.probe) {
    const against = gates.baseline
      ? `; ${gates.baseline.source === 'recorded' ? 'clean old, as recorded' : `the bridge ${migration.options.bridge?.name ?? ''} alone`}`
      : '';
    reasons.push(
      `on probe:${migration.options.probe} (${f['probe.queries']} known-item queries cut from the collection, not judged) ` +
        `the new namespace ${migration.to} scores MRR@10 ${fmt(f['new.probe.mrr@10'])} and recall@10 ${fmt(f['new.probe.recall@10'])}, ` +
        `the old ${migration.from} MRR@10 ${fmt(f['old.probe.mrr@10'])} and recall@10 ${fmt(f['old.probe.recall@10'])}${against}`,
    );
  }
  return reasons;
}

/** Why the collection gave no probe, without its closing advice (the hints say how to pass). */
function whyNoProbe(message: string): string {
  return message
    .replace(/\s*Evaluate this collection with a judged golden set[\s\S]*$/, '')
    .replace(/\.$/, '');
}

/** A rule's detail without the list of every known fact (useful for a typo in a custom rule, noise here). */
export function shortDetail(detail: string): string {
  const missing = /^cannot evaluate: no usable fact ([^;]+);/.exec(detail);
  return missing ? `not measured yet: no ${missing[1]}` : detail;
}

/** `shadow.samples`, `shadow.overlap@k`, `shadow.overlap`, `shadow.rbo`, `shadow.latency_p50_ms`, `shadow.latency_p99_ms`, `shadow.served_p99_ms`. */
export function agreementFacts(summary: AgreementSummary): Record<string, number> {
  const facts: Record<string, number> = { 'shadow.samples': summary.samples };
  for (const [k, overlap] of Object.entries(summary.overlap)) facts[`shadow.overlap@${k}`] = overlap;
  // One overlap whatever k the queries asked for: @10 when sampled there, else the mean over the ks seen.
  const ks = Object.values(summary.overlap);
  if (ks.length > 0)
    facts['shadow.overlap'] = summary.overlap[10] ?? ks.reduce((a, b) => a + b, 0) / ks.length;
  if (summary.rbo !== null) facts['shadow.rbo'] = summary.rbo;
  if (summary.shadowMs.p50 !== null) facts['shadow.latency_p50_ms'] = summary.shadowMs.p50;
  if (summary.shadowMs.p99 !== null) facts['shadow.latency_p99_ms'] = summary.shadowMs.p99;
  if (summary.servedMs.p99 !== null) facts['shadow.served_p99_ms'] = summary.servedMs.p99;
  return facts;
}

/**
 * Keeps the latest gate evaluation in the migration's info (`lastGates`), so `migrate status` shows what
 * decided without measuring again. Best effort: a failure to record never hides the gates' own result.
 */
export async function recordGates(
  ctx: GateContext & { readonly actor: string; readonly clock: { now(): Date } },
  migration: Migration,
  gates: GateEvaluation,
): Promise<void> {
  const lastGates = {
    at: ctx.clock.now().toISOString(),
    passed: gates.passed,
    results: gates.results.map((r) => ({ rule: r.rule, passed: r.passed, detail: shortDetail(r.detail) })),
    ...(gates.baseline ? { baseline: gates.baseline } : {}),
    ...(gates.probe
      ? {
          probe: {
            name: gates.probe.probe.name,
            queries: gates.facts['probe.queries'],
            old: gates.probe.old.metrics,
            new: gates.probe.new.metrics,
          },
        }
      : {}),
  };
  const point = qualityPoint(lastGates.at, gates);
  const held = (migration.info as { qualityHistory?: unknown }).qualityHistory;
  const history = Array.isArray(held) ? held.slice(-(QUALITY_HISTORY_MAX - 1)) : [];
  await ctx.migrations
    .updateInfo(
      migration.id,
      point ? { lastGates, qualityHistory: [...history, point] } : { lastGates },
      ctx.actor,
    )
    .catch(() => undefined);
}

/** Gate evaluations kept per migration for the dashboard's quality-over-time chart (oldest dropped). */
export const QUALITY_HISTORY_MAX = 200;

/** One old-vs-new measurement during a migration (`info.qualityHistory`, newest last). */
export interface QualityPoint {
  readonly at: string;
  /** `golden` (judged) or `probe` (known-item queries cut from the collection). */
  readonly label: 'golden' | 'probe';
  readonly set: string;
  readonly coverage: number;
  readonly old: Readonly<Record<string, number>>;
  readonly new: Readonly<Record<string, number>>;
}

function qualityPoint(at: string, gates: GateEvaluation): QualityPoint | null {
  if (gates.evaluation) {
    return {
      at,
      label: 'golden',
      set: gates.evaluation.new.golden.name,
      coverage: gates.coverage.ratio,
      old: { ...gates.evaluation.old.metrics },
      new: { ...gates.evaluation.new.metrics },
    };
  }
  if (gates.probe) {
    return {
      at,
      label: 'probe',
      set: `probe:${gates.probe.probe.name}`,
      coverage: gates.coverage.ratio,
      old: { ...gates.probe.old.metrics },
      new: { ...gates.probe.new.metrics },
    };
  }
  return null;
}
