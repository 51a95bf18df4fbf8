import { ReembedError } from '../../core/errors.js';
import { type GoldenSet, GoldenSetBuilder, type GoldenSkipped } from '../../core/golden.js';
import type { GoldenSetInfo, SaveSetOptions } from '../../ports/evaluation-sets.js';

/** A stored golden set's row as both SQL backends keep it (`skipped` as JSON text, times as ISO). */
export interface GoldenSetRow {
  name: string;
  digest: string;
  queries: number;
  judgments: number;
  skipped: string;
  source: string | null;
  saved_at: string;
  saved_by: string;
}

export function goldenInfoOf(row: GoldenSetRow): GoldenSetInfo {
  return Object.freeze({
    kind: 'golden-set-info' as const,
    name: row.name,
    digest: row.digest,
    queries: row.queries,
    judgments: row.judgments,
    skipped: Object.freeze(JSON.parse(row.skipped) as GoldenSkipped),
    source: row.source,
    savedAt: row.saved_at,
    savedBy: row.saved_by,
  });
}

export function goldenSetRow(
  name: string,
  golden: GoldenSet,
  options: SaveSetOptions,
  at: string,
): GoldenSetRow {
  return {
    name,
    digest: golden.digest,
    queries: golden.queries.length,
    judgments: golden.judgments,
    skipped: JSON.stringify(golden.skipped),
    source: options.source ?? null,
    saved_at: at,
    saved_by: options.actor ?? 'reembed',
  };
}

export function goldenExists(name: string, held: GoldenSetRow, incoming: string): ReembedError {
  return new ReembedError(
    'ALREADY_EXISTS',
    `Golden set "${name}" already exists with other content (${held.digest}, saved ${held.saved_at}); ` +
      'pick another name or replace it (--replace).',
    { details: { name, held: held.digest, incoming } },
  );
}

/** Every judgment of a set as rows, queries in order. */
export function goldenJudgments(golden: GoldenSet): { queryId: string; docId: string; grade: number }[] {
  return golden.queries.flatMap((q) =>
    Object.entries(golden.qrels[q.id] ?? {}).map(([docId, grade]) => ({ queryId: q.id, docId, grade })),
  );
}

/**
 * Rebuilds a stored set through `GoldenSetBuilder` and checks the digest it was saved with, so a table
 * edited outside reembed is detected instead of silently changing eval results.
 */
export function goldenOfRows(
  row: GoldenSetRow,
  queries: readonly { query_id: string; text: string }[],
  qrels: readonly { query_id: string; doc_id: string; grade: number }[],
): GoldenSet {
  const builder = new GoldenSetBuilder(row.name);
  for (const q of queries) builder.addQuery(q.query_id, q.text);
  for (const j of qrels) builder.addJudgment(j.query_id, j.doc_id, j.grade);
  const built = builder.build();
  if (built.digest !== row.digest) {
    throw new ReembedError(
      'STORE_FAILED',
      `Stored golden set "${row.name}" does not match its digest (saved ${row.digest}, read ${built.digest}): its rows were changed outside reembed. Save it again from its source.`,
      { details: { name: row.name, saved: row.digest, read: built.digest } },
    );
  }
  return Object.freeze({ ...built, skipped: goldenInfoOf(row).skipped });
}
