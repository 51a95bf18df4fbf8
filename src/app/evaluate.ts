import { ReembedError } from '../core/errors.js';
import { gateFacts } from '../core/gates.js';
import type { GoldenSet } from '../core/golden.js';
import { recalibrateThreshold, type ThresholdRecalibration } from '../core/recalibrate.js';
import { compareEvaluations, type PairedComparison } from '../core/significance.js';
import { compareRetrievers } from '../eval/compare.js';
import {
  type EvaluateOptions,
  evaluateRetriever,
  type Retrieve,
  type RetrieverEvaluation,
} from '../eval/evaluate.js';
import { assertJudgedDocsKnown } from './golden-sets.js';
import { QueryEngine, type QueryRequest, type ResultHit } from './query.js';
import type { Reembed } from './reembed.js';

/**
 * Evaluation of what applications query — an alias, a namespace, or both sides of a migration — on a
 * golden set. Reads only: queries go through a private `QueryEngine` with no observers, so an eval neither
 * writes to namespaces nor counts as traffic, shadow samples or lazy re-embeds.
 */
export interface AppEvaluateOptions
  extends Pick<EvaluateOptions, 'ks' | 'concurrency' | 'signal' | 'onProgress' | 'maxErrors'> {
  /** Force exact search (default: the store's normal search, ANN when it has one). */
  readonly exact?: boolean;
  /** Score judged documents the collection lacks as misses instead of refusing (default false). */
  readonly allowUnknownDocs?: boolean;
}

export interface TargetEvaluation extends RetrieverEvaluation {
  readonly target: {
    readonly kind: 'alias' | 'namespace';
    readonly name: string;
    readonly collection: string;
  };
  /** Recall of the ANN index against exact search (only for a namespace whose store keeps an ANN index). */
  readonly annRecall: Readonly<Record<string, number>> | null;
}

/** Per-query top-k scores, kept for threshold recalibration (scores of the retrieved hits, best first). */
type ScoreLog = Map<string, readonly number[]>;

function retriever(
  run: (request: QueryRequest) => Promise<readonly ResultHit[]>,
  exact: boolean,
  scores?: ScoreLog,
): Retrieve {
  return async (text, k, { queryId }) => {
    const hits = await run({ text, k, ...(exact ? { exact: true } : {}) });
    scores?.set(
      queryId,
      hits.map((h) => h.score),
    );
    return hits.map((h) => h.sourceId);
  };
}

/** A query engine nobody observes; shadow reads are never sampled (`random` always 1). */
function privateEngine(app: Reembed): QueryEngine {
  return new QueryEngine(app.backend, app.embedders, { random: () => 1 });
}

function runOptions(options: AppEvaluateOptions): EvaluateOptions {
  const { exact: _exact, allowUnknownDocs: _allow, ...rest } = options;
  return rest;
}

/**
 * Evaluates an alias exactly as applications query it (its routing: single, split, fused ...).
 *
 * @example
 * const r = await evaluateAlias(app, 'docs', golden);
 * r.metrics['ndcg@10'];
 */
export async function evaluateAlias(
  app: Reembed,
  alias: string,
  golden: GoldenSet,
  options: AppEvaluateOptions = {},
): Promise<TargetEvaluation> {
  const held = await app.backend.catalog.getAlias(alias);
  if (!options.allowUnknownDocs) await assertJudgedDocsKnown(app.backend, held.collection, golden);
  const engine = privateEngine(app);
  const result = await evaluateRetriever(
    golden,
    retriever(async (request) => (await engine.query(alias, request)).hits, options.exact === true),
    runOptions(options),
  );
  return Object.freeze({
    ...result,
    target: Object.freeze({ kind: 'alias' as const, name: alias, collection: held.collection }),
    annRecall: null,
  });
}

/** Evaluates one namespace directly (e.g. a migration target before any traffic reaches it). */
export async function evaluateNamespace(
  app: Reembed,
  namespace: string,
  golden: GoldenSet,
  options: AppEvaluateOptions = {},
  scores?: ScoreLog,
): Promise<TargetEvaluation> {
  const ns = await app.backend.catalog.getNamespace(namespace);
  if (ns.state === 'retired') {
    throw new ReembedError(
      'INVALID_STATE',
      `Namespace ${namespace} is retired and holds no vectors; evaluate a live namespace.`,
      {
        details: { namespace },
      },
    );
  }
  if (!options.allowUnknownDocs) await assertJudgedDocsKnown(app.backend, ns.collection, golden);
  const engine = privateEngine(app);
  const read = async (request: QueryRequest) => (await engine.queryNamespace(namespace, request)).hits;
  const result = await evaluateRetriever(
    golden,
    retriever(read, options.exact === true, scores),
    runOptions(options),
  );
  let annRecall: Record<string, number> | null = null;
  // Recall of the ANN index against exact search, where searches of this namespace go through one.
  const store = app.backend.store;
  const approximate =
    store.capabilities.annIndex &&
    (store.describeIndex ? (await store.describeIndex(namespace)).mode === 'hnsw' : true);
  if (approximate && options.exact !== true) {
    const k = Math.min(10, Math.max(...result.ks));
    const ann = await compareRetrievers(golden.queries, retriever(read, true), retriever(read, false), {
      k,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    annRecall = { [`recall@${k}`]: ann.metrics[`recall@${k}`] ?? 0 };
  }
  return Object.freeze({
    ...result,
    target: Object.freeze({ kind: 'namespace' as const, name: namespace, collection: ns.collection }),
    annRecall,
  });
}

export interface MigrationEvaluateOptions extends AppEvaluateOptions {
  /** A score threshold used in the old space: the result proposes its equivalent in the new one. */
  readonly threshold?: number;
  /** Top-k scores per golden query used for recalibration (default 10). */
  readonly recalibrationK?: number;
  /** Randomisation test and bootstrap iterations (default 10,000) and seed (default 42). */
  readonly iterations?: number;
  readonly seed?: number;
}

export interface MetricComparison extends PairedComparison {
  readonly old: number;
  readonly new: number;
}

export interface MigrationEvaluation {
  readonly kind: 'migration-evaluation';
  readonly migration: string | null;
  readonly old: TargetEvaluation;
  readonly new: TargetEvaluation;
  /** Per metric (`ndcg@10` ...): means, difference new − old, paired randomisation p-value, bootstrap 95% CI. */
  readonly comparisons: Readonly<Record<string, MetricComparison>>;
  readonly recalibration: ThresholdRecalibration | null;
  /** Gate facts: `old.ndcg@10`, `new.ndcg@10`, `new.latency_p99_ms`, `new.eval_errors`, ... (see `gateFacts`). */
  readonly facts: Readonly<Record<string, number>>;
}

/**
 * Evaluates both sides of a migration on the same golden set and tests every difference.
 *
 * @example
 * const m = await evaluateMigration(app, { migration: 'mig_…' }, golden, { threshold: 0.5 });
 * m.comparisons['ndcg@10'].pValue; m.recalibration?.newThreshold;
 */
export async function evaluateMigration(
  app: Reembed,
  target: { readonly migration: string } | { readonly old: string; readonly new: string },
  golden: GoldenSet,
  options: MigrationEvaluateOptions = {},
): Promise<MigrationEvaluation> {
  let from: string;
  let to: string;
  let migrationId: string | null = null;
  if ('migration' in target) {
    const repository = app.backend.migrations;
    if (!repository) {
      throw new ReembedError(
        'UNSUPPORTED',
        `The ${app.backend.kind} backend keeps no migrations; pass --old NS --new NS instead.`,
      );
    }
    const migration = await repository.get(target.migration);
    [from, to, migrationId] = [migration.from, migration.to, migration.id];
  } else {
    [from, to] = [target.old, target.new];
  }
  if (from === to)
    throw new ReembedError(
      'INVALID_INPUT',
      `Old and new are the same namespace (${from}); compare two namespaces.`,
    );
  const oldScores: ScoreLog = new Map();
  const newScores: ScoreLog = new Map();
  const oldEval = await evaluateNamespace(app, from, golden, options, oldScores);
  const newEval = await evaluateNamespace(app, to, golden, options, newScores);

  const significance = {
    ...(options.iterations ? { iterations: options.iterations } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  const comparisons: Record<string, MetricComparison> = {};
  for (const metric of Object.keys(oldEval.metrics)) {
    comparisons[metric] = Object.freeze({
      ...compareEvaluations(oldEval.perQuery, newEval.perQuery, metric, significance),
      old: oldEval.metrics[metric] ?? 0,
      new: newEval.metrics[metric] ?? 0,
    });
  }
  let recalibration: ThresholdRecalibration | null = null;
  if (options.threshold !== undefined) {
    const k = options.recalibrationK ?? 10;
    const top = (log: ScoreLog): number[] => [...log.values()].flatMap((s) => s.slice(0, k));
    recalibration = recalibrateThreshold(top(oldScores), top(newScores), options.threshold);
  }
  return Object.freeze({
    kind: 'migration-evaluation' as const,
    migration: migrationId,
    old: oldEval,
    new: newEval,
    comparisons: Object.freeze(comparisons),
    recalibration,
    facts: Object.freeze(gateFacts({ old: sideFacts(oldEval), new: sideFacts(newEval) })),
  });
}

/** Metrics plus latency and error counts of one side, as gate fact values (prefixed `old.` / `new.` by `gateFacts`). */
export function sideFacts(result: TargetEvaluation): Record<string, number> {
  const facts: Record<string, number> = {
    ...result.metrics,
    latency_p50_ms: result.latency.p50,
    latency_p99_ms: result.latency.p99,
    eval_errors: result.errors.count,
    eval_queries: result.perQuery.length,
  };
  for (const [key, value] of Object.entries(result.annRecall ?? {})) facts[`ann_${key}`] = value;
  return facts;
}

/** Rows of `--per-query` JSONL: one per golden query, both sides and the difference for a migration. */
export function perQueryRows(result: TargetEvaluation | MigrationEvaluation): Record<string, unknown>[] {
  if (result.kind === 'evaluation') {
    return result.perQuery.map((q) => ({ target: result.target.name, ...q }));
  }
  const newById = new Map(result.new.perQuery.map((q) => [q.queryId, q]));
  return result.old.perQuery.map((o) => {
    const n = newById.get(o.queryId);
    const diff: Record<string, number> = {};
    for (const [key, value] of Object.entries(o.metrics)) diff[key] = (n?.metrics[key] ?? 0) - value;
    return {
      queryId: o.queryId,
      old: {
        namespace: result.old.target.name,
        metrics: o.metrics,
        latencyMs: o.latencyMs,
        ...(o.error ? { error: o.error } : {}),
      },
      new: n
        ? {
            namespace: result.new.target.name,
            metrics: n.metrics,
            latencyMs: n.latencyMs,
            ...(n.error ? { error: n.error } : {}),
          }
        : null,
      diff,
    };
  });
}
