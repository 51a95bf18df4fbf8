import type { SearchHit } from './records.js';
import type { FusionPolicy } from './routing.js';

/** One ranked list from one namespace, best first. Scores are only comparable within a list. */
export interface RankedList {
  readonly namespace: string;
  readonly hits: readonly SearchHit[];
}

export interface FusedHit extends SearchHit {
  /** The fused score (rank- or normalised-score-based; never a raw cross-space score). */
  readonly fusedScore: number;
  /** Namespace whose record is returned for this source. */
  readonly namespace: string;
  /** Rank of the source in each input list (1-based), absent when the list did not contain it. */
  readonly ranks: Readonly<Record<string, number>>;
}

export interface FuseInput {
  /** The fully covered (old) namespace's list. */
  readonly primary: RankedList;
  /** The partially covered (new) namespace's list. */
  readonly next: RankedList;
  /** Sources the next namespace holds at their current version (coverage-aware methods need this). */
  readonly migrated: ReadonlySet<string>;
  readonly policy: FusionPolicy;
  readonly k: number;
  /**
   * Share (0..1) of the collection's live documents the next namespace holds. Optional: without it,
   * `coverage-aware-score` estimates it per query as the share of the primary's hits that are migrated,
   * which also follows a migration order that is not uniform (hottest or lazily re-embedded first).
   */
  readonly coverage?: number;
  /**
   * Embed-on-read: primary hits that are not migrated yet, which the caller embedded at query time in the
   * next space (source text through the next space's pipeline) and scored against the next-space query
   * vector. `score` is that next-space score. Coverage-aware methods order them together with the
   * migrated documents by the new space; hits that are migrated or absent from the primary are ignored.
   */
  readonly rescored?: readonly SearchHit[];
}

export const DEFAULT_RRF_K = 60;

/**
 * Fewest next-list scores a per-list z-score is computed from: below that there is no spread to measure.
 */
const MIN_WINDOW = 3;
/** z-scores closer than this are a tie (so rounding in the normalisation cannot flip an order). */
const TIE = 1e-9;

/**
 * Fuses two namespaces' results without ever comparing raw scores across spaces (invariant 2).
 * `rrf`, `minmax` and `zscore` are the textbook sums; `coverage-aware-*` are built for a partial migration.
 *
 * Why the sums fail mid-migration: the new namespace holds only a fraction c of the documents, so its top
 * hits are the best of a small sample, yet a sum credits them as much as the old list's best of the whole
 * corpus, and a migrated document found by both lists is credited twice. At 10% coverage the top 10 fills
 * with weak migrated documents, below the old space alone (bench/quality.ts; BENCHMARKS.md, "Quality
 * during a migration").
 *
 * The coverage-aware methods work in two steps. *Placement* decides which positions go to documents the
 * new space can judge (migrated, or rescored on read) and which to the others; *slot filling* then orders
 * the new-space documents among their positions by the new space alone (never by a sum), so no document
 * gains from appearing in two lists. Placement differs:
 * - `coverage-aware-rrf` (rank only) keeps the old list's positions: unmigrated documents (not rescored)
 *   stay exactly at their old rank, migrated documents take the slots the old list gave migrated ones;
 * - `coverage-aware-score` merges unmigrated documents (old list order) with migrated ones (new list
 *   order) by per-list z-scores computed over the *same depth of the corpus*: the old list's top D is the
 *   corpus's top D, and the new list's top D·c is the best estimate of it. It ranks better than the
 *   rank-only variant on both benchmark collections (bench/quality.ts).
 * When every candidate is migrated both return the new list; with none migrated and nothing rescored, the
 * old list. Fusion alone cannot judge an unmigrated document by the new space; `rescored` (embed-on-read)
 * can, and with it both methods meet the issue's quality goal at every coverage point.
 *
 * @example
 * fuseResults({ primary, next, migrated, policy: { method: 'coverage-aware-score' }, k: 10 });
 */
export function fuseResults(input: FuseInput): FusedHit[] {
  switch (input.policy.method) {
    case 'rrf':
      return sumFusion(input, rrfContribution(input.policy.rrfK ?? DEFAULT_RRF_K));
    case 'minmax':
      return sumFusion(input, normalisedContribution(minMax));
    case 'zscore':
      return sumFusion(input, normalisedContribution(zScore));
    case 'coverage-aware-rrf':
    case 'coverage-aware-score':
      return coverageAwareFusion(input);
  }
}

type Contribution = (list: RankedList) => Map<string, number>;

function rrfContribution(k: number): Contribution {
  return (list) => new Map(list.hits.map((h, i) => [h.sourceId, 1 / (k + i + 1)]));
}

function normalisedContribution(normalise: (scores: number[]) => number[]): Contribution {
  return (list) => {
    const normalised = normalise(list.hits.map((h) => h.score));
    return new Map(list.hits.map((h, i) => [h.sourceId, normalised[i] as number]));
  };
}

export function minMax(scores: number[]): number[] {
  if (scores.length === 0) return [];
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  return scores.map((s) => (hi === lo ? 1 : (s - lo) / (hi - lo)));
}

export function zScore(scores: number[]): number[] {
  if (scores.length === 0) return [];
  const { mean, sd } = meanAndDeviation(scores);
  return scores.map((s) => (sd === 0 ? 0 : (s - mean) / sd));
}

/** Mean and standard deviation; a spread within rounding error of the scores counts as none. */
function meanAndDeviation(scores: readonly number[]): { mean: number; sd: number } {
  if (scores.length === 0) return { mean: 0, sd: 0 };
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  return { mean, sd: sd <= 1e-12 * Math.max(1, Math.abs(mean)) ? 0 : sd };
}

/** Sum of per-list contributions: what vector stores' hybrid fusion does out of the box. */
function sumFusion(input: FuseInput, contribution: Contribution): FusedHit[] {
  const lists = [input.next, input.primary];
  const fused = new Map<
    string,
    { hit: SearchHit; namespace: string; score: number; ranks: Record<string, number> }
  >();
  for (const list of lists) {
    const scores = contribution(list);
    list.hits.forEach((hit, i) => {
      const entry = fused.get(hit.sourceId) ?? { hit, namespace: list.namespace, score: 0, ranks: {} };
      entry.score += scores.get(hit.sourceId) ?? 0;
      entry.ranks[list.namespace] = i + 1;
      fused.set(hit.sourceId, entry);
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.hit.sourceId.localeCompare(b.hit.sourceId))
    .slice(0, input.k)
    .map((e) => ({ ...e.hit, fusedScore: e.score, namespace: e.namespace, ranks: e.ranks }));
}

/** One distinct source among the candidates, with what each space knows about it. */
interface Candidate {
  readonly hit: SearchHit;
  readonly namespace: string;
  readonly migrated: boolean;
  /** Next-space score (from the next list or rescored on read); absent when the new space cannot judge it. */
  readonly nextScore: number | undefined;
  /** Rank in the next list, which breaks ties of `nextScore` (Infinity when not in it). */
  readonly nextRank: number;
}

/** Distinct candidates: unmigrated ones in primary order, then migrated ones in next order. */
function candidatesOf(input: FuseInput): { unmigrated: Candidate[]; migrated: Candidate[] } {
  const { primary, next, migrated } = input;
  const rescored = new Map<string, number>();
  for (const h of input.rescored ?? []) {
    if (!migrated.has(h.sourceId)) rescored.set(h.sourceId, h.score);
  }
  const seen = new Set<string>();
  const out = { unmigrated: [] as Candidate[], migrated: [] as Candidate[] };
  // A stale record (source changed, not yet regenerated) is not migrated: the old list serves it.
  next.hits.forEach((hit, i) => {
    if (!migrated.has(hit.sourceId) || seen.has(hit.sourceId)) return;
    seen.add(hit.sourceId);
    out.migrated.push({
      hit,
      namespace: next.namespace,
      migrated: true,
      nextScore: hit.score,
      nextRank: i + 1,
    });
  });
  for (const hit of primary.hits) {
    if (seen.has(hit.sourceId)) continue;
    seen.add(hit.sourceId);
    const isMigrated = migrated.has(hit.sourceId);
    // A migrated document the new list did not return ranks below all it did return.
    (isMigrated ? out.migrated : out.unmigrated).push({
      hit,
      namespace: primary.namespace,
      migrated: isMigrated,
      nextScore: isMigrated ? undefined : rescored.get(hit.sourceId),
      nextRank: Number.POSITIVE_INFINITY,
    });
  }
  return out;
}

function coverageAwareFusion(input: FuseInput): FusedHit[] {
  const { primary, next } = input;
  const { unmigrated, migrated } = candidatesOf(input);
  const placement =
    input.policy.method === 'coverage-aware-score'
      ? scorePlacement(input, unmigrated, migrated)
      : rankPlacement(input, unmigrated, migrated);
  const top = fillSlots(placement).slice(0, input.k);
  // Ranks are only looked up for what is returned.
  const ids = new Set(top.map((c) => c.hit.sourceId));
  const rankIn = (list: RankedList): Map<string, number> => {
    const ranks = new Map<string, number>();
    list.hits.forEach((h, i) => {
      if (ids.has(h.sourceId) && !ranks.has(h.sourceId)) ranks.set(h.sourceId, i + 1);
    });
    return ranks;
  };
  const [oldRanks, newRanks] = [rankIn(primary), rankIn(next)];
  return top.map((c, i) => {
    const ranks: Record<string, number> = {};
    const r1 = oldRanks.get(c.hit.sourceId);
    const r2 = newRanks.get(c.hit.sourceId);
    if (r1 !== undefined) ranks[primary.namespace] = r1;
    if (r2 !== undefined) ranks[next.namespace] = r2;
    return { ...c.hit, fusedScore: 1 / (i + 1), namespace: c.namespace, ranks };
  });
}

/**
 * Slot-preserving placement: the old list, in its order, with each migrated document's position kept as
 * a slot; migrated documents only the new list returned extend the tail (slot filling moves the best of
 * them up). Unmigrated documents keep exactly their old rank.
 */
function rankPlacement(input: FuseInput, unmigrated: Candidate[], migrated: Candidate[]): Candidate[] {
  const byId = new Map([...unmigrated, ...migrated].map((c) => [c.hit.sourceId, c]));
  const placed = new Set<string>();
  const out: Candidate[] = [];
  for (const hit of input.primary.hits) {
    const c = byId.get(hit.sourceId);
    if (c && !placed.has(hit.sourceId)) {
      placed.add(hit.sourceId);
      out.push(c);
    }
  }
  for (const c of migrated) if (!placed.has(c.hit.sourceId)) out.push(c);
  return out;
}

/**
 * Equal-depth z-score placement: merges the unmigrated documents (old order, old-space z-scores) with
 * the migrated ones (new order, new-space z-scores). The old list's statistics come from its D hits,
 * the top D of the whole corpus; the new list's from its top round(D·c) hits, which estimate the same
 * depth of the corpus when a fraction c is migrated. A merge (not a sort) keeps each side's own order.
 */
function scorePlacement(input: FuseInput, unmigrated: Candidate[], migrated: Candidate[]): Candidate[] {
  const depth = input.primary.hits.length;
  const migratedInPrimary = input.primary.hits.filter((h) => input.migrated.has(h.sourceId)).length;
  const coverage = clamp01(input.coverage ?? (depth === 0 ? 1 : migratedInPrimary / depth));
  const nextScores = migrated.filter((c) => c.namespace === input.next.namespace).map((c) => c.hit.score);
  const window = Math.min(nextScores.length, Math.max(MIN_WINDOW, Math.round(depth * coverage)));
  const z = (stats: { mean: number; sd: number }, s: number): number =>
    stats.sd === 0 ? 0 : (s - stats.mean) / stats.sd;
  const old = meanAndDeviation(input.primary.hits.map((h) => h.score));
  const neu = meanAndDeviation(nextScores.slice(0, window));
  const keyOf = (c: Candidate): number =>
    !c.migrated
      ? z(old, c.hit.score)
      : c.nextScore === undefined
        ? Number.NEGATIVE_INFINITY
        : z(neu, c.nextScore);
  const out: Candidate[] = [];
  let u = 0;
  let m = 0;
  while (u < unmigrated.length || m < migrated.length) {
    const a = unmigrated[u];
    const b = migrated[m];
    // Ties (within rounding) go to the unmigrated side: it is the list every document is in.
    if (a !== undefined && (b === undefined || keyOf(a) >= keyOf(b) - TIE)) {
      out.push(a);
      u++;
    } else if (b !== undefined) {
      out.push(b);
      m++;
    }
  }
  return out;
}

/**
 * Positions held by documents the new space can judge (migrated, or rescored on read) are refilled with
 * those documents ordered by their next-space score; a migrated document the new list did not return goes
 * last. Everything else stays where placement put it.
 */
function fillSlots(placement: Candidate[]): Candidate[] {
  const slots: number[] = [];
  placement.forEach((c, i) => {
    if (c.migrated || c.nextScore !== undefined) slots.push(i);
  });
  const order = slots
    .map((i) => ({ c: placement[i] as Candidate, i }))
    .sort(
      (a, b) =>
        (b.c.nextScore ?? Number.NEGATIVE_INFINITY) - (a.c.nextScore ?? Number.NEGATIVE_INFINITY) ||
        a.c.nextRank - b.c.nextRank ||
        a.i - b.i,
    );
  const out = [...placement];
  slots.forEach((position, j) => {
    out[position] = (order[j] as { c: Candidate }).c;
  });
  return out;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 1;
}
