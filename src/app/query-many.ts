import { isDerivedSpace } from '../core/derived-space.js';
import { queryText } from '../core/pipeline.js';
import type { SearchHit } from '../core/records.js';
import { assertQueryVector, validateVector } from '../core/vector.js';
import type { Backend } from '../ports/backend.js';
import { searchMany } from '../ports/search-many.js';
import type { EmbedderCache } from './embedders.js';
import { collapseBySource, type QueryEngine, type ResultHit } from './query.js';

/** One text query of a namespace in a batch: `k` results, searched exactly when `exact`. */
export interface NamespaceTextQuery {
  readonly text: string;
  readonly k: number;
  readonly exact?: boolean;
}

/** The hits `queryNamespace` returns for a request, or the error it throws. */
export type NamespaceAnswer = { readonly hits: readonly ResultHit[] } | { readonly error: unknown };

export interface QueryManyApp {
  readonly backend: Backend;
  readonly embedders: EmbedderCache;
  readonly queries: QueryEngine;
}

/**
 * Many text queries of one namespace, as an evaluation reads a golden set: the texts are embedded in
 * batches of the embedder's `maxBatchSize` (one request per batch for a remote model, not one per query)
 * and searched in one `searchMany` call. Each answer is what `queryNamespace` gives for that request alone:
 * a query this path cannot answer as given (empty text, a vector the model leaves all zeros, a failed
 * embedding batch) and every query of a derived (bridged) namespace is passed to `queryNamespace` itself,
 * so it gets that path's answer or error.
 */
export async function queryNamespaceMany(
  app: QueryManyApp,
  name: string,
  requests: readonly NamespaceTextQuery[],
): Promise<NamespaceAnswer[]> {
  const one = async (request: NamespaceTextQuery): Promise<NamespaceAnswer> => {
    try {
      return { hits: (await app.queries.queryNamespace(name, request)).hits };
    } catch (error) {
      return { error };
    }
  };
  const ns = await app.backend.catalog.getNamespace(name);
  const out: (NamespaceAnswer | undefined)[] = new Array(requests.length);
  const batchable: number[] = [];
  requests.forEach((r, i) => {
    const plain = !isDerivedSpace(ns.space) && Number.isInteger(r.k) && r.k >= 1 && r.k <= 10_000;
    if (plain && typeof r.text === 'string' && r.text.trim().length > 0) batchable.push(i);
  });
  const vectors = new Map<number, Float32Array>();
  if (batchable.length > 0) {
    const embedder = await app.embedders.get(ns.space);
    const size = Math.max(1, embedder.maxBatchSize);
    for (let start = 0; start < batchable.length; start += size) {
      const batch = batchable.slice(start, start + size);
      let embedded: Float32Array[];
      try {
        embedded = await embedder.embed(
          batch.map((i) => queryText(ns.space.spec, (requests[i] as NamespaceTextQuery).text)),
          { inputType: 'query' },
        );
      } catch {
        continue; // each of them is asked again alone below, and gets that call's error
      }
      batch.forEach((i, n) => {
        const vector = embedded[n];
        if (!vector) return;
        try {
          validateVector(vector, ns.space.spec.dimension, 'query');
          assertQueryVector(vector, ns.space.spec.metric, 'query');
          vectors.set(i, vector);
        } catch {
          // left to `queryNamespace`, whose error names the space and what to do
        }
      });
    }
  }
  const ready = batchable.filter((i) => vectors.has(i));
  const chunked = ns.space.spec.chunker.kind !== 'none';
  const searched = await searchMany(
    app.backend.store,
    ns.name,
    ready.map((i) => {
      const r = requests[i] as NamespaceTextQuery;
      return {
        vector: vectors.get(i) as Float32Array,
        fingerprint: ns.space.fingerprint,
        k: chunked ? r.k * 4 : r.k,
        ...(r.exact ? { exact: true } : {}),
      };
    }),
  );
  ready.forEach((i, n) => {
    const k = (requests[i] as NamespaceTextQuery).k;
    out[i] = {
      hits: collapseBySource(searched[n] as SearchHit[], k).map((h) => ({ ...h, namespace: ns.name })),
    };
  });
  for (let i = 0; i < requests.length; i++) out[i] ??= await one(requests[i] as NamespaceTextQuery);
  return out as NamespaceAnswer[];
}
