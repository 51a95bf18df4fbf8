import { contentHash } from '../core/canonical.js';
import { isDerivedSpace } from '../core/derived-space.js';
import { ReembedError } from '../core/errors.js';
import { type Namespace, WRITABLE_STATES } from '../core/namespace.js';
import type { SourceDocument, SourceInput, SourceWrite } from '../core/records.js';
import { validateSourceInputs } from '../core/source-input.js';
import type { Backend } from '../ports/backend.js';
import { atVersion, embedSources } from './embed-sources.js';
import type { EmbedderCache } from './embedders.js';

/**
 * What an ingest does with a document whose id was deleted (tombstoned) earlier: `restore` (default) makes
 * it live again at a new version and reports it (`restored`); `skip` leaves the tombstone and counts it
 * (`skippedDeleted`); `refuse` fails the whole batch with `CONFLICT` naming the ids, writing nothing.
 * Either way a backfill never restores a deleted document by itself (invariant 5): only an ingest can.
 */
export const ON_DELETED = ['restore', 'skip', 'refuse'] as const;
export type OnDeleted = (typeof ON_DELETED)[number];

export interface IngestOptions {
  readonly signal?: AbortSignal;
  /** Line numbers of the documents (for error messages). */
  readonly lines?: readonly number[];
  /** Re-ingesting a deleted id (default `restore`, reported). */
  readonly onDeleted?: OnDeleted;
}

export interface IngestResult {
  readonly received: number;
  readonly changed: number;
  readonly unchanged: number;
  /** Previously deleted documents made live again (`onDeleted: 'restore'`), and the first of their ids. */
  readonly restored: number;
  readonly restoredIds: readonly string[];
  /** Previously deleted documents left deleted (`onDeleted: 'skip'`). */
  readonly skippedDeleted: number;
  /** Per namespace: sources written and skipped (a newer version was already there). */
  readonly namespaces: Readonly<Record<string, { written: number; skipped: number; records: number }>>;
}

export interface DeleteResult {
  readonly deleted: number;
  readonly namespaces: Readonly<Record<string, { deleted: number; skipped: number }>>;
}

/** Namespaces that receive every source write of a collection (dual-write during migrations). */
export async function writableNamespaces(backend: Backend, collection: string): Promise<Namespace[]> {
  const all = await backend.catalog.listNamespaces(collection);
  return all.filter((ns) => WRITABLE_STATES.includes(ns.state));
}

/**
 * Whether a writable namespace takes embedded writes. Two never do, and take only deletes: a derived
 * namespace (its vectors come from an adapter, never from a model: invariant 9), and a namespace frozen
 * by a bridged migration (its space's provider is gone; the new namespace takes the write natively and
 * the migration serves it from there, since it is newer).
 */
export function takesEmbeddedWrites(ns: Namespace): boolean {
  return !isDerivedSpace(ns.space) && ns.info.frozen !== true;
}

/**
 * Upserts source documents and writes them to every writable namespace of the collection.
 * Order: validate → skip unchanged → embed for every namespace → commit sources (versions) → write vectors.
 * Embedding happens before anything is committed, so bad input or a failing embedder writes nothing.
 * A crash between the source commit and the vector writes leaves records stale, never wrong: the
 * monitor reports them and `reembed backfill run` regenerates them (invariant 3).
 */
export async function ingestDocuments(
  backend: Backend,
  embedders: EmbedderCache,
  collection: string,
  input: readonly unknown[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  await backend.catalog.getCollection(collection);
  const docs = validateSourceInputs(input, options.lines);
  const current = await backend.sources.getMany(
    collection,
    docs.map((d) => d.id),
  );
  const deleted = docs.filter((d) => current.get(d.id)?.deleted === true).map((d) => d.id);
  const onDeleted = options.onDeleted ?? 'restore';
  if (deleted.length > 0 && onDeleted === 'refuse') throw deletedConflict(collection, deleted);
  const skip = onDeleted === 'skip' ? new Set(deleted) : null;
  const changed = docs.filter((d) => {
    if (skip?.has(d.id)) return false;
    const live = current.get(d.id);
    return (
      !live ||
      live.deleted ||
      live.tenant !== (d.tenant ?? null) ||
      live.contentHash !== contentHash(d.text, d.metadata ?? {})
    );
  });
  const namespaces = (await writableNamespaces(backend, collection)).filter(takesEmbeddedWrites);
  const provisional = changed.map((d) => provisionalDocument(collection, d));
  const writesByNamespace = new Map<Namespace, SourceWrite[]>();
  for (const ns of namespaces) {
    const embedder = await embedders.get(ns.space);
    writesByNamespace.set(ns, await embedSources(embedder, provisional, { signal: options.signal }));
  }
  const outcome = await backend.sources.upsert(collection, changed);
  const versions = new Map(outcome.changed.map((d) => [d.id, d.version]));
  const results: Record<string, { written: number; skipped: number; records: number }> = {};
  for (const [ns, writes] of writesByNamespace) {
    const versioned = writes
      .filter((w) => versions.has(w.sourceId))
      .map((w) => atVersion(w, versions.get(w.sourceId) as number));
    const r = await backend.store.write(ns.name, ns.space.fingerprint, versioned);
    results[ns.name] = { written: r.written, skipped: r.skipped, records: r.records };
  }
  const restored = skip ? [] : deleted.filter((id) => versions.has(id));
  return {
    received: docs.length,
    changed: outcome.changed.length,
    unchanged: docs.length - outcome.changed.length - (skip?.size ?? 0),
    restored: restored.length,
    restoredIds: restored.slice(0, RESTORED_IDS_SHOWN),
    skippedDeleted: skip?.size ?? 0,
    namespaces: results,
  };
}

const RESTORED_IDS_SHOWN = 20;

function deletedConflict(collection: string, ids: readonly string[]): ReembedError {
  const shown = ids.slice(0, 10).map((id) => `"${id}"`);
  return new ReembedError(
    'CONFLICT',
    `${ids.length} document(s) of this batch were deleted from collection "${collection}" (e.g. ${shown.join(', ')}); ` +
      'nothing was written. Re-ingest them deliberately with --deleted restore, or leave them deleted with --deleted skip.',
    { details: { collection, deleted: ids.length, ids: ids.slice(0, 100) } },
  );
}

/** Tombstones documents at the source and in every writable namespace (invariant 5). */
export async function deleteDocuments(
  backend: Backend,
  collection: string,
  ids: readonly string[],
): Promise<DeleteResult> {
  await backend.catalog.getCollection(collection);
  const tombstones = await backend.sources.delete(collection, ids);
  const deletes = tombstones.map((t) => ({ sourceId: t.id, sourceVersion: t.version }));
  const results: Record<string, { deleted: number; skipped: number }> = {};
  for (const ns of await writableNamespaces(backend, collection)) {
    const r = await backend.store.delete(ns.name, deletes);
    results[ns.name] = { deleted: r.written, skipped: r.skipped };
  }
  return { deleted: tombstones.length, namespaces: results };
}

function provisionalDocument(collection: string, d: SourceInput): SourceDocument {
  const metadata = d.metadata ?? {};
  return {
    collection,
    id: d.id,
    text: d.text,
    metadata,
    tenant: d.tenant ?? null,
    contentHash: contentHash(d.text, metadata),
    version: 0,
    deleted: false,
    updatedAt: '',
  };
}
