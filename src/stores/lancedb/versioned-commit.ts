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
 * Commits a versioned write in one commit:
 *
 * 1. read the heads and chunk keys of the call's sources and plan (`planWrite`);
 * 2. when the namespace holds none of them (a fresh namespace during a backfill, new documents), append
 *    the planned rows with `add`: nothing can be replaced, so the join a `mergeInsert` makes against the
 *    whole table is wasted work. Otherwise merge the planned rows — heads, new chunks, and retired chunks
 *    blanked — as one conditional `mergeInsert` (keyed by `key`). Either commit is the atomic step: a
 *    crash before it leaves the old state, after it the new one, and a retried call reads what committed
 *    and skips it (exactly once);
 * 3. delete the blanked `retired` rows (invisible to search, counts and heads, so a crash before this
 *    step costs only space; the next write that retires chunks, or the next compaction, sweeps them);
 * 4. if another process committed between steps 1 and 2 (the table version moved by more than our
 *    commit, or some rows were refused by `NEWER_ONLY`), reconcile: an append heals first (it checks
 *    nothing, so the other commit may hold rows of the same sources: `redundantRows` keeps the newest
 *    version and one copy per key), then chunk rows older than their source's head go, and the sources
 *    whose head is not ours count as skipped.
 *
 * Rows a raced append left because a crash came before its heal are healed by the next call that reads
 * those sources, before it plans.
 */
export async function commitPlan(
  table: LanceTableLike,
  sourceIds: readonly string[],
  plan: (state: Map<string, StoredSource>) => WritePlan,
  toArrow: (plan: WritePlan) => ArrowTable,
): Promise<WriteResult> {
  let before = await table.version();
  let state = await readSourceState(table, sourceIds);
  if (state.redundant.length > 0) {
    await heal(table, state.redundant);
    before = await table.version();
    state = await readSourceState(table, sourceIds);
  }
  const planned = plan(state.sources);
  const result = { written: planned.written, skipped: planned.skipped, records: planned.records };
  if (planned.rows.length === 0) return result;
  if (state.sources.size === 0) {
    const added = await table.add(toArrow(planned));
    if (added.version === before + 1) return result;
    const after = await readSourceState(table, [...planned.versions.keys()]);
    await heal(table, after.redundant);
    return reconcile(table, planned, result);
  }
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

/** Deletes redundant rows (`redundantRows`) in one commit. */
async function heal(table: LanceTableLike, redundant: readonly string[]): Promise<void> {
  if (redundant.length > 0) await table.delete(redundant.map((p) => `(${p})`).join(' OR '));
}

async function reconcile(
  table: LanceTableLike,
  planned: WritePlan,
  result: WriteResult,
): Promise<WriteResult> {
  const state = (await readSourceState(table, [...planned.versions.keys()])).sources;
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
