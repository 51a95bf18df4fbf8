import type { Table as ArrowTable } from 'apache-arrow';
import type { WriteResult } from '../../core/records.js';
import type { LanceTableLike } from './lance-types.js';
import type { StoredSource, WritePlan } from './plan.js';
import { readSourceState } from './read.js';
import { and, inList, kindIs, staleChunks } from './sql.js';

/**
 * Only rows of a newer version replace stored ones: LanceDB re-evaluates this against the latest table
 * version when it retries a conflicting commit, so a write that lost a race to a newer one in another
 * process cannot overwrite it.
 */
export const NEWER_ONLY = 'target.source_version < source.source_version';

/**
 * Commits a versioned write in one `mergeInsert` (keyed by `key`):
 *
 * 1. read the heads and chunk keys of the call's sources and plan (`planWrite`);
 * 2. merge the planned rows — heads, new chunks, and retired chunks blanked — as one commit: this is the
 *    atomic step; a crash before it leaves the old state, after it the new one;
 * 3. delete the blanked `retired` rows (invisible to search, counts and heads, so a crash before this
 *    step costs only space; the next write that retires chunks, or the next compaction, sweeps them);
 * 4. if another process committed between steps 1 and 2 (the table version moved by more than our
 *    commit, or some rows were refused by `NEWER_ONLY`), reconcile: delete chunk rows older than their
 *    source's head, and count as skipped the sources whose head is not ours.
 */
export async function commitPlan(
  table: LanceTableLike,
  sourceIds: readonly string[],
  plan: (state: Map<string, StoredSource>) => WritePlan,
  toArrow: (plan: WritePlan) => ArrowTable,
): Promise<WriteResult> {
  const before = await table.version();
  const planned = plan(await readSourceState(table, sourceIds));
  const result = { written: planned.written, skipped: planned.skipped, records: planned.records };
  if (planned.rows.length === 0) return result;
  const merged = await table
    .mergeInsert('key')
    .whenMatchedUpdateAll({ where: NEWER_ONLY })
    .whenNotMatchedInsertAll()
    .execute(toArrow(planned));
  const raced =
    merged.version !== before + 1 || merged.numInsertedRows + merged.numUpdatedRows !== planned.rows.length;
  if (planned.retired > 0 || raced) await table.delete(kindIs('retired'));
  return raced ? reconcile(table, planned, result) : result;
}

async function reconcile(
  table: LanceTableLike,
  planned: WritePlan,
  result: WriteResult,
): Promise<WriteResult> {
  const state = await readSourceState(table, [...planned.versions.keys()]);
  const heads = new Map<string, number>();
  let lost = 0;
  let lostRecords = 0;
  for (const [sourceId, version] of planned.versions) {
    const head = state.get(sourceId)?.head;
    if (head) heads.set(sourceId, head.sourceVersion);
    if (head?.sourceVersion !== version) {
      lost += 1;
      lostRecords += planned.rows.filter((r) => r.sourceId === sourceId && r.kind === 'chunk').length;
    }
  }
  const stale = staleChunks(heads);
  if (stale) await table.delete(and(inList('source_id', [...heads.keys()]), stale));
  return {
    written: Math.max(0, result.written - lost),
    skipped: result.skipped + lost,
    records: Math.max(0, result.records - lostRecords),
  };
}
