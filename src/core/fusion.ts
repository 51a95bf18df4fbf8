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
}

export const DEFAULT_RRF_K = 60;

/**
 * Fuses two namespaces' results without ever comparing raw scores across spaces (invariant 2).
 * `rrf`, `minmax` and `zscore` are the textbook methods; `coverage-aware-*` correct their bias toward
 * documents that appear in both lists during a partial migration.
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
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  return scores.map((s) => (sd === 0 ? 0 : (s - mean) / sd));
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

/**
 * Slot-preserving fusion. The old list decides *where* migrated documents belong (the ranks it gives
 * them); the new space decides *which* migrated documents fill those slots and in what order.
 * Unmigrated documents keep exactly their old ranks, so a partial migration can never push them down
 * merely because migrated documents appear in two lists. At 0% coverage this is the old ranking; as
 * coverage grows, more slots are ordered by the new space.
 */
function coverageAwareFusion(input: FuseInput): FusedHit[] {
  const { primary, next, migrated, k } = input;
  const slots: number[] = [];
  const result: (FusedHit | undefined)[] = [];
  const nextRank = new Map(next.hits.map((h, i) => [h.sourceId, i + 1]));
  primary.hits.forEach((hit, i) => {
    if (migrated.has(hit.sourceId)) slots.push(i);
    else {
      const ranks: Record<string, number> = { [primary.namespace]: i + 1 };
      const r = nextRank.get(hit.sourceId);
      if (r !== undefined) ranks[next.namespace] = r;
      result[i] = { ...hit, fusedScore: 1 / (i + 1), namespace: primary.namespace, ranks };
    }
  });
  const candidates = orderMigrated(input);
  // Migrated candidates beyond the old list's slots extend the tail, so no document is lost.
  const tailStart = primary.hits.length;
  candidates.forEach((candidate, j) => {
    const position = j < slots.length ? (slots[j] as number) : tailStart + (j - slots.length);
    result[position] = { ...candidate, fusedScore: 1 / (position + 1) };
  });
  return result.filter((h): h is FusedHit => h !== undefined).slice(0, k);
}

/** Orders migrated candidates (from both lists) by the new space: by rank, or by normalised score. */
function orderMigrated(input: FuseInput): FusedHit[] {
  const { primary, next, migrated, policy } = input;
  const primaryRank = new Map(primary.hits.map((h, i) => [h.sourceId, i + 1]));
  const byId = new Map<string, FusedHit>();
  const nextScores = policy.method === 'coverage-aware-score' ? zScore(next.hits.map((h) => h.score)) : [];
  next.hits.forEach((hit, i) => {
    // A stale record (source changed, not yet regenerated) is not migrated: the old list serves it.
    if (!migrated.has(hit.sourceId)) return;
    const ranks: Record<string, number> = { [next.namespace]: i + 1 };
    const r = primaryRank.get(hit.sourceId);
    if (r !== undefined) ranks[primary.namespace] = r;
    const key = policy.method === 'coverage-aware-score' ? (nextScores[i] as number) : 1 / (i + 1);
    byId.set(hit.sourceId, { ...hit, fusedScore: key, namespace: next.namespace, ranks });
  });
  // A migrated document in the old list that the new list did not return still keeps a slot, ranked last.
  primary.hits.forEach((hit, i) => {
    if (migrated.has(hit.sourceId) && !byId.has(hit.sourceId)) {
      byId.set(hit.sourceId, {
        ...hit,
        fusedScore: Number.NEGATIVE_INFINITY,
        namespace: primary.namespace,
        ranks: { [primary.namespace]: i + 1 },
      });
    }
  });
  return [...byId.values()].sort(
    (a, b) =>
      b.fusedScore - a.fusedScore ||
      (a.ranks[primary.namespace] ?? Number.POSITIVE_INFINITY) -
        (b.ranks[primary.namespace] ?? Number.POSITIVE_INFINITY),
  );
}
