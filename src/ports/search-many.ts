import type { SearchHit } from '../core/records.js';
import type { SearchRequest, VectorStore } from './vector-store.js';

/**
 * Answers many searches of one namespace: through the store's batched `searchMany` when it has one (one
 * read of the namespace for all requests), else one `search` per request, in order. Either way the i-th
 * result is what `store.search(namespace, requests[i])` answers.
 *
 * @example
 * const results = await searchMany(store, 'docs@v2', queries.map((vector) => ({ vector, fingerprint, k: 10, exact: true })));
 */
export async function searchMany(
  store: VectorStore,
  namespace: string,
  requests: readonly SearchRequest[],
): Promise<SearchHit[][]> {
  if (requests.length === 0) return [];
  if (store.searchMany) return store.searchMany(namespace, requests);
  const out: SearchHit[][] = [];
  for (const request of requests) out.push(await store.search(namespace, request));
  return out;
}
