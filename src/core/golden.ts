import { canonicalJson, sha256Hex } from './canonical.js';
import { ReembedError } from './errors.js';
import type { Qrels } from './metrics.js';
import { assertSetName, STORED_SETS, unknownSet } from './set-names.js';

/**
 * A golden set: queries with judged documents, frozen after validation. Loaders (src/eval) stream files
 * into a `GoldenSetBuilder`, which checks every line as it arrives and remembers where each judgment
 * came from, so every error can name the file and line to fix.
 */
export interface GoldenQuery {
  readonly id: string;
  readonly text: string;
}

export interface GoldenSkipped {
  /** Queries that have no judgment at all (normal for BEIR: queries.jsonl covers every split). */
  readonly noJudgments: number;
  /** Queries whose judgments are all grade ≤ 0: no metric is defined for them. */
  readonly noRelevant: number;
  /** Judgment lines naming a query id absent from the queries. */
  readonly judgmentsWithoutQuery: number;
}

export interface GoldenSet {
  readonly kind: 'golden-set';
  readonly name: string;
  /** Evaluated queries only (at least one relevant document), in the order of the queries source. */
  readonly queries: readonly GoldenQuery[];
  /** query id → (doc id → grade), for the evaluated queries. Higher grade = more relevant. */
  readonly qrels: Qrels;
  readonly skipped: GoldenSkipped;
  /** Number of judgment lines kept. */
  readonly judgments: number;
  /** `gs_` + 16 hex of the canonical queries and qrels: names exactly which set an eval result used. */
  readonly digest: string;
}

export function isGoldenSet(value: unknown): value is GoldenSet {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'golden-set';
}

/** Where a query or judgment was read from, for error messages (`file:line`). */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

const at = (where: SourceLocation | undefined): string => (where ? `${where.file}:${where.line}` : '(input)');

function invalid(
  message: string,
  where: SourceLocation | undefined,
  details: Record<string, unknown> = {},
): ReembedError {
  return new ReembedError('INVALID_INPUT', `${at(where)}: ${message}`, {
    details: { ...details, ...(where ? { file: where.file, line: where.line } : {}) },
  });
}

export interface BuildOptions {
  /** When given, every judged doc id must be in it (e.g. the corpus ids or the collection's sources). */
  readonly knownDocIds?: { has(id: string): boolean; readonly size?: number };
}

/**
 * Collects queries and judgments one at a time (in any order) and builds a frozen `GoldenSet`.
 *
 * @example
 * const b = new GoldenSetBuilder('mini');
 * b.addQuery('q1', 'what is hnsw');
 * b.addJudgment('q1', 'doc-7', 1);
 * const golden = b.build();
 */
export class GoldenSetBuilder {
  private readonly queries = new Map<string, { text: string; where: SourceLocation | undefined }>();
  private readonly qrels = new Map<
    string,
    Map<string, { grade: number; where: SourceLocation | undefined }>
  >();

  constructor(readonly name: string) {}

  addQuery(id: string, text: string, where?: SourceLocation): void {
    if (id.length === 0) throw invalid('query id is empty; give every query a non-empty id.', where);
    if (text.trim().length === 0)
      throw invalid(`query "${id}" has empty text; remove it or give it text.`, where);
    const previous = this.queries.get(id);
    if (previous) {
      throw invalid(
        `duplicate query id "${id}" (first at ${at(previous.where)}); query ids must be unique.`,
        where,
        {
          queryId: id,
          firstAt: previous.where,
        },
      );
    }
    this.queries.set(id, { text, where });
  }

  addJudgment(queryId: string, docId: string, grade: number, where?: SourceLocation): void {
    if (queryId.length === 0) throw invalid('judgment has an empty query id.', where);
    if (docId.length === 0) throw invalid(`judgment for query "${queryId}" has an empty doc id.`, where);
    if (!Number.isFinite(grade)) {
      throw invalid(
        `grade "${grade}" for query "${queryId}", doc "${docId}" is not a finite number.`,
        where,
        {
          queryId,
          docId,
        },
      );
    }
    let judgments = this.qrels.get(queryId);
    if (!judgments) {
      judgments = new Map();
      this.qrels.set(queryId, judgments);
    }
    const previous = judgments.get(docId);
    if (previous) {
      throw invalid(
        `duplicate judgment for query "${queryId}", doc "${docId}" (first at ${at(previous.where)}); keep one line per pair.`,
        where,
        { queryId, docId, firstAt: previous.where },
      );
    }
    judgments.set(docId, { grade, where });
  }

  /**
   * Validates and freezes. Throws `INVALID_INPUT` when a judged doc id is unknown (naming the first few
   * with their lines) or when no query is left to evaluate.
   */
  build(options: BuildOptions = {}): GoldenSet {
    if (options.knownDocIds) this.checkDocIds(options.knownDocIds);
    let noJudgments = 0;
    let noRelevant = 0;
    let judgmentsWithoutQuery = 0;
    let judgmentCount = 0;
    const queries: GoldenQuery[] = [];
    const qrels: Record<string, Readonly<Record<string, number>>> = Object.create(null);
    for (const [id, q] of this.queries) {
      const judgments = this.qrels.get(id);
      if (!judgments) {
        noJudgments++;
        continue;
      }
      if (![...judgments.values()].some((j) => j.grade > 0)) {
        noRelevant++;
        continue;
      }
      const grades: Record<string, number> = Object.create(null);
      for (const [docId, j] of judgments) grades[docId] = j.grade;
      qrels[id] = Object.freeze(grades);
      queries.push(Object.freeze({ id, text: q.text }));
      judgmentCount += judgments.size;
    }
    for (const [queryId, judgments] of this.qrels) {
      if (!this.queries.has(queryId)) judgmentsWithoutQuery += judgments.size;
    }
    if (queries.length === 0) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Golden set "${this.name}" has no query to evaluate: ${this.queries.size} queries, ` +
          `${this.qrels.size} judged query ids, none with a relevant (grade > 0) judgment that matches a query id. ` +
          'Check that the qrels and queries files belong together (same query ids).',
        { details: { queries: this.queries.size, judgedQueries: this.qrels.size, judgmentsWithoutQuery } },
      );
    }
    return Object.freeze({
      kind: 'golden-set' as const,
      name: this.name,
      queries: Object.freeze(queries),
      qrels: Object.freeze(qrels),
      skipped: Object.freeze({ noJudgments, noRelevant, judgmentsWithoutQuery }),
      judgments: judgmentCount,
      digest: `gs_${sha256Hex(canonicalJson({ qrels, queries })).slice(0, 16)}`,
    });
  }

  private checkDocIds(known: { has(id: string): boolean }): void {
    const unknown: { queryId: string; docId: string; where: SourceLocation | undefined }[] = [];
    for (const [queryId, judgments] of this.qrels) {
      for (const [docId, j] of judgments)
        if (!known.has(docId)) unknown.push({ queryId, docId, where: j.where });
    }
    if (unknown.length === 0) return;
    const first = unknown.slice(0, 5).map((u) => `"${u.docId}" (${at(u.where)})`);
    throw new ReembedError(
      'INVALID_INPUT',
      `Golden set "${this.name}" judges ${unknown.length} doc id(s) that are not in the corpus: ${first.join(', ')}` +
        `${unknown.length > 5 ? ', ...' : ''}. Ingest those documents or fix the judgments.`,
      {
        details: {
          unknown: unknown.length,
          first: unknown.slice(0, 5).map((u) => ({ docId: u.docId, queryId: u.queryId, ...u.where })),
        },
      },
    );
  }
}

/**
 * Doc ids judged by a golden set that `known` does not hold (e.g. to check a loaded set against a stored
 * collection after the fact). Returns at most `limit` ids, in judgment order.
 */
export function unknownDocIds(golden: GoldenSet, known: { has(id: string): boolean }, limit = 20): string[] {
  const out: string[] = [];
  for (const judgments of Object.values(golden.qrels)) {
    for (const docId of Object.keys(judgments)) {
      if (!known.has(docId) && !out.includes(docId)) {
        out.push(docId);
        if (out.length >= limit) return out;
      }
    }
  }
  return out;
}

/** Golden set names are catalog keys: letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export function assertGoldenName(name: string): void {
  assertSetName(STORED_SETS.golden, name);
}

export function unknownGoldenSet(name: string, known: readonly string[]): ReembedError {
  return unknownSet(STORED_SETS.golden, name, known);
}
