/**
 * The methods of the quality-during-migration benchmark, computed per query from exact score matrices.
 * Every fused method calls the real `fuseResults` on SearchHit-shaped top-100 lists, as the QueryEngine
 * would; the strategies' routing comes from the shipped defaults (`resolveMigrationOptions`).
 */

import { resolveMigrationOptions } from '../src/app/migrate-options.js';
import { bucketOf } from '../src/app/query.js';
import { type FuseInput, fuseResults } from '../src/core/fusion.js';
import { rolloutPercentFor } from '../src/core/migration.js';
import type { SearchHit } from '../src/core/records.js';
import type { FusionPolicy } from '../src/core/routing.js';

/** Fusion depth per namespace, as the QueryEngine reads (FUSION_DEPTH). */
export const DEPTH = 100;
export const K = 10;

/** Everything one query needs: the three exact score rows and their orders (best first). */
export interface QueryScores {
  readonly id: string;
  readonly text: string;
  /** v1 query · v1 docs. */
  readonly s11: Float32Array;
  /** v2 query · v2 docs. */
  readonly s22: Float32Array;
  /** v2 query · v1 docs: the naive mixed index compares these, which is the bug it shows. */
  readonly s21: Float32Array;
  readonly o11: Int32Array;
  readonly o22: Int32Array;
  readonly o21: Int32Array;
}

export function sortedOrder(row: Float32Array): Int32Array {
  return Int32Array.from({ length: row.length }, (_, i) => i).sort(
    (a, b) => (row[b] as number) - (row[a] as number) || a - b,
  );
}

/** The first `k` documents of `order` that pass `keep`. */
export function topOf(order: Int32Array, k: number, keep: (doc: number) => boolean): number[] {
  const out: number[] = [];
  for (const doc of order) {
    if (!keep(doc)) continue;
    out.push(doc);
    if (out.length === k) break;
  }
  return out;
}

export const METHODS = [
  'clean v1',
  'clean v2',
  'naive mixed index',
  'summed RRF',
  'summed z-score',
  'coverage-aware-rrf',
  'coverage-aware-score',
  'coverage-aware-rrf + embed-on-read',
  'coverage-aware-score + embed-on-read',
  'blue-green / shadow',
  'progressive',
  'progressive (routed query to new only)',
  'lazy (default fusion)',
  'lazy without embed-on-read',
] as const;
export type Method = (typeof METHODS)[number];

/** The section of the table each method belongs to (the (a)..(f)). */
export const METHOD_GROUP: Readonly<Record<Method, string>> = {
  'clean v1': '(a)',
  'clean v2': '(b)',
  'naive mixed index': '(c)',
  'summed RRF': '(d)',
  'summed z-score': '(d)',
  'coverage-aware-rrf': '(e)',
  'coverage-aware-score': '(e)',
  'coverage-aware-rrf + embed-on-read': '(e)',
  'coverage-aware-score + embed-on-read': '(e)',
  'blue-green / shadow': '(f)',
  progressive: '(f)',
  'progressive (routed query to new only)': '(f)',
  'lazy (default fusion)': '(f)',
  'lazy without embed-on-read': '(f)',
};

const LAZY = resolveMigrationOptions('lazy');
const PROGRESSIVE = resolveMigrationOptions('progressive');
/** What the QueryEngine uses for a percentage-routed query of a progressive rollout (src/app/query.ts). */
const PROGRESSIVE_READ: FusionPolicy = { method: 'coverage-aware-score', embedOnRead: false };
/** The fusion method a lazy migration uses unless told otherwise. */
export const DEFAULT_FUSION: FusionPolicy = LAZY.fusion;

export interface Corpus {
  readonly docIds: readonly string[];
  readonly docTexts: readonly string[];
}

function hitOf(corpus: Corpus, doc: number, score: number, fingerprint: string): SearchHit {
  const sourceId = corpus.docIds[doc] as string;
  const chunkId = `${sourceId}#0`;
  return {
    sourceId,
    chunkId,
    score,
    text: corpus.docTexts[doc] as string,
    metadata: {},
    tenant: null,
    provenance: { fingerprint, sourceId, chunkId, contentHash: '', sourceVersion: 1, embeddedAt: '' },
  };
}

/**
 * Ranked top-10 source ids of every method for one query at one coverage. `migrated[doc]` is 1 when the
 * document has been re-embedded to v2. At coverage 1 every strategy has cut over to v2.
 */
export function rankQuery(
  corpus: Corpus,
  q: QueryScores,
  migrated: Uint8Array,
  coverage: number,
): Record<Method, string[]> {
  const ids = (docs: number[]): string[] => docs.map((d) => corpus.docIds[d] as string);
  const isMigrated = (d: number): boolean => migrated[d] === 1;
  const v1 = topOf(q.o11, DEPTH, () => true);
  const next = topOf(q.o22, DEPTH, isMigrated);
  const cleanV1 = ids(v1.slice(0, K));
  const cleanV2 = ids(topOf(q.o22, K, () => true));
  const primaryHits = v1.map((d) => hitOf(corpus, d, q.s11[d] as number, 'v1'));
  const nextHits = next.map((d) => hitOf(corpus, d, q.s22[d] as number, 'v2'));
  // As the QueryEngine does: the migrated set is looked up for the candidates of both lists.
  const migratedIds = new Set(ids([...v1, ...next].filter(isMigrated)));
  // Embed-on-read: the unmigrated documents among the old list's top k, scored in v2 (their v2 vectors
  // are what embedding their text at query time would produce: same embedder, same pipeline).
  const rescored = v1
    .slice(0, K)
    .filter((d) => !isMigrated(d))
    .map((d) => hitOf(corpus, d, q.s22[d] as number, 'v2'));
  const fuse = (policy: FusionPolicy, extra: Partial<FuseInput> = {}): string[] =>
    fuseResults({
      primary: { namespace: 'v1', hits: primaryHits },
      next: { namespace: 'v2', hits: nextHits },
      migrated: migratedIds,
      policy,
      k: K,
      ...extra,
    }).map((h) => h.sourceId);
  const afterCutover = coverage >= 1;
  const steps = PROGRESSIVE.steps.filter((s) => s < 100);
  const toNext = bucketOf(q.text) < rolloutPercentFor(steps, coverage);
  const lazy = fuse(DEFAULT_FUSION);
  const lazyRead = fuse(DEFAULT_FUSION, { rescored });
  return {
    'clean v1': cleanV1,
    'clean v2': cleanV2,
    'naive mixed index': ids(naiveMix(q, migrated)),
    'summed RRF': fuse({ method: 'rrf' }),
    'summed z-score': fuse({ method: 'zscore' }),
    'coverage-aware-rrf': fuse({ method: 'coverage-aware-rrf' }),
    'coverage-aware-score': fuse({ method: 'coverage-aware-score' }),
    'coverage-aware-rrf + embed-on-read': fuse({ method: 'coverage-aware-rrf' }, { rescored }),
    'coverage-aware-score + embed-on-read': fuse({ method: 'coverage-aware-score' }, { rescored }),
    'blue-green / shadow': afterCutover ? cleanV2 : cleanV1,
    // A split sends a share of queries to the new namespace, which holds only the migrated documents.
    // As the QueryEngine serves a split: a percentage-routed query gets a coverage-aware fused read.
    progressive: afterCutover ? cleanV2 : toNext ? fuse(PROGRESSIVE_READ) : cleanV1,
    'progressive (routed query to new only)': afterCutover
      ? cleanV2
      : toNext
        ? ids(next.slice(0, K))
        : cleanV1,
    // The lazy default embeds unmigrated top hits on read unless the policy turns it off.
    'lazy (default fusion)': afterCutover ? cleanV2 : DEFAULT_FUSION.embedOnRead === false ? lazy : lazyRead,
    'lazy without embed-on-read': afterCutover ? cleanV2 : lazy,
  };
}

/**
 * What a careless team serves: one index whose migrated rows hold v2 vectors and the rest v1 vectors,
 * searched with a v2 query vector. reembed's guard refuses this (invariant 1); the benchmark bypasses it
 * explicitly by building the mixed matrix's scores itself, here and nowhere else.
 */
function naiveMix(q: QueryScores, migrated: Uint8Array): number[] {
  const fromV2 = topOf(q.o22, K, (d) => migrated[d] === 1);
  const fromV1 = topOf(q.o21, K, (d) => migrated[d] !== 1);
  const out: number[] = [];
  let a = 0;
  let b = 0;
  while (out.length < K && (a < fromV2.length || b < fromV1.length)) {
    const x = fromV2[a];
    const y = fromV1[b];
    if (x !== undefined && (y === undefined || (q.s22[x] as number) >= (q.s21[y] as number))) {
      out.push(x);
      a++;
    } else if (y !== undefined) {
      out.push(y);
      b++;
    }
  }
  return out;
}

/** Seeded permutation of 0..n-1 (mulberry32 + Fisher–Yates): the order documents are re-embedded in. */
export function migrationOrder(n: number, seed: number): Int32Array {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/** Mask of the first round(coverage·n) documents of `order`. */
export function migratedMask(order: Int32Array, coverage: number): Uint8Array {
  const mask = new Uint8Array(order.length);
  const count = Math.round(coverage * order.length);
  for (let i = 0; i < count; i++) mask[order[i] as number] = 1;
  return mask;
}
