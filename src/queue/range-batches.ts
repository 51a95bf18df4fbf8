import type { SourceDocument } from '../core/records.js';
import { type BackfillBatch, type BatchSourceOptions, pageBatches } from '../jobs/backfill-source.js';
import type { SourceRepository } from '../ports/sources.js';
import type { VectorStore } from '../ports/vector-store.js';
import { RANGE_DONE } from './sql.js';

export interface RangeBatchOptions
  extends Pick<
    BatchSourceOptions,
    'collection' | 'namespace' | 'batchSize' | 'maxBatchTokens' | 'countTokens'
  > {
  /** Source id the range (or its resumption) starts after. */
  readonly after: string;
  /** The range's last source id (inclusive). */
  readonly lastId: string;
}

/**
 * The batch source of one range of a distributed plan, for the backfill pipeline: the range's sources in
 * id order, read `batchSize` at a time from `after` on (tombstones included) and planned like a pass's
 * pages (`pageBatches`). Batch cursors are `scan:<last id>`; the range's last batch carries `done`, so the
 * range's completion is the checkpoint committed with its last write and a redelivered range finds it.
 * The next page is read while the batches of this one are embedded and written.
 */
export async function* rangeBatches(
  deps: { readonly store: VectorStore; readonly sources: SourceRepository },
  options: RangeBatchOptions,
): AsyncGenerator<BackfillBatch> {
  let seq = 0;
  let next = rangePage(deps.sources, options, options.after);
  for (;;) {
    const { docs, last } = await next;
    const lastId = (docs[docs.length - 1] as SourceDocument | undefined)?.id;
    if (!last && lastId !== undefined) {
      next = rangePage(deps.sources, options, lastId);
      void next.catch(() => undefined); // a range stopped early never awaits its prefetch
    }
    const cursorAt = (i: number): string => `scan:${(docs[i] as SourceDocument).id}`;
    const endCursor = last || lastId === undefined ? RANGE_DONE : `scan:${lastId}`;
    for (const b of await pageBatches(deps, options, docs, cursorAt, endCursor)) yield { ...b, seq: seq++ };
    if (endCursor === RANGE_DONE) return;
  }
}

/** The page of the range after `after`; `last` when it reaches the range's end (or the collection's). */
async function rangePage(
  sources: SourceRepository,
  options: RangeBatchOptions,
  after: string,
): Promise<{ docs: readonly SourceDocument[]; last: boolean }> {
  const page = await sources.scan(options.collection, {
    afterId: after === '' ? undefined : after,
    limit: options.batchSize,
    includeDeleted: true,
  });
  const end = page.findIndex((d) => d.id >= options.lastId);
  if (end === -1) return { docs: page, last: page.length < options.batchSize };
  return { docs: page.slice(0, page[end]?.id === options.lastId ? end + 1 : end), last: true };
}
