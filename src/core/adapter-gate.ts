import { evaluateGates, type GateResult, parseGateRules } from './gates.js';

/**
 * The gate a bridge must pass before it serves (invariant 9), and the record of each evaluation.
 *
 * Facts (with `<m>` the set's metric: `ndcg@10` for a judged golden set, `probe.mrr@10` for a probe set):
 * - `bridged.<m>` — what the bridge serves (fused with the new namespace's native records at its current
 *   coverage), with `bridged.<m>.lo` / `.hi`, the 95% bootstrap interval of the mean over queries;
 * - `alone.<m>` — the new namespace alone at the same coverage: what serving without the bridge gives
 *   when the old model is gone;
 * - `old.<m>` — the old namespace searched by the old model (measured now when its provider answers,
 *   else the quality recorded for it on the same set);
 * - `vs_alone.<m>.lo` / `.hi` and `vs_old.<m>.lo` / `.hi` — 95% paired bootstrap intervals of the
 *   per-query difference bridged − alone and bridged − old (the latter when per-query old values are known);
 * - `recovery` — bridged ÷ native quality on the documents the new namespace holds natively and the
 *   adapter was not fitted on (absent when fewer than `MIN_RECOVERY_DOCS` such documents exist);
 * - `coverage` — the new namespace's coverage.
 */
export const ADAPTER_STATES = ['fitted', 'passed', 'revoked'] as const;
export type AdapterState = (typeof ADAPTER_STATES)[number];

/** Allowed transitions: a passing evaluation (fitted → passed) and an explicit revocation. */
export const ADAPTER_TRANSITIONS: Readonly<Record<AdapterState, readonly AdapterState[]>> = Object.freeze({
  fitted: ['passed', 'revoked'],
  passed: ['revoked'],
  revoked: [],
});

export const MIN_RECOVERY_DOCS = 50;

/**
 * The default rules for a set's metric: no loss beyond 0.01 against clean old, and better than serving the
 * new namespace alone — significantly (the 95% interval of the per-query gain is above zero), so a bridge
 * that only seems better by chance is refused and served quality never falls below the new namespace alone.
 */
export function defaultBridgeRules(metric: string): string[] {
  return [`bridged.${metric} >= old.${metric} - 0.01`, `vs_alone.${metric}.lo > 0`];
}

export interface AdapterEvaluation {
  readonly kind: 'adapter-evaluation';
  readonly adapter: string;
  readonly at: string;
  /** What the queries came from: a golden set (judged) or a probe set (known-item, cruder). */
  readonly set: { readonly kind: 'golden' | 'probe'; readonly name: string; readonly queries: number };
  readonly metric: string;
  /** Why this evaluation ran: after a fit, on demand, or the scheduled drift check. */
  readonly reason: 'fit' | 'eval' | 'drift';
  readonly facts: Readonly<Record<string, number>>;
  /** Where `old.<m>` came from. */
  readonly oldSource: 'measured' | 'recorded' | 'unavailable';
  readonly rules: readonly string[];
  readonly results: readonly GateResult[];
  readonly passed: boolean;
  /** Human notes: what could not be measured and why. */
  readonly notes: readonly string[];
}

export function adapterEvaluation(
  input: Omit<AdapterEvaluation, 'kind' | 'results' | 'passed'>,
): AdapterEvaluation {
  parseGateRules(input.rules); // a rule that does not parse is refused before anything is measured
  const results = evaluateGates(input.rules, input.facts);
  return Object.freeze({
    kind: 'adapter-evaluation' as const,
    ...input,
    facts: Object.freeze({ ...input.facts }),
    rules: Object.freeze([...input.rules]),
    notes: Object.freeze([...input.notes]),
    results: Object.freeze(results),
    passed: results.length > 0 && results.every((r) => r.passed),
  });
}

/** The state after an evaluation: only a pass moves an adapter (fitted → passed). */
export function stateAfter(state: AdapterState, evaluation: Pick<AdapterEvaluation, 'passed'>): AdapterState {
  return state === 'fitted' && evaluation.passed ? 'passed' : state;
}

/** Percentile bootstrap 95% interval of a mean (seeded: the same values give the same interval). */
export function bootstrapMean(values: readonly number[], iterations = 2000, seed = 17): [number, number] {
  const n = values.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const means = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)] as number;
    means[it] = sum / n;
  }
  means.sort();
  return [
    means[Math.floor(0.025 * (iterations - 1))] as number,
    means[Math.ceil(0.975 * (iterations - 1))] as number,
  ];
}
