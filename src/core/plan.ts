import type { BackfillSettings, MigrationStrategy } from './migration.js';

/**
 * Estimates of a migration before it spends anything: what must be embedded, what it costs, how long
 * it takes and what each step will do. Pure: the app measures the inputs (counts, tokens, a latency
 * sample) and this turns them into numbers a human can approve.
 */
export interface PlanInput {
  readonly strategy: MigrationStrategy;
  /** Live source documents of the collection. */
  readonly documents: number;
  /** Live documents the target namespace already holds at their newest version (a resumed or repeated plan). */
  readonly alreadyCurrent: number;
  /** Chunks and tokens of the documents still to embed (measured or extrapolated from a sample). */
  readonly chunks: number;
  readonly tokens: number;
  readonly pricePerMillionTokens: number;
  readonly settings: BackfillSettings;
  /** Milliseconds one embedding call of `settings.batchSize` documents takes. */
  readonly batchLatencyMs: number;
  readonly latencySource: LatencySource;
}

/** Where the batch latency came from: measured on a sample, given, or unknown (no embedding call made). */
export type LatencySource = 'measured' | 'configured' | 'unknown';

export type Bottleneck = 'latency' | 'requests' | 'tokens';

export interface PlannedStep {
  readonly state: string;
  readonly action: string;
}

export interface Estimate {
  readonly kind: 'estimate';
  readonly strategy: MigrationStrategy;
  readonly documents: number;
  readonly toEmbed: number;
  readonly chunks: number;
  readonly tokens: number;
  readonly costUsd: number;
  readonly batches: number;
  readonly seconds: number;
  /** What limits the wall-clock time: provider latency × concurrency, or a rate limit. */
  readonly bottleneck: Bottleneck;
  readonly batchLatencyMs: number;
  readonly latencySource: LatencySource;
  readonly steps: readonly PlannedStep[];
}

/**
 * Wall-clock time is the largest of three floors: batches / concurrency × latency, batches / request
 * rate, tokens / token rate. Cost is tokens × price; documents already current cost nothing.
 *
 * @example
 * estimate({ ...input, tokens: 2_000_000, pricePerMillionTokens: 0.02 }).costUsd // 0.04
 */
export function estimate(input: PlanInput): Estimate {
  const s = input.settings;
  const toEmbed = Math.max(0, input.documents - input.alreadyCurrent);
  const batches = Math.ceil(toEmbed / s.batchSize);
  const floors: Record<Bottleneck, number> = {
    latency: (Math.ceil(batches / s.concurrency) * input.batchLatencyMs) / 1000,
    requests: s.requestsPerMinute ? (batches / s.requestsPerMinute) * 60 : 0,
    tokens: s.tokensPerMinute ? (input.tokens / s.tokensPerMinute) * 60 : 0,
  };
  const bottleneck = (Object.keys(floors) as Bottleneck[]).reduce(
    (a, b) => (floors[b] > floors[a] ? b : a),
    'latency',
  );
  return Object.freeze({
    kind: 'estimate' as const,
    strategy: input.strategy,
    documents: input.documents,
    toEmbed,
    chunks: input.chunks,
    tokens: input.tokens,
    costUsd: (input.tokens / 1e6) * input.pricePerMillionTokens,
    batches,
    seconds: floors[bottleneck],
    bottleneck,
    batchLatencyMs: input.batchLatencyMs,
    latencySource: input.latencySource,
    steps: Object.freeze(plannedSteps(input.strategy, toEmbed)),
  });
}

/** What each state of the strategy's path will do, in words (shown by `reembed migrate plan`). */
export function plannedSteps(strategy: MigrationStrategy, toEmbed: number): PlannedStep[] {
  const backfill = `re-embed ${toEmbed} document(s) into the new namespace; new writes go to both namespaces from the start`;
  const cut = {
    state: 'cut-over',
    action: 'evaluate the gates, then point the alias at the new namespace in one catalog write',
  };
  const retire = {
    state: 'retiring',
    action:
      'keep the old namespace for the rollback window, then drop its vectors once no traffic reaches it',
  };
  const steps: Record<MigrationStrategy, PlannedStep[]> = {
    'blue-green': [
      { state: 'backfilling', action: `${backfill}; queries keep using the old namespace only` },
      { state: 'validating', action: 'check coverage (100% current), dead letters and evaluation facts' },
      cut,
      retire,
    ],
    shadow: [
      {
        state: 'backfilling',
        action: `${backfill}; a sample of queries also runs on the new namespace (never served)`,
      },
      { state: 'validating', action: 'check coverage (100% current) and dead letters' },
      {
        state: 'shadowing',
        action: 'keep recording agreement (overlap@k, RBO, latency of both) until the gates pass',
      },
      cut,
      retire,
    ],
    progressive: [
      {
        state: 'backfilling',
        action: `${backfill}, most-queried documents first; tenants move once all their documents are current, and the traffic share rises at most one step per migrate step, never beyond coverage`,
      },
      { state: 'validating', action: 'check coverage (100% current) and dead letters' },
      {
        state: 'rolling-out',
        action:
          'one traffic step per migrate step, each after the step hold and only while the gates pass, up to 100%',
      },
      cut,
      retire,
    ],
    lazy: [
      {
        state: 'backfilling',
        action: `${backfill}; queries read both namespaces and fuse by rank (coverage-aware), and old-space documents seen in results are re-embedded first`,
      },
      { state: 'validating', action: 'check coverage (100% current) and dead letters' },
      cut,
      retire,
    ],
  };
  return steps[strategy];
}
