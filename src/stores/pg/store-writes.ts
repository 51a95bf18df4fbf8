import type { PgQueryable } from './pool.js';
import * as R from './sql-records.js';
import { headParams, type RoundWrite, recordParams } from './write-plan.js';

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
