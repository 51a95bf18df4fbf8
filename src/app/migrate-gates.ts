import { readBaseline } from '../bridge/baseline.js';
import { evaluateGates, type GateResult } from '../core/gates.js';
import type { GoldenSet } from '../core/golden.js';
import type { Migration } from '../core/migration.js';
import { evaluateRetriever, type RetrieverEvaluation } from '../eval/evaluate.js';
import type { Backend } from '../ports/backend.js';
import type { JobRepository } from '../ports/jobs.js';
import type { AgreementSummary, MigrationRepository } from '../ports/migrations.js';
import { resolveGoldenSet } from './golden-sets.js';
import type { QueryEngine } from './query.js';
import { type Coverage, measureCoverage } from './status.js';

export interface GateContext {
  readonly backend: Backend;
  readonly migrations: MigrationRepository;
  readonly jobs: JobRepository;
  readonly queries: QueryEngine;
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
  const goldenInput = options.golden ?? migration.options.golden;
  if (goldenInput) {
    // A path (BEIR directory, JSONL file) or the name of a set stored with `--save-as`.
    const golden =
      typeof goldenInput === 'string'
        ? (await resolveGoldenSet(ctx.backend, goldenInput)).golden
        : goldenInput;
    const run = (namespace: string): Promise<RetrieverEvaluation> =>
      evaluateRetriever(golden, async (text, k) => {
        const { hits } = await ctx.queries.queryNamespace(namespace, { text, k, exact: true });
        return hits.map((h) => h.sourceId);
      });
    const old = await ctx.backend.catalog.getNamespace(migration.from);
    if (old.info.frozen === true) {
      // A bridged migration never calls the old model: old.* facts are the clean-old quality recorded on
      // this set while the old model answered (adapter eval records it); absent, old.* gates fail as unknown.
      const fresh = await run(migration.to);
      for (const [key, value] of Object.entries(fresh.metrics)) facts[`new.${key}`] = value;
      const recorded = readBaseline(old, golden.digest);
      for (const [key, value] of Object.entries(recorded?.metrics ?? {})) facts[`old.${key}`] = value;
    } else {
      evaluation = { old: await run(migration.from), new: await run(migration.to) };
      for (const [key, value] of Object.entries(evaluation.old.metrics)) facts[`old.${key}`] = value;
      for (const [key, value] of Object.entries(evaluation.new.metrics)) facts[`new.${key}`] = value;
    }
  }
  Object.assign(facts, options.extraFacts ?? {});

  const results = evaluateGates(migration.options.gates, facts);
  return Object.freeze({
    facts: Object.freeze(facts),
    results: Object.freeze(results),
    passed: results.every((r) => r.passed),
    coverage,
    deadLetters,
    agreement,
    evaluation,
  });
}

/** `shadow.samples`, `shadow.overlap@k`, `shadow.rbo`, `shadow.latency_p50_ms`, `shadow.latency_p99_ms`, `shadow.served_p99_ms`. */
export function agreementFacts(summary: AgreementSummary): Record<string, number> {
  const facts: Record<string, number> = { 'shadow.samples': summary.samples };
  for (const [k, overlap] of Object.entries(summary.overlap)) facts[`shadow.overlap@${k}`] = overlap;
  if (summary.rbo !== null) facts['shadow.rbo'] = summary.rbo;
  if (summary.shadowMs.p50 !== null) facts['shadow.latency_p50_ms'] = summary.shadowMs.p50;
  if (summary.shadowMs.p99 !== null) facts['shadow.latency_p99_ms'] = summary.shadowMs.p99;
  if (summary.servedMs.p99 !== null) facts['shadow.served_p99_ms'] = summary.servedMs.p99;
  return facts;
}
