import { createHash } from 'node:crypto';
import { ReembedError } from '../core/errors.js';
import { assertGoldenName, type GoldenSet, GoldenSetBuilder } from '../core/golden.js';
import type { Migration } from '../core/migration.js';
import type { GoldenSetInfo } from '../ports/evaluation-sets.js';
import { requireGoldenSets } from './golden-sets.js';
import { resolveProbeSet } from './probes.js';
import type { Reembed } from './reembed.js';

/**
 * The shadow-diff review queue: for sampled queries of a migration, the documents the new namespace loses
 * and gains against the old one in its top k, with their text, for a person to judge. Judgments are stored
 * as a golden set (by name, through the golden-set store), which `cutover --golden <name>` and the gates
 * then read like any judged set.
 */
export interface ReviewDocument {
  readonly id: string;
  readonly text: string;
  /** 1-based rank in the old / new namespace's top k (null: not there). */
  readonly oldRank: number | null;
  readonly newRank: number | null;
  /** The stored judgment, when this query was reviewed already (grade > 0 is relevant). */
  readonly grade: number | null;
}

export interface ReviewItem {
  /** Stable id of the query (`r` + 12 hex of its text and tenant): the query id in the golden set. */
  readonly id: string;
  readonly text: string;
  readonly tenant: string | null;
  /** In the old top k, not in the new one. */
  readonly lost: readonly ReviewDocument[];
  /** In the new top k, not in the old one. */
  readonly gained: readonly ReviewDocument[];
  /** In both (shown for context; judging them helps the set's recall figures). */
  readonly kept: readonly ReviewDocument[];
  readonly reviewed: boolean;
}

export interface ReviewQueue {
  readonly kind: 'review-queue';
  readonly migration: string;
  readonly from: string;
  readonly to: string;
  /** Where the queries came from: `recent` (kept served queries) or `probe:<name>`. */
  readonly source: string;
  /** Golden set the judgments go to. */
  readonly golden: string;
  readonly k: number;
  readonly items: readonly ReviewItem[];
}

export interface ReviewQueueOptions {
  /** `recent` (queries kept with keepQueries), `probe` (the migration's probe), or automatic (default). */
  readonly source?: 'recent' | 'probe' | 'auto';
  readonly limit?: number;
  readonly k?: number;
  /** Include queries whose top k is identical in both namespaces (default false: nothing to review). */
  readonly includeUnchanged?: boolean;
  /** Include queries already judged (default false). */
  readonly includeReviewed?: boolean;
  readonly golden?: string;
}

/** Default golden set of a migration's reviews: `review-<alias>`. */
export function reviewGoldenName(migration: Migration): string {
  return `review-${migration.alias}`;
}

export function reviewQueryId(text: string, tenant: string | null): string {
  return `r${createHash('sha256')
    .update(`${tenant ?? ''}\u0000${text}`)
    .digest('hex')
    .slice(0, 12)}`;
}

interface Candidate {
  readonly text: string;
  readonly tenant: string | null;
}

async function candidates(
  app: Reembed,
  migration: Migration,
  source: 'recent' | 'probe' | 'auto',
  limit: number,
): Promise<{ from: string; queries: Candidate[] }> {
  const repo = app.backend.migrations;
  if (source !== 'probe' && repo?.recentQueries && migration.options.keepQueries) {
    const kept = await repo.recentQueries(migration.id, limit * 4);
    if (kept.length > 0 || source === 'recent') {
      return { from: 'recent', queries: kept.map((q) => ({ text: q.text, tenant: q.tenant })) };
    }
  } else if (source === 'recent') {
    throw new ReembedError(
      'INVALID_STATE',
      `Migration ${migration.id} keeps no served query texts (start it with keepQueries); review its probe queries instead (source "probe").`,
      { details: { migration: migration.id } },
    );
  }
  if (!migration.options.probe) {
    throw new ReembedError(
      'INVALID_STATE',
      `Migration ${migration.id} has neither kept queries nor a probe set to review; start migrations with keepQueries, or create a probe (reembed probe create ${migration.collection}).`,
      { details: { migration: migration.id } },
    );
  }
  const probe = await resolveProbeSet(app.backend, migration.options.probe);
  return {
    from: `probe:${probe.name}`,
    queries: probe.queries.map((q) => ({ text: q.text, tenant: q.tenant })),
  };
}

async function storedJudgments(app: Reembed, name: string): Promise<GoldenSet | null> {
  const store = app.backend.goldenSets;
  if (!store) return null;
  const known = await store.list();
  return known.some((s) => s.name === name) ? store.get(name) : null;
}

/**
 * Builds the queue: each candidate query is run exactly (no ANN) on both namespaces; queries whose top k
 * differs come first, in the order of their source (newest kept queries first).
 *
 * @example
 * const queue = await reviewQueue(app, migration, { limit: 20 });
 * queue.items[0].lost; // documents the new model no longer returns for this query
 */
export async function reviewQueue(
  app: Reembed,
  migration: Migration,
  options: ReviewQueueOptions = {},
): Promise<ReviewQueue> {
  const limit = options.limit ?? 20;
  const k = options.k ?? 10;
  const golden = options.golden ?? reviewGoldenName(migration);
  assertGoldenName(golden);
  const { from, queries } = await candidates(app, migration, options.source ?? 'auto', limit);
  const judged = await storedJudgments(app, golden);
  const items: ReviewItem[] = [];
  const seen = new Set<string>();
  for (const q of queries) {
    if (items.length >= limit) break;
    const id = reviewQueryId(q.text, q.tenant);
    if (seen.has(id)) continue;
    seen.add(id);
    const grades = judged?.qrels[id];
    if (grades && !options.includeReviewed) continue;
    const request = { text: q.text, k, exact: true, ...(q.tenant ? { filter: { tenant: q.tenant } } : {}) };
    const [old, next] = await Promise.all([
      app.queries.queryNamespace(migration.from, request),
      app.queries.queryNamespace(migration.to, request),
    ]);
    const oldIds = unique(old.hits.map((h) => h.sourceId));
    const newIds = unique(next.hits.map((h) => h.sourceId));
    const lostIds = oldIds.filter((d) => !newIds.includes(d));
    const gainedIds = newIds.filter((d) => !oldIds.includes(d));
    if (!options.includeUnchanged && lostIds.length === 0 && gainedIds.length === 0) continue;
    const keptIds = oldIds.filter((d) => newIds.includes(d));
    const docs = await app.backend.sources.getMany(migration.collection, [...oldIds, ...gainedIds]);
    const doc = (d: string): ReviewDocument =>
      Object.freeze({
        id: d,
        text: docs.get(d)?.text ?? '',
        oldRank: rankOf(oldIds, d),
        newRank: rankOf(newIds, d),
        grade: grades?.[d] ?? null,
      });
    items.push(
      Object.freeze({
        id,
        text: q.text,
        tenant: q.tenant,
        lost: Object.freeze(lostIds.map(doc)),
        gained: Object.freeze(gainedIds.map(doc)),
        kept: Object.freeze(keptIds.map(doc)),
        reviewed: grades !== undefined,
      }),
    );
  }
  return Object.freeze({
    kind: 'review-queue' as const,
    migration: migration.id,
    from: migration.from,
    to: migration.to,
    source: from,
    golden,
    k,
    items: Object.freeze(items),
  });
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function rankOf(ids: readonly string[], id: string): number | null {
  const i = ids.indexOf(id);
  return i < 0 ? null : i + 1;
}

export interface ReviewJudgment {
  /** The query (`ReviewItem.id`, text and tenant as the queue gave them). */
  readonly query: { readonly id?: string; readonly text: string; readonly tenant?: string | null };
  readonly docId: string;
  readonly relevant: boolean;
}

export interface SavedReview {
  readonly kind: 'review-saved';
  readonly golden: GoldenSetInfo;
  /** Judgments stored by this call (a re-judged pair replaces the earlier judgment). */
  readonly stored: number;
  /** Queries of the set the gates can evaluate (those with at least one relevant document). */
  readonly queries: number;
}

/**
 * Merges judgments into the migration's review golden set (created on first use; grade 1 relevant, 0 not)
 * and records its name in the migration (`info.reviewGolden`, shown by `migrate status`). A query that has
 * only non-relevant judgments is kept in the judgments but not evaluated (recall needs a relevant
 * document). Audited as `golden.save` with the actor.
 */
export async function saveReviewJudgments(
  app: Reembed,
  migration: Migration,
  judgments: readonly ReviewJudgment[],
  options: { readonly golden?: string; readonly actor: string },
): Promise<SavedReview> {
  if (judgments.length === 0)
    throw new ReembedError(
      'INVALID_INPUT',
      'No judgments given: send at least one {query, docId, relevant}.',
    );
  const name = options.golden ?? reviewGoldenName(migration);
  assertGoldenName(name);
  const store = requireGoldenSets(app.backend);
  const previous = await storedJudgments(app, name);
  const texts = new Map<string, string>();
  const grades = new Map<string, Map<string, number>>();
  const put = (q: string, d: string, g: number): void => {
    let m = grades.get(q);
    if (!m) {
      m = new Map();
      grades.set(q, m);
    }
    m.set(d, g);
  };
  if (previous) {
    for (const q of previous.queries) texts.set(q.id, q.text);
    for (const [q, docs] of Object.entries(previous.qrels))
      for (const [d, g] of Object.entries(docs)) put(q, d, g);
  }
  for (const j of judgments) {
    const tenant = j.query.tenant ?? null;
    const id = reviewQueryId(j.query.text, tenant);
    if (j.query.id !== undefined && j.query.id !== id && !texts.has(j.query.id)) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Query id "${j.query.id}" does not match its text (expected ${id}); send the id and text the review queue gave.`,
        { details: { id: j.query.id, expected: id } },
      );
    }
    texts.set(id, j.query.text);
    put(id, j.docId, j.relevant ? 1 : 0);
  }
  if (![...grades.values()].some((docs) => [...docs.values()].some((g) => g > 0))) {
    throw new ReembedError(
      'INVALID_INPUT',
      'None of the judged queries has a relevant document: a golden set needs at least one. Mark the documents that answer a query relevant.',
    );
  }
  const builder = new GoldenSetBuilder(name);
  for (const [id, text] of texts) builder.addQuery(id, text);
  for (const [q, docs] of grades) for (const [d, g] of docs) builder.addJudgment(q, d, g);
  const golden = builder.build();
  const info = await store.save(name, golden, { source: 'review', actor: options.actor, replace: true });
  if ((migration.info as { reviewGolden?: unknown }).reviewGolden !== name && app.backend.migrations) {
    await app.backend.migrations.updateInfo(migration.id, { reviewGolden: name }, options.actor);
  }
  return Object.freeze({
    kind: 'review-saved' as const,
    golden: info,
    stored: judgments.length,
    queries: golden.queries.length,
  });
}
