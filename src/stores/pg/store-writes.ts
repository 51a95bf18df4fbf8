import type { CheckpointWrite } from '../../ports/vector-store.js';
import { type PgQueryable, pgFailure, sqlState } from './pool.js';
import * as R from './sql-records.js';
import {
  headParams,
  type RoundWrite,
  recordParams,
  type WriteStatementContext,
  writeStatementParams,
} from './write-plan.js';

/**
 * What one-statement write reports: applied (with counts), `stale` when the namespace no longer holds the
 * cached descriptor (nothing written), `missing` when its tables are gone, `raced` when a concurrent writer
 * of the same sources committed during the statement (nothing written; retry in a transaction),
 * `text-moved` when a text to copy from its source row was not there at the written version (nothing
 * written; send the texts).
 */
export type StatementWrite =
  | { readonly kind: 'applied'; readonly written: number; readonly records: number }
  | { readonly kind: 'stale' | 'missing' | 'raced' | 'text-moved' };

/**
 * One round (unique source ids, sorted) as the single statement of `writeSql`, in autocommit: one round
 * trip for heads, records and checkpoint. Other Postgres errors are thrown as `STORE_FAILED`.
 */
export async function writeInOneStatement(
  db: PgQueryable,
  ref: R.NamespaceRef,
  round: readonly RoundWrite[],
  context: WriteStatementContext,
): Promise<StatementWrite> {
  const text = R.writeSql(ref, {
    checkpoint: context.checkpoint !== undefined,
    textOfSource: context.textOfSource !== undefined,
  });
  try {
    const { rows } = await db.query<{ written: string; records: string; ok: boolean }>(
      text,
      writeStatementParams(round, context),
    );
    const row = rows[0];
    if (!row?.ok) return { kind: 'stale' };
    return { kind: 'applied', written: Number(row.written), records: Number(row.records) };
  } catch (error) {
    const state = sqlState(error);
    if (state === UNDEFINED_TABLE) return { kind: 'missing' };
    if (
      state === NOT_NULL_VIOLATION &&
      context.textOfSource !== undefined &&
      (error as { column?: unknown }).column === 'text'
    )
      return { kind: 'text-moved' };
    if (
      state === INVALID_TEXT_REPRESENTATION &&
      String((error as Error).message).includes(R.CONCURRENT_WRITE_MARKER)
    )
      return { kind: 'raced' };
    throw pgFailure('write records', error);
  }
}

const UNDEFINED_TABLE = '42P01';
const NOT_NULL_VIOLATION = '23502';
const INVALID_TEXT_REPRESENTATION = '22P02';

/**
 * The statements of a versioned write or delete, inside the caller's transaction. Per round (unique
 * source ids): one upsert on the heads table advances the sources whose incoming version is newer and
 * returns them (invariant 4); only their old records are deleted, and only their new records inserted.
 */
export async function applyWrites(
  tx: PgQueryable,
  ref: R.NamespaceRef,
  rounds: readonly RoundWrite[][],
  options: { fingerprint: string; embeddedAt: string; vectorOid: number; normalize: boolean },
): Promise<{ written: number; records: number }> {
  let written = 0;
  let records = 0;
  for (const round of rounds) {
    const advanced = await advanceHeads(tx, ref, headParams(round));
    if (advanced.replaced.length > 0) await tx.query(R.deleteRecordsSql(ref), [advanced.replaced]);
    const winners = round.filter((w) => advanced.all.has(w.sourceId));
    const { fingerprint, embeddedAt, vectorOid, normalize } = options;
    const insert = recordParams(winners, fingerprint, embeddedAt, vectorOid, normalize);
    if (insert) await tx.query(R.insertRecordsSql(ref), insert.params);
    written += winners.length;
    records += insert?.records ?? 0;
  }
  return { written, records };
}

/** Tombstones newer than the head; `records` counts the records removed. */
export async function applyDeletes(
  tx: PgQueryable,
  ref: R.NamespaceRef,
  rounds: readonly { sourceId: string; sourceVersion: number; contentHash: null }[][],
): Promise<{ written: number; records: number }> {
  let written = 0;
  let records = 0;
  for (const round of rounds) {
    const advanced = await advanceHeads(tx, ref, headParams(round));
    if (advanced.replaced.length > 0) {
      records += (await tx.query(R.deleteRecordsSql(ref), [advanced.replaced])).rowCount ?? 0;
    }
    written += advanced.all.size;
  }
  return { written, records };
}

/**
 * Upserts heads; returns every advanced source, and those that already had a head (the only ones that
 * can have old records, so a fresh backfill never runs a DELETE).
 */
async function advanceHeads(
  tx: PgQueryable,
  ref: R.NamespaceRef,
  params: unknown[],
): Promise<{ all: Set<string>; replaced: string[] }> {
  const { rows } = await tx.query<{ source_id: string; inserted: boolean }>(R.advanceHeadsSql(ref), params);
  return {
    all: new Set(rows.map((r) => r.source_id)),
    replaced: rows.filter((r) => !r.inserted).map((r) => r.source_id),
  };
}

/** The checkpoint of a job, in the caller's transaction (the transactional write and delete). */
export async function saveCheckpoint(
  tx: PgQueryable,
  ref: R.NamespaceRef,
  checkpoint: CheckpointWrite | undefined,
  now: string,
): Promise<void> {
  if (!checkpoint) return;
  await tx.query(R.upsertCheckpointSql(ref.schema, { forward: true }), [
    checkpoint.jobId,
    ref.namespace,
    checkpoint.cursor,
    checkpoint.processed,
    now,
  ]);
}
