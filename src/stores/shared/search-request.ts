import { ReembedError } from '../../core/errors.js';
import type { SearchRequest } from '../../ports/vector-store.js';
import { compileFilter } from './filter.js';

/**
 * Checks a search request's shape before the namespace is looked up (every store): k, a query vector and a
 * filter that compiles. A bad request in a batch refuses the whole call.
 */
export function checkSearchRequest(request: SearchRequest): void {
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
  compileFilter(request.filter);
}
