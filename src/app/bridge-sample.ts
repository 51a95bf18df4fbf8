import type { CorpusApp } from '../bridge/corpus.js';
import { bridgeNamespaces } from '../bridge/fit.js';
import { commonDocuments } from '../bridge/pairs.js';
import { ReembedError } from '../core/errors.js';
import { type Namespace, namespaceName } from '../core/namespace.js';
import { seededRandom } from '../core/significance.js';
import { embedSources } from './embed-sources.js';
import type { EmbedderCache } from './embedders.js';

/** What embedding a paired sample needs of an app. */
export interface SampleApp extends CorpusApp {
  readonly embedders: EmbedderCache;
}

export interface EmbedSampleOptions {
  readonly collection: string;
  /** The old space: the collection's namespace in it must exist (its stored vectors are one side of each pair). */
  readonly from: string;
  /** The new space: its namespace is created (state `building`) when missing. */
  readonly to: string;
  /** Documents both namespaces should hold afterwards (at their current version). */
  readonly count: number;
  readonly seed?: number;
  /** Documents embedded per provider call batch (default 64). */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { done: number; total: number }) => void;
}

export interface EmbedSampleResult {
  readonly namespace: Namespace;
  /** Documents held by both before. */
  readonly held: number;
  /** Documents embedded now with the new model. */
  readonly embedded: number;
}

/**
 * A dedicated paired sample for fitting an adapter: embeds randomly chosen documents (seeded) with the new
 * model into the collection's namespace in the new space until both namespaces hold `count` of them — the
 * same records a backfill would write, so a migration started later skips them. Only the new model is
 * called (the old side of each pair is the old namespace's stored vector), so this works after the old
 * provider is gone. Resumable: what is already held counts.
 *
 * @example
 * await embedSample(app, { collection: 'docs', from: 'lsa', to: 'minilm', count: 1000 });
 */
export async function embedSample(app: SampleApp, options: EmbedSampleOptions): Promise<EmbedSampleResult> {
  if (!Number.isInteger(options.count) || options.count < 1) {
    throw new ReembedError(
      'INVALID_INPUT',
      `The sample size must be a positive integer, not ${options.count}.`,
      {
        details: { count: options.count },
      },
    );
  }
  const { backend } = app;
  const [oldSpace, newSpace] = await Promise.all([
    backend.catalog.getSpace(options.from),
    backend.catalog.getSpace(options.to),
  ]);
  const names = (await backend.catalog.listNamespaces(options.collection)).map((n) => n.name);
  const nextName = namespaceName(options.collection, newSpace);
  if (!names.includes(nextName)) {
    const old = await backend.catalog.getNamespace(namespaceName(options.collection, oldSpace));
    await app.createNamespace(options.collection, newSpace, 'building', old.name);
  }
  const { old, next } = await bridgeNamespaces(backend, options.collection, options.from, options.to);
  const embedder = await app.embedders.get(next.space);
  const paired = new Set<string>();
  await commonDocuments(backend, old, next, (id) => paired.add(id), options.signal);
  const want = Math.max(0, options.count - paired.size);
  if (want === 0) return { namespace: next, held: paired.size, embedded: 0 };
  // Candidates: live sources the old namespace holds at their current version, not paired yet (reservoir).
  const random = seededRandom(options.seed ?? 1);
  const reservoir: string[] = [];
  let seen = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await backend.sources.scan(options.collection, {
      limit: 1_000,
      ...(afterId ? { afterId } : {}),
    });
    if (page.length === 0) break;
    afterId = page[page.length - 1]?.id;
    const heads = await backend.store.heads(
      old.name,
      page.map((d) => d.id),
    );
    for (const d of page) {
      const h = heads.get(d.id);
      if (paired.has(d.id) || !h || h.deleted || h.sourceVersion !== d.version) continue;
      seen++;
      if (reservoir.length < want) reservoir.push(d.id);
      else {
        const j = Math.floor(random() * seen);
        if (j < want) reservoir[j] = d.id;
      }
    }
  }
  reservoir.sort();
  const batch = Math.max(1, options.batchSize ?? 64);
  let embedded = 0;
  for (let i = 0; i < reservoir.length; i += batch) {
    if (options.signal?.aborted) {
      throw new ReembedError(
        'ABORTED',
        `Embedding the sample was aborted after ${embedded} documents; run it again to resume.`,
      );
    }
    const docs = [
      ...(await backend.sources.getMany(options.collection, reservoir.slice(i, i + batch))).values(),
    ];
    const writes = await embedSources(embedder, docs, options.signal ? { signal: options.signal } : {});
    await backend.store.write(next.name, next.space.fingerprint, writes);
    embedded += docs.length;
    options.onProgress?.({ done: embedded, total: reservoir.length });
  }
  return { namespace: next, held: paired.size, embedded };
}
