import type { PairedRows } from '../core/adapter-fit.js';
import { MIN_PAIRS } from '../core/adapter-fit.js';
import { ReembedError } from '../core/errors.js';
import type { Namespace } from '../core/namespace.js';
import { seededRandom } from '../core/significance.js';
import { type Backend, requireRepository } from '../ports/backend.js';
import type { StoredRecord, VectorReader } from '../ports/vector-reader.js';

/**
 * Paired samples for fitting an adapter: documents both namespaces hold at the same source version and
 * content — the new namespace's first backfill batches give them for free. A document pairs chunk by
 * chunk when both namespaces cut it into the same chunks (same texts), and otherwise as the mean of its
 * chunks in each space.
 */
export interface DocumentPairs {
  /** Paired rows, `source` in the old namespace's space, `target` in the new one's. */
  readonly old: Float32Array;
  readonly new: Float32Array;
  readonly oldDimension: number;
  readonly newDimension: number;
  readonly rows: number;
  /** The documents sampled, sorted. */
  readonly documents: readonly string[];
  /** Newest source version among them (the collection version the sample reflects). */
  readonly collectionVersion: number;
  /** Documents both namespaces hold at the same version and content (the sample's population). */
  readonly population: number;
}

export interface PairOptions {
  /** Most documents to sample (default 2,000). */
  readonly limit?: number;
  readonly seed?: number;
  /** Documents never to sample (e.g. to keep them out for recovery measurements). */
  readonly exclude?: ReadonlySet<string>;
  readonly signal?: AbortSignal;
}

const PAGE = 2_000;

export function requireVectors(backend: Backend): VectorReader {
  return requireRepository(
    backend,
    'vectors',
    'cannot read stored vectors back, which adapters need. Use the SQLite or PostgreSQL backend.',
  );
}

/** Ids both namespaces hold at the same version and content hash, in id order (streamed by pages). */
export async function commonDocuments(
  backend: Backend,
  old: Namespace,
  next: Namespace,
  visit: (id: string, version: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  let afterId: string | undefined;
  for (;;) {
    if (signal?.aborted) throw new ReembedError('ABORTED', 'Sampling pairs was aborted.');
    const heads = await backend.store.scanHeads(next.name, { limit: PAGE, ...(afterId ? { afterId } : {}) });
    if (heads.length === 0) return;
    afterId = heads[heads.length - 1]?.sourceId;
    const live = heads.filter((h) => !h.deleted);
    const olds = await backend.store.heads(
      old.name,
      live.map((h) => h.sourceId),
    );
    for (const h of live) {
      const o = olds.get(h.sourceId);
      if (o && !o.deleted && o.sourceVersion === h.sourceVersion && o.contentHash === h.contentHash) {
        visit(h.sourceId, h.sourceVersion);
      }
    }
  }
}

/**
 * A seeded sample (reservoir, so one pass in bounded memory) of documents held identically by both
 * namespaces, with their vectors paired. Refuses with `INVALID_INPUT` when fewer than the minimum pairs
 * exist, saying how many documents to embed first.
 */
export async function samplePairs(
  backend: Backend,
  old: Namespace,
  next: Namespace,
  options: PairOptions = {},
): Promise<DocumentPairs> {
  const reader = requireVectors(backend);
  const limit = Math.max(1, options.limit ?? 2_000);
  const random = seededRandom(options.seed ?? 1);
  const reservoir: { id: string; version: number }[] = [];
  let population = 0;
  await commonDocuments(
    backend,
    old,
    next,
    (id, version) => {
      if (options.exclude?.has(id)) return;
      population++;
      if (reservoir.length < limit) reservoir.push({ id, version });
      else {
        const j = Math.floor(random() * population);
        if (j < limit) reservoir[j] = { id, version };
      }
    },
    options.signal,
  );
  if (population < MIN_PAIRS) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Only ${population} documents are held at the same version by ${old.name} and ${next.name}; an adapter needs at least ${MIN_PAIRS}. Embed a sample in the new space first, e.g. reembed backfill run ${next.name} --max-batches 4 (a backfill's first batches give pairs).`,
      { details: { old: old.name, new: next.name, pairs: population, minimum: MIN_PAIRS } },
    );
  }
  const ids = reservoir.map((r) => r.id).sort();
  const [oldRecords, newRecords] = await Promise.all([
    reader.read(old.name, ids),
    reader.read(next.name, ids),
  ]);
  const pairs = pairRecords(groupBySource(oldRecords), groupBySource(newRecords), ids);
  return {
    ...pairs,
    oldDimension: old.space.spec.dimension,
    newDimension: next.space.spec.dimension,
    documents: ids,
    collectionVersion: reservoir.reduce((m, r) => Math.max(m, r.version), 0),
    population,
  };
}

function groupBySource(records: readonly StoredRecord[]): Map<string, StoredRecord[]> {
  const out = new Map<string, StoredRecord[]>();
  for (const r of records) {
    const list = out.get(r.sourceId);
    if (list) list.push(r);
    else out.set(r.sourceId, [r]);
  }
  return out;
}

function pairRecords(
  olds: Map<string, StoredRecord[]>,
  news: Map<string, StoredRecord[]>,
  ids: readonly string[],
): { old: Float32Array; new: Float32Array; rows: number } {
  const a: Float32Array[] = [];
  const b: Float32Array[] = [];
  for (const id of ids) {
    const x = olds.get(id);
    const y = news.get(id);
    if (!x || !y || x.length === 0 || y.length === 0) continue;
    const sameChunks = x.length === y.length && x.every((r, i) => r.text === y[i]?.text);
    if (sameChunks) {
      x.forEach((r, i) => {
        a.push(r.vector);
        b.push((y[i] as StoredRecord).vector);
      });
    } else {
      a.push(meanOf(x));
      b.push(meanOf(y));
    }
  }
  return { old: stack(a), new: stack(b), rows: a.length };
}

function meanOf(records: readonly StoredRecord[]): Float32Array {
  const dim = records[0]?.vector.length ?? 0;
  const out = new Float32Array(dim);
  for (const r of records)
    for (let j = 0; j < dim; j++) out[j] = (out[j] as number) + (r.vector[j] as number);
  let norm = 0;
  for (let j = 0; j < dim; j++) norm += (out[j] as number) ** 2;
  const f = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let j = 0; j < dim; j++) out[j] = (out[j] as number) * f;
  return out;
}

function stack(rows: readonly Float32Array[]): Float32Array {
  const dim = rows[0]?.length ?? 0;
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    out.set(r, i * dim);
  });
  return out;
}

/** Pairs oriented for a direction: a query bridge maps new → old, a corpus bridge old → new. */
export function oriented(pairs: DocumentPairs, direction: 'query' | 'corpus'): PairedRows {
  return direction === 'query'
    ? {
        source: pairs.new,
        target: pairs.old,
        sourceDimension: pairs.newDimension,
        targetDimension: pairs.oldDimension,
        count: pairs.rows,
      }
    : {
        source: pairs.old,
        target: pairs.new,
        sourceDimension: pairs.oldDimension,
        targetDimension: pairs.newDimension,
        count: pairs.rows,
      };
}
