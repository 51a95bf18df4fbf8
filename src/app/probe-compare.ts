import { defined } from '../core/defined.js';
import type { ProbeSet } from '../core/probe.js';
import { compareEvaluations, type PairedComparison } from '../core/significance.js';
import { evaluateProbe, type ProbeApp, type ProbeEvaluateOptions, type ProbeEvaluation } from './probes.js';

/**
 * Both sides of a change on one probe set: each namespace's probe figures, and per metric the difference
 * new − old with a paired randomisation p-value and a bootstrap 95% interval over the probe's queries.
 */
export interface ProbeComparison {
  readonly kind: 'probe-comparison';
  readonly label: 'probe';
  readonly probe: ProbeEvaluation['probe'];
  readonly old: ProbeEvaluation;
  readonly new: ProbeEvaluation;
  readonly comparisons: Readonly<
    Record<string, PairedComparison & { readonly old: number; readonly new: number }>
  >;
  /** Gate facts: `old.probe.mrr@10`, `new.probe.recall@10`, …, and `probe.queries`. */
  readonly facts: Readonly<Record<string, number>>;
}

/**
 * @example
 * const c = await compareProbe(app, 'docs@hashing-v1', 'docs@lsa-v2', probe);
 * c.comparisons['mrr@10'].meanDiff; // > 0: the new space finds the probe's documents sooner
 */
export async function compareProbe(
  app: ProbeApp,
  oldNamespace: string,
  newNamespace: string,
  probe: ProbeSet,
  options: ProbeEvaluateOptions & { readonly iterations?: number; readonly seed?: number } = {},
): Promise<ProbeComparison> {
  const { iterations, seed, ...evaluate } = options;
  const old = await evaluateProbe(app, oldNamespace, probe, evaluate);
  const next = await evaluateProbe(app, newNamespace, probe, evaluate);
  return compareProbeEvaluations(old, next, defined({ iterations, seed }));
}

/**
 * Two evaluations of one probe set compared per metric (paired over the queries both evaluated). The
 * significance figures (10,000 sign flips and resamples per metric) are computed on first read of
 * `comparisons`: gates need only the metrics, and a `migrate step` evaluates them on every call.
 */
export function compareProbeEvaluations(
  old: ProbeEvaluation,
  next: ProbeEvaluation,
  options: { readonly iterations?: number; readonly seed?: number } = {},
): ProbeComparison {
  const { iterations, seed } = options;
  let comparisons: ProbeComparison['comparisons'] | null = null;
  const compare = (): ProbeComparison['comparisons'] => {
    if (comparisons) return comparisons;
    const out: Record<string, PairedComparison & { old: number; new: number }> = {};
    for (const metric of Object.keys(old.metrics)) {
      out[metric] = Object.freeze({
        ...compareEvaluations(old.perQuery, next.perQuery, metric, defined({ iterations, seed })),
        old: old.metrics[metric] ?? 0,
        new: next.metrics[metric] ?? 0,
      });
    }
    comparisons = Object.freeze(out);
    return comparisons;
  };
  const result = {
    kind: 'probe-comparison' as const,
    label: 'probe' as const,
    probe: old.probe,
    old,
    new: next,
    facts: Object.freeze({ ...probeFacts('old', old), ...probeFacts('new', next) }),
  };
  Object.defineProperty(result, 'comparisons', { get: compare, enumerable: true });
  return Object.freeze(result) as ProbeComparison;
}

/** `<side>.probe.<metric>` for every metric, plus `probe.queries` (queries actually evaluated). */
export function probeFacts(side: 'old' | 'new', evaluation: ProbeEvaluation): Record<string, number> {
  const facts: Record<string, number> = { 'probe.queries': evaluation.perQuery.length };
  for (const [metric, value] of Object.entries(evaluation.metrics)) facts[`${side}.probe.${metric}`] = value;
  return facts;
}
