import { assertWriteAllowed, derivedSpace, type LoadedAdapter } from '../core/adapter.js';
import { mapRows } from '../core/adapter-map.js';
import { ReembedError } from '../core/errors.js';
import { type Namespace, namespaceName } from '../core/namespace.js';
import type { ChunkVector, SourceWrite } from '../core/records.js';
import type { Space } from '../core/space.js';
import type { Backend } from '../ports/backend.js';
import type { StoredRecord } from '../ports/vector-reader.js';
import { requireAdapters } from './fit.js';
import { requireVectors } from './pairs.js';
import { preparedMapOf } from './serving.js';

export interface CorpusBridgeOptions {
  /** Sources read, mapped and written per batch (default 1,000). */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: { readonly mapped: number; readonly total: number }) => void;
}

export interface CorpusBridgeResult {
  readonly namespace: Namespace;
  /** Sources written (mapped) by this call; sources already held at their version are skipped. */
  readonly written: number;
  readonly skipped: number;
  readonly records: number;
  readonly seconds: number;
}

/** What building a derived namespace needs of an app. */
export interface CorpusApp {
  readonly backend: Backend;
  readonly actor: string;
  createNamespace(
    collection: string,
    space: Space,
    state: Namespace['state'],
    createdFrom?: string | null,
  ): Promise<Namespace>;
}

/**
 * The derived namespace of a corpus adapter: its name, and whether it exists. Its space is registered
 * in the catalog like any other (with provider `adapter`), so it has its own fingerprint and namespace.
 */
export async function derivedNamespaceOf(
  backend: Backend,
  loaded: LoadedAdapter,
): Promise<{ name: string; space: Space }> {
  const { adapter } = loaded;
  const [source, target] = await Promise.all([
    backend.catalog.getSpace(adapter.spec.source.fingerprint),
    backend.catalog.getSpace(adapter.spec.target.fingerprint),
  ]);
  const space = derivedSpace(adapter, target, source);
  return { name: namespaceName(adapter.spec.collection, space), space };
}

/**
 * Maps the old namespace's stored vectors through a corpus adapter into its derived namespace
 * (`collection@bridge.<adapter>`): no provider is called. Records keep their source's id, version,
 * content hash, chunk, tenant and metadata, so versioned writes, deletes and coverage work as in any
 * namespace; re-running skips what is already mapped. Only this function writes derived vectors, and
 * only into the adapter's own derived namespace (invariant 9).
 *
 * @example
 * const { namespace } = await buildCorpusBridge(app, 'lsa-256-to-minilm.1');
 */
export async function buildCorpusBridge(
  app: CorpusApp,
  adapterRef: string,
  options: CorpusBridgeOptions = {},
): Promise<CorpusBridgeResult> {
  const started = performance.now();
  const loaded = await requireAdapters(app.backend).load(adapterRef);
  const { adapter } = loaded;
  if (adapter.spec.direction !== 'corpus') {
    throw new ReembedError(
      'INVALID_INPUT',
      `Adapter ${adapter.name} is a query bridge (it maps queries of ${adapter.spec.source.name} into ${adapter.spec.target.name}); a corpus bridge needs an adapter fitted with --direction corpus.`,
      { details: { adapter: adapter.name, direction: adapter.spec.direction } },
    );
  }
  const reader = requireVectors(app.backend);
  const sourceSpace = await app.backend.catalog.getSpace(adapter.spec.source.fingerprint);
  const source = await app.backend.catalog.getNamespace(namespaceName(adapter.spec.collection, sourceSpace));
  const { name, space } = await derivedNamespaceOf(app.backend, loaded);
  await app.backend.catalog.addSpace(space, app.actor);
  const existing = (await app.backend.catalog.listNamespaces(adapter.spec.collection)).find(
    (n) => n.name === name,
  );
  const namespace =
    existing ?? (await app.createNamespace(adapter.spec.collection, space, 'building', source.name));
  assertWriteAllowed(namespace, { adapter: adapter.fingerprint });
  const total = (await app.backend.store.stats(source.name)).sources;
  const batchSize = Math.max(1, options.batchSize ?? 1_000);
  let afterId: string | undefined;
  let mapped = 0;
  let written = 0;
  let skipped = 0;
  let records = 0;
  for (;;) {
    if (options.signal?.aborted)
      throw new ReembedError('ABORTED', `Mapping into ${name} was aborted; run it again to resume.`);
    const page = await reader.scan(source.name, { limit: batchSize, ...(afterId ? { afterId } : {}) });
    if (page.length === 0) break;
    afterId = page[page.length - 1]?.sourceId;
    const writes = mapRecords(loaded, page);
    const result = await app.backend.store.write(name, space.fingerprint, writes);
    written += result.written;
    skipped += result.skipped;
    records += result.records;
    mapped += writes.length;
    options.onProgress?.({ mapped, total });
  }
  const ready =
    namespace.state === 'building'
      ? await app.backend.catalog.setNamespaceState(name, 'active', app.actor)
      : await app.backend.catalog.getNamespace(name);
  return { namespace: ready, written, skipped, records, seconds: (performance.now() - started) / 1000 };
}

/** One versioned write per source: its records' vectors mapped (in one block), everything else kept. */
export function mapRecords(loaded: LoadedAdapter, page: readonly StoredRecord[]): SourceWrite[] {
  const p = loaded.map.inputDimension;
  const q = loaded.map.outputDimension;
  const input = new Float32Array(page.length * p);
  page.forEach((r, i) => {
    input.set(r.vector, i * p);
  });
  const output = mapRows(
    preparedMapOf(loaded),
    input,
    page.length,
    new Float32Array(page.length * q),
    loaded.adapter.spec.normalise,
  );
  const out: SourceWrite[] = [];
  let current: { head: StoredRecord; chunks: ChunkVector[] } | null = null;
  const flush = (): void => {
    if (!current) return;
    const { head, chunks } = current;
    out.push({
      sourceId: head.sourceId,
      sourceVersion: head.sourceVersion,
      contentHash: head.contentHash,
      tenant: head.tenant,
      metadata: head.metadata,
      chunks,
    });
  };
  page.forEach((r, i) => {
    if (current?.head.sourceId !== r.sourceId) {
      flush();
      current = { head: r, chunks: [] };
    }
    current.chunks.push({
      chunkId: r.chunkId,
      index: r.chunkIndex,
      text: r.text,
      vector: output.subarray(i * q, (i + 1) * q),
    });
  });
  flush();
  return out;
}
