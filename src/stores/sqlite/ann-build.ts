import type { AnnParams } from './ann-config.js';
import { AnnIndex } from './ann-index.js';
import { addSlice } from './ann-maintain.js';
import type { StatementCache } from './statements.js';
import type { MetaRow } from './store-rows.js';

/** How long one slice may hold the event loop: the slice size adapts to the measured insertion rate. */
const SLICE_MS = 50;
const FIRST_SLICE = 256;
const MIN_SLICE = 64;
const MAX_SLICE = 8_192;

export interface SlicedBuild {
  readonly sql: StatementCache;
  /** The namespace's row, read inside the slice's read transaction (throws when it was dropped). */
  readonly readMeta: () => MetaRow;
  readonly params: AnnParams;
  readonly expansionSearch: number;
  readonly threads: number;
  /** True once the store is closing: the build stops at the next slice without touching the database. */
  readonly stopped: () => boolean;
}

/**
 * Builds a namespace's HNSW index in slices of records, each read in its own read transaction, returning
 * to the event loop between slices — a build over 100,000 records takes minutes, and done in one call it
 * would hold every query and write of the process that long. Records keep committing meanwhile: the index
 * is stamped with the snapshot it started from (its `removed` count included), so the caller's catch-up
 * adds what came after the last slice and removes what was deleted behind it (`catchUp`), exactly as for
 * an index file saved long ago. Returns null when the namespace was re-created (another incarnation)
 * or the store stopped before the build ended.
 */
export async function buildInSlices(build: SlicedBuild): Promise<AnnIndex | null> {
  const { sql, readMeta } = build;
  const start = sql.read('build the ANN index', readMeta);
  const index = new AnnIndex(
    build.params,
    { incarnation: start.created_at, generation: start.generation, highKey: 0, removed: start.removed },
    build.expansionSearch,
  );
  let highKey = 0;
  let limit = FIRST_SLICE;
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    if (build.stopped()) return null;
    const began = performance.now();
    const slice = sql.read('build the ANN index', () => {
      const meta = readMeta();
      if (meta.created_at !== start.created_at) return null;
      return addSlice(sql, index, meta, highKey, limit, build.threads);
    });
    if (!slice) return null;
    highKey = slice.highKey;
    index.snapshot = { ...index.snapshot, highKey };
    if (slice.added < limit) break;
    const ms = Math.max(performance.now() - began, 0.1);
    limit = Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.round((limit * SLICE_MS) / ms)));
  }
  index.removedSinceBuild = 0;
  return index;
}
