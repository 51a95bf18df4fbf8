import { ReembedError } from './errors.js';

/**
 * Retrieval quality metrics over judged queries (a golden set). Pure functions, no I/O.
 *
 * Conventions (so numbers are comparable with BEIR / trec_eval-style tables):
 * - A document is *relevant* when its grade is > 0; grades ≤ 0 are judged non-relevant.
 * - A ranking is deduplicated before scoring (first occurrence wins): several chunks of one source
 *   document must not count that document twice.
 * - `recall@k` = relevant in top k / all relevant; `precision@k` divides by k even when fewer than k
 *   results came back (a short list is not rewarded); `mrr@k` = 1 / rank of the first relevant hit
 *   within k, else 0.
 * - `ndcg@k` uses exponential gain `2^grade - 1` and the log2 discount `1 / log2(rank + 1)`; the ideal
 *   DCG sorts *all* judgments of the query by grade, so a system cannot score 1 without finding the
 *   best-graded documents. With binary grades this equals the usual binary nDCG.
 */

/** Judgments: query id → (doc id → grade). Higher grade = more relevant. */
export type Qrels = Readonly<Record<string, Readonly<Record<string, number>>>>;
export type Judgments = Readonly<Record<string, number>>;

export const METRIC_NAMES = ['recall', 'precision', 'mrr', 'ndcg'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** `ndcg@10`, `recall@100` ...: the keys of every metrics record (and of gate facts). */
export function metricKey(name: MetricName, k: number): string {
  return `${name}@${k}`;
}

/** Removes repeated ids, keeping the first occurrence (the best rank). */
export function dedupeRanking(ranking: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const id of ranking) {
    if (!seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  }
  return out;
}

function gradeOf(judgments: Judgments, docId: string): number {
  return Object.hasOwn(judgments, docId) ? (judgments[docId] as number) : 0;
}

export function relevantCount(judgments: Judgments): number {
  let n = 0;
  for (const grade of Object.values(judgments)) if (grade > 0) n++;
  return n;
}

function hitsAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  let hits = 0;
  const top = Math.min(k, ranking.length);
  for (let i = 0; i < top; i++) if (gradeOf(judgments, ranking[i] as string) > 0) hits++;
  return hits;
}

/** Share of the relevant documents found in the top k (0 when the query has no relevant document). */
export function recallAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  const relevant = relevantCount(judgments);
  return relevant === 0 ? 0 : hitsAt(dedupeRanking(ranking), judgments, k) / relevant;
}

/** Relevant documents in the top k divided by k. */
export function precisionAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  return hitsAt(dedupeRanking(ranking), judgments, k) / k;
}

/** Reciprocal rank of the first relevant document within the top k, else 0. */
export function reciprocalRankAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  const list = dedupeRanking(ranking);
  const top = Math.min(k, list.length);
  for (let i = 0; i < top; i++) if (gradeOf(judgments, list[i] as string) > 0) return 1 / (i + 1);
  return 0;
}

const gain = (grade: number): number => (grade > 0 ? 2 ** grade - 1 : 0);
const discount = (rank: number): number => 1 / Math.log2(rank + 1);

/** Discounted cumulative gain of the top k with exponential gain and log2 discount (rank is 1-based). */
export function dcgAt(grades: readonly number[], k: number): number {
  let sum = 0;
  const top = Math.min(k, grades.length);
  for (let i = 0; i < top; i++) sum += gain(grades[i] as number) * discount(i + 1);
  return sum;
}

/** Normalised DCG: DCG of the ranking over the DCG of the judgments sorted by grade. */
export function ndcgAt(ranking: readonly string[], judgments: Judgments, k: number): number {
  const ideal = Object.values(judgments)
    .filter((g) => g > 0)
    .sort((a, b) => b - a);
  const idcg = dcgAt(ideal, k);
  if (idcg === 0) return 0;
  const grades = dedupeRanking(ranking).map((id) => gradeOf(judgments, id));
  return dcgAt(grades, k) / idcg;
}

export type MetricValues = Readonly<Record<string, number>>;

/** Every metric at every k for one query, keyed `ndcg@10` etc. */
export function queryMetrics(
  ranking: readonly string[],
  judgments: Judgments,
  ks: readonly number[],
): MetricValues {
  const out: Record<string, number> = {};
  for (const k of ks) {
    out[metricKey('recall', k)] = recallAt(ranking, judgments, k);
    out[metricKey('precision', k)] = precisionAt(ranking, judgments, k);
    out[metricKey('mrr', k)] = reciprocalRankAt(ranking, judgments, k);
    out[metricKey('ndcg', k)] = ndcgAt(ranking, judgments, k);
  }
  return out;
}

export interface QueryEvaluation {
  readonly queryId: string;
  readonly metrics: MetricValues;
  /** Distinct documents the run returned for the query (before truncation to k). */
  readonly returned: number;
}

export interface RunEvaluation {
  readonly kind: 'run-evaluation';
  readonly ks: readonly number[];
  /** Mean of every metric over the evaluated queries. */
  readonly means: MetricValues;
  /** One entry per evaluated query, in qrels order, so a regression can be traced to queries. */
  readonly perQuery: readonly QueryEvaluation[];
  /** Number of evaluated queries (every judged query with at least one relevant document). */
  readonly n: number;
  readonly skipped: {
    /** Judged queries without any document of grade > 0: no metric is defined for them. */
    readonly noRelevant: number;
    /** Run entries for queries that have no judgments (ignored). */
    readonly unjudged: number;
  };
}

/** Validates a list of cut-offs: positive integers, deduplicated and sorted. */
export function normalizeKs(ks: readonly number[]): number[] {
  if (ks.length === 0)
    throw new ReembedError('INVALID_INPUT', 'No cut-off k given: pass at least one, e.g. [10].');
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Cut-off k=${k} is invalid: use positive integers such as 1, 10, 100.`,
        {
          details: { k },
        },
      );
    }
  }
  return [...new Set(ks)].sort((a, b) => a - b);
}

/**
 * Scores a run (query id → ranked doc ids) against judgments. A judged query missing from the run
 * scores 0 (it returned nothing); it is not skipped, so a retriever cannot improve its mean by failing.
 *
 * @example
 * const r = evaluateRun(new Map([['q1', ['d3', 'd1']]]), { q1: { d1: 1 } }, [1, 10]);
 * r.means['mrr@10']; // 0.5
 */
export function evaluateRun(
  run: ReadonlyMap<string, readonly string[]>,
  qrels: Qrels,
  ks: readonly number[],
): RunEvaluation {
  const cutoffs = normalizeKs(ks);
  const perQuery: QueryEvaluation[] = [];
  let noRelevant = 0;
  for (const [queryId, judgments] of Object.entries(qrels)) {
    if (relevantCount(judgments) === 0) {
      noRelevant++;
      continue;
    }
    const ranking = run.get(queryId) ?? [];
    perQuery.push(
      Object.freeze({
        queryId,
        metrics: Object.freeze(queryMetrics(ranking, judgments, cutoffs)),
        returned: dedupeRanking(ranking).length,
      }),
    );
  }
  let unjudged = 0;
  for (const queryId of run.keys()) if (!Object.hasOwn(qrels, queryId)) unjudged++;
  return Object.freeze({
    kind: 'run-evaluation' as const,
    ks: Object.freeze(cutoffs),
    means: Object.freeze(meanMetrics(perQuery.map((q) => q.metrics))),
    perQuery: Object.freeze(perQuery),
    n: perQuery.length,
    skipped: Object.freeze({ noRelevant, unjudged }),
  });
}

/** Mean of each key over records that share the same keys (empty input gives an empty record). */
export function meanMetrics(records: readonly MetricValues[]): Record<string, number> {
  const out: Record<string, number> = {};
  const first = records[0];
  if (first === undefined) return out;
  for (const key of Object.keys(first)) {
    let sum = 0;
    for (const r of records) sum += r[key] ?? 0;
    out[key] = sum / records.length;
  }
  return out;
}

/**
 * Recall of an approximate (ANN) top k against the exact top k of the same query and space: the share
 * of the exact neighbours the index found. An empty exact list gives 1 (there was nothing to find).
 */
export function annRecallAt(approx: readonly string[], exact: readonly string[], k: number): number {
  const truth = dedupeRanking(exact).slice(0, k);
  if (truth.length === 0) return 1;
  const found = new Set(dedupeRanking(approx).slice(0, k));
  let hits = 0;
  for (const id of truth) if (found.has(id)) hits++;
  return hits / truth.length;
}

/** Mean ANN recall@k over query pairs; `NaN`-free: an empty list of pairs gives 1. */
export function meanAnnRecallAt(
  pairs: readonly { readonly approx: readonly string[]; readonly exact: readonly string[] }[],
  k: number,
): number {
  if (pairs.length === 0) return 1;
  let sum = 0;
  for (const p of pairs) sum += annRecallAt(p.approx, p.exact, k);
  return sum / pairs.length;
}

/**
 * Quantile of a sample by linear interpolation between order statistics (R type 7, numpy default).
 * `sorted` must be ascending; `q` in [0, 1]. An empty sample gives `NaN`.
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (h - lo) * (b - a);
}
