import { isReembedError, ReembedError } from '../core/errors.js';
import type { GoldenSet, GoldenSkipped } from '../core/golden.js';
import {
  dedupeRanking,
  type MetricValues,
  meanMetrics,
  normalizeKs,
  type QueryEvaluation,
  quantileSorted,
  queryMetrics,
} from '../core/metrics.js';
import { mapPool } from './pool.js';

/**
 * Runs a golden set through any retriever and scores it. Independent of storage: the caller supplies
 * `retrieve` (an alias query, a namespace search, an HTTP call ...). It reads only; it writes nothing.
 */

/** Returns ranked *source* document ids (the ids the judgments use), best first. */
export type Retrieve = (
  queryText: string,
  k: number,
  context: { readonly queryId: string; readonly signal?: AbortSignal },
) => Promise<readonly string[]>;

export interface EvaluateOptions {
  /** Cut-offs (default [1, 5, 10, 100]); the retriever is asked for the largest. */
  readonly ks?: readonly number[];
  /** Queries in flight at once (default 4). */
  readonly concurrency?: number;
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
  readonly signal?: AbortSignal;
  /**
   * Failed queries tolerated before the evaluation stops (default 10). A failed query scores 0 on every
   * metric and is counted in `errors`, so a flaky retriever cannot look better by failing.
   */
  readonly maxErrors?: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

export interface RetrieverQueryResult extends QueryEvaluation {
  readonly latencyMs: number;
  /** Message of the error the retriever threw for this query, if any. */
  readonly error?: string;
}

export interface RetrieverEvaluation {
  readonly kind: 'evaluation';
  readonly golden: { readonly name: string; readonly digest: string; readonly queries: number };
  readonly ks: readonly number[];
  /** Means over every query of the golden set, keyed `ndcg@10`, `recall@100`, `mrr@10`, `precision@5` ... */
  readonly metrics: MetricValues;
  readonly perQuery: readonly RetrieverQueryResult[];
  /** Milliseconds per retrieve call. */
  readonly latency: LatencySummary;
  /** Queries the golden set left out (no judgments, no relevant judgment, judgments without query). */
  readonly skipped: GoldenSkipped;
  readonly errors: {
    readonly count: number;
    readonly samples: readonly { queryId: string; message: string }[];
  };
  readonly durationMs: number;
}

export const DEFAULT_KS: readonly number[] = Object.freeze([1, 5, 10, 100]);

/** Latency summary of a sample in milliseconds (zeros for an empty sample). */
export function summarizeLatency(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return Object.freeze({ p50: 0, p99: 0, mean: 0, max: 0 });
  const sorted = [...samples].sort((a, b) => a - b);
  return Object.freeze({
    p50: quantileSorted(sorted, 0.5),
    p99: quantileSorted(sorted, 0.99),
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    max: sorted[sorted.length - 1] as number,
  });
}

/**
 * Evaluates a retriever on a golden set.
 *
 * @example
 * const result = await evaluateRetriever(golden, async (text, k) => (await alias.query(text, k)).map((h) => h.sourceId));
 * result.metrics['ndcg@10'];
 */
export async function evaluateRetriever(
  golden: GoldenSet,
  retrieve: Retrieve,
  options: EvaluateOptions = {},
): Promise<RetrieverEvaluation> {
  const ks = normalizeKs(options.ks ?? DEFAULT_KS);
  const maxK = ks[ks.length - 1] as number;
  const maxErrors = options.maxErrors ?? 10;
  const started = performance.now();
  const errors: { queryId: string; message: string }[] = [];
  const total = golden.queries.length;

  const perQuery = await mapPool(
    golden.queries,
    async (query): Promise<RetrieverQueryResult> => {
      const judgments = golden.qrels[query.id] ?? {};
      const t0 = performance.now();
      let ranking: readonly string[] = [];
      let error: string | undefined;
      try {
        const context = options.signal
          ? { queryId: query.id, signal: options.signal }
          : { queryId: query.id };
        ranking = await retrieve(query.text, maxK, context);
      } catch (cause) {
        if (options.signal?.aborted) throw new ReembedError('ABORTED', 'Evaluation aborted.', { cause });
        error = cause instanceof Error ? cause.message : String(cause);
        errors.push({ queryId: query.id, message: error });
        if (errors.length > maxErrors) throw tooManyErrors(errors, cause);
      }
      const latencyMs = performance.now() - t0;
      const result = {
        queryId: query.id,
        metrics: Object.freeze(queryMetrics(ranking, judgments, ks)),
        returned: dedupeRanking(ranking).length,
        latencyMs,
      };
      return Object.freeze(error === undefined ? result : { ...result, error });
    },
    {
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onSettled: (done) => options.onProgress?.({ done, total }),
    },
  );

  return Object.freeze({
    kind: 'evaluation' as const,
    golden: Object.freeze({ name: golden.name, digest: golden.digest, queries: total }),
    ks: Object.freeze(ks),
    metrics: Object.freeze(meanMetrics(perQuery.map((q) => q.metrics))),
    perQuery: Object.freeze(perQuery),
    latency: summarizeLatency(perQuery.map((q) => q.latencyMs)),
    skipped: golden.skipped,
    errors: Object.freeze({ count: errors.length, samples: Object.freeze(errors.slice(0, 5)) }),
    durationMs: performance.now() - started,
  });
}

function tooManyErrors(
  errors: readonly { queryId: string; message: string }[],
  cause: unknown,
): ReembedError {
  const first = errors[0] as { queryId: string; message: string };
  return new ReembedError(
    isReembedError(cause) ? cause.code : 'STORE_FAILED',
    `Evaluation stopped after ${errors.length} failed queries (first: query "${first.queryId}": ${first.message}). ` +
      'Fix the retriever (embedder reachable? namespace exists?) or raise maxErrors.',
    { cause, details: { errors: errors.slice(0, 5) } },
  );
}
