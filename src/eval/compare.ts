import { overlapAt, rbo } from '../core/agreement.js';
import type { GoldenQuery } from '../core/golden.js';
import { annRecallAt, meanMetrics } from '../core/metrics.js';
import type { LatencySummary, Retrieve } from './evaluate.js';
import { summarizeLatency } from './evaluate.js';
import { mapPool } from './pool.js';

/**
 * Agreement between two retrievers on the same queries, without judgments: the serving namespace vs a
 * candidate (offline shadow), or exact search vs the ANN index of one namespace (ANN recall).
 */
export interface CompareOptions {
  /** Depth compared (default 10). */
  readonly k?: number;
  /** RBO persistence (default 0.9). */
  readonly p?: number;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
}

export interface ComparisonQuery {
  readonly queryId: string;
  /** `overlap@k`, `rbo@k`, `recall@k` (share of the reference top k the candidate found). */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface RetrieverComparison {
  readonly kind: 'comparison';
  readonly k: number;
  readonly n: number;
  /** Means keyed `overlap@10`, `rbo@10`, `recall@10`: gate facts as `shadow.overlap@10` via `gateFacts`. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly perQuery: readonly ComparisonQuery[];
  readonly latency: { readonly reference: LatencySummary; readonly candidate: LatencySummary };
}

/**
 * Runs every query through both retrievers and measures agreement of the candidate with the reference.
 * Errors are not tolerated here: a failing retriever makes agreement meaningless, so the first error
 * is rethrown.
 *
 * @example
 * const ann = await compareRetrievers(golden.queries, exactSearch, annSearch, { k: 10 });
 * ann.metrics['recall@10']; // ANN recall vs exact
 */
export async function compareRetrievers(
  queries: readonly GoldenQuery[],
  reference: Retrieve,
  candidate: Retrieve,
  options: CompareOptions = {},
): Promise<RetrieverComparison> {
  const k = options.k ?? 10;
  const p = options.p ?? 0.9;
  const total = queries.length;
  const timed = async (fn: Retrieve, q: GoldenQuery): Promise<{ ids: readonly string[]; ms: number }> => {
    const t0 = performance.now();
    const context = options.signal ? { queryId: q.id, signal: options.signal } : { queryId: q.id };
    const ids = await fn(q.text, k, context);
    return { ids, ms: performance.now() - t0 };
  };
  const rows = await mapPool(
    queries,
    async (q) => {
      const ref = await timed(reference, q);
      const cand = await timed(candidate, q);
      const metrics = Object.freeze({
        [`overlap@${k}`]: overlapAt(ref.ids, cand.ids, k),
        [`rbo@${k}`]: rbo(ref.ids, cand.ids, { p, depth: k }),
        [`recall@${k}`]: annRecallAt(cand.ids, ref.ids, k),
      });
      return { query: Object.freeze({ queryId: q.id, metrics }), refMs: ref.ms, candMs: cand.ms };
    },
    {
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onSettled: (done) => options.onProgress?.({ done, total }),
    },
  );
  const perQuery = rows.map((r) => r.query);
  return Object.freeze({
    kind: 'comparison' as const,
    k,
    n: perQuery.length,
    metrics: Object.freeze(meanMetrics(perQuery.map((q) => q.metrics))),
    perQuery: Object.freeze(perQuery),
    latency: Object.freeze({
      reference: summarizeLatency(rows.map((r) => r.refMs)),
      candidate: summarizeLatency(rows.map((r) => r.candMs)),
    }),
  });
}
