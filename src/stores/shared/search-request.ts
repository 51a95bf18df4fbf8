import { ReembedError } from '../../core/errors.js';
import type { SearchRequest } from '../../ports/vector-store.js';
import { compileFilter, type RowPredicate } from './filter.js';

/**
 * Checks a search request's shape before the namespace is looked up (every store): k, a query vector and a
 * filter that compiles; returns the compiled filter (`null`: no constraint) for stores that filter rows
 * themselves. A bad request in a batch refuses the whole call.
 */
export function checkSearchRequest(request: SearchRequest): RowPredicate | null {
  const k = request.k;
  if (!Number.isInteger(k) || k < 0) {
    throw new ReembedError('INVALID_INPUT', `Search k must be a non-negative integer, got ${k}.`, {
      details: { field: 'k' },
    });
  }
  if (!request.vector || typeof request.vector.length !== 'number') {
    throw new ReembedError('INVALID_INPUT', 'Search needs a query vector (Float32Array).', {
      details: { field: 'vector' },
    });
  }
  return compileFilter(request.filter);
}
