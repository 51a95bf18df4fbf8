import type { SourceDelete, SourceDocument, SourceHead } from '../core/records.js';
import type { JobRepository } from '../ports/jobs.js';
import type { SourceRepository } from '../ports/sources.js';
import type { VectorStore } from '../ports/vector-store.js';
import type { SourcePages } from './source-pages.js';

/**
 * One unit of backfill work: the sources to embed and write, tombstones the namespace missed, and
 * where the pass may resume once this batch (and every batch before it) has committed.
 */
export interface BackfillBatch {
  /** Position in the pass; null for priority work (queued or dead-lettered sources) outside the pass order. */
  readonly seq: number | null;
  readonly docs: readonly SourceDocument[];
  readonly deletes: readonly SourceDelete[];
  /** Sources of the pass this batch accounts for (embedded, deleted or already current). */
  readonly scanned: number;
  /** Sources the namespace already held at their newest version. */
  readonly current: number;
  /** Resume point after this batch; null for priority work. */
  readonly cursor: string | null;
  /** Queue entries to acknowledge once the batch committed. */
  readonly ack: readonly string[];
}

export interface BatchSourceOptions {
  readonly collection: string;
  readonly namespace: string;
  readonly batchSize: number;
  readonly maxBatchTokens: number | null;
  readonly pageSize: number;
  /** `hottest`: most-queried sources first (progressive migrations), then the id-ordered scan. */
  readonly order: 'id' | 'hottest';
  /** How many of the hottest sources the hot phase covers. */
  readonly hotLimit: number;
  /** Drain the priority queue (lazy migrations) before every pass batch. */
  readonly useQueue: boolean;
  readonly countTokens: ((text: string) => number) | null;
}

export interface BatchSourceDeps {
  readonly store: VectorStore;
  readonly sources: SourceRepository;
  readonly jobs: JobRepository;
}

/** Cursor of a pass: `hot:<offset>` in the hot phase, `scan:<last id>` in the id-ordered phase. */
export function initialCursor(order: 'id' | 'hottest'): string {
  return order === 'hottest' ? 'hot:0' : 'scan:';
}

function parseCursor(cursor: string): { phase: 'hot'; offset: number } | { phase: 'scan'; after: string } {
  if (cursor.startsWith('hot:')) return { phase: 'hot', offset: Number(cursor.slice(4)) || 0 };
  return { phase: 'scan', after: cursor.startsWith('scan:') ? cursor.slice(5) : '' };
}

/** What the namespace must do for one source, given its head there (invariants 3-5 decide). */
export function actionFor(doc: SourceDocument, head: SourceHead | undefined): 'embed' | 'delete' | 'current' {
  if (doc.deleted) return head && !head.deleted && head.sourceVersion < doc.version ? 'delete' : 'current';
  return head && head.sourceVersion >= doc.version ? 'current' : 'embed';
}

/**
 * Produces the batches of one pass, pulling pages on demand so memory stays bounded by a few pages plus
 * the batches in flight. Sources already current are filtered with one `heads` lookup per page. The scan
 * phase reads from `pages`, which starts where `startCursor`'s scan phase does (see `scanStart`).
 */
export async function* passBatches(
  deps: BatchSourceDeps,
  options: BatchSourceOptions,
  startCursor: string,
  claimed: Set<string>,
  pages: SourcePages,
): AsyncGenerator<BackfillBatch> {
  let seq = 0;
  const start = parseCursor(startCursor);
  if (options.order === 'hottest' && start.phase === 'hot') {
    let offset = start.offset;
    while (offset < options.hotLimit) {
      if (options.useQueue) yield* queueBatches(deps, options, claimed);
      const limit = Math.min(options.pageSize, options.hotLimit - offset);
      const hot = (await deps.sources.hottest(options.collection, { limit, offset })).filter(
        (h) => h.hits > 0,
      );
      if (hot.length === 0) break;
      const found = await deps.sources.getMany(
        options.collection,
        hot.map((h) => h.id),
      );
      const page = hot.map((h) => found.get(h.id)).filter((d): d is SourceDocument => d !== undefined);
      const base = offset;
      offset += hot.length;
      // A document whose hit count changed between pages may be seen twice or not at all in the hot
      // phase; the id-ordered phase that follows covers every source exactly once regardless.
      const at = (i: number): string => `hot:${base + i + 1}`;
      for (const b of await pageBatches(deps, options, page, at, `hot:${offset}`)) {
        yield { ...b, seq: seq++ };
      }
    }
  }
  // The next page is read while this page's batches are embedded (on a reader thread, or here from an
  // idle turn of the event loop), so a worker asking for a batch seldom waits for the database.
  let next = scanPage(deps, options, pages);
  for (;;) {
    const page = await next;
    if (page === null) return;
    next = scanPage(deps, options, pages);
    void next.catch(() => undefined); // a pass stopped early never awaits its prefetch
    if (options.useQueue) yield* queueBatches(deps, options, claimed);
    for (const b of page) yield { ...b, seq: seq++ };
  }
}

/** Where the scan phase of a pass starts: after the cursor's id, or from the beginning. */
export function scanStart(cursor: string): string {
  const parsed = parseCursor(cursor);
  return parsed.phase === 'scan' ? parsed.after : '';
}

async function scanPage(
  deps: BatchSourceDeps,
  options: BatchSourceOptions,
  pages: SourcePages,
): Promise<Omit<BackfillBatch, 'seq'>[] | null> {
  const page = await pages.next();
  if (page.length === 0) return null;
  const last = (page[page.length - 1] as SourceDocument).id;
  const at = (i: number): string => `scan:${(page[i] as SourceDocument).id}`;
  return pageBatches(deps, options, page, at, `scan:${last}`);
}

/** Queued sources not yet claimed by a batch in flight, as priority batches. */
async function* queueBatches(
  deps: BatchSourceDeps,
  options: BatchSourceOptions,
  claimed: Set<string>,
): AsyncGenerator<BackfillBatch> {
  for (;;) {
    const ids = (await deps.jobs.peekQueue(options.namespace, options.batchSize + claimed.size)).filter(
      (id) => !claimed.has(id),
    );
    if (ids.length === 0) return;
    const batch = await priorityBatch(deps, options, ids.slice(0, options.batchSize));
    for (const id of batch.ack) claimed.add(id);
    yield batch;
  }
}

/** Sources named by id (queued or dead-lettered), looked up at their newest version. */
export async function priorityBatch(
  deps: BatchSourceDeps,
  options: Pick<BatchSourceOptions, 'collection' | 'namespace'>,
  ids: readonly string[],
): Promise<BackfillBatch> {
  const found = await deps.sources.getMany(options.collection, ids);
  const heads = await deps.store.heads(options.namespace, ids);
  const docs: SourceDocument[] = [];
  const deletes: SourceDelete[] = [];
  for (const doc of found.values()) {
    const action = actionFor(doc, heads.get(doc.id));
    if (action === 'embed') docs.push(doc);
    else if (action === 'delete') deletes.push({ sourceId: doc.id, sourceVersion: doc.version });
  }
  return {
    seq: null,
    docs,
    deletes,
    scanned: 0,
    current: ids.length - docs.length - deletes.length,
    cursor: null,
    ack: [...ids],
  };
}

/**
 * Plans one page of a scan (the local cursor's, or a queue range's): one `heads` lookup for the page, then
 * each source is classified (`actionFor`) and the page split into batches by count and tokens; each
 * batch's cursor is the last source it covers, the page's last batch's is `endCursor`.
 */
export async function pageBatches(
  deps: Pick<BatchSourceDeps, 'store'>,
  options: Pick<BatchSourceOptions, 'namespace' | 'batchSize' | 'maxBatchTokens' | 'countTokens'>,
  page: readonly SourceDocument[],
  cursorAt: (index: number) => string,
  endCursor: string,
): Promise<Omit<BackfillBatch, 'seq'>[]> {
  const heads = await deps.store.heads(
    options.namespace,
    page.map((d) => d.id),
  );
  const out: Omit<BackfillBatch, 'seq'>[] = [];
  let docs: SourceDocument[] = [];
  let deletes: SourceDelete[] = [];
  let scanned = 0;
  let current = 0;
  let tokens = 0;
  const flush = (cursor: string): void => {
    out.push({ docs, deletes, scanned, current, cursor, ack: [] });
    docs = [];
    deletes = [];
    scanned = 0;
    current = 0;
    tokens = 0;
  };
  page.forEach((doc, i) => {
    scanned++;
    const action = actionFor(doc, heads.get(doc.id));
    if (action === 'current') current++;
    else if (action === 'delete') deletes.push({ sourceId: doc.id, sourceVersion: doc.version });
    else {
      docs.push(doc);
      if (options.maxBatchTokens !== null && options.countTokens) tokens += options.countTokens(doc.text);
    }
    const full =
      docs.length >= options.batchSize ||
      (options.maxBatchTokens !== null && tokens >= options.maxBatchTokens);
    if (full) flush(i === page.length - 1 ? endCursor : cursorAt(i));
  });
  if (scanned > 0 || out.length === 0) flush(endCursor);
  return out;
}

/**
 * Dead-lettered sources as priority batches (`reembed backfill retry-dead`). Sources that have since
 * been written by a dual-write, or deleted, leave the list without another embedding call.
 */
export async function* deadLetterBatches(
  deps: BatchSourceDeps,
  options: Pick<BatchSourceOptions, 'collection' | 'namespace' | 'batchSize'>,
): AsyncGenerator<BackfillBatch> {
  let after = '';
  for (;;) {
    const page = await deps.jobs.listDeadLetters(options.namespace, {
      limit: options.batchSize,
      afterSourceId: after,
    });
    if (page.length === 0) return;
    after = page[page.length - 1]?.sourceId ?? after;
    const batch = await priorityBatch(
      deps,
      options,
      page.map((d) => d.sourceId),
    );
    const pending = new Set(batch.docs.map((d) => d.id));
    await deps.jobs.clearDeadLetters(
      options.namespace,
      page.map((d) => d.sourceId).filter((id) => !pending.has(id)),
    );
    if (batch.docs.length > 0 || batch.deletes.length > 0) yield { ...batch, ack: [] };
  }
}
