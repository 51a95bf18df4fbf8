import { ReembedError } from '../../core/errors.js';
import type { NamespaceDescriptor } from '../../ports/vector-store.js';

/**
 * Checks and errors every vector store runs on its namespaces, one wording for all backends: a missing
 * namespace, a name re-created for another space, a bad `scanHeads` page.
 */

/** The fields that fix a namespace's space: a name holds one descriptor of these, for good (invariant 1). */
const SPACE_FIELDS = ['fingerprint', 'spaceName', 'dimension', 'metric'] as const;

/**
 * `createNamespace` is idempotent for the descriptor the name already holds and refuses any other
 * (`SPACE_MISMATCH`: a new space needs a new namespace).
 */
export function assertReusable(held: NamespaceDescriptor, wanted: NamespaceDescriptor): void {
  if (SPACE_FIELDS.every((field) => held[field] === wanted[field])) return;
  throw new ReembedError(
    'SPACE_MISMATCH',
    `Namespace "${wanted.name}" already exists for space ${held.spaceName} (${held.fingerprint}, ${held.dimension}d ${held.metric}); refusing to reuse it for ${wanted.spaceName} (${wanted.fingerprint}, ${wanted.dimension}d ${wanted.metric}). A new space needs a new namespace.`,
    { details: { namespace: wanted.name, expected: held.fingerprint, actual: wanted.fingerprint } },
  );
}

export function namespaceMissing(name: string): ReembedError {
  return new ReembedError(
    'NOT_FOUND',
    `Namespace "${name}" does not exist in the vector store. Create it first (it is created with the catalog namespace).`,
    { details: { namespace: name } },
  );
}

/** `scanHeads` pages by a positive integer `limit`. */
export function checkScanLimit(limit: number): void {
  if (Number.isInteger(limit) && limit >= 1) return;
  throw new ReembedError('INVALID_INPUT', 'scanHeads limit must be a positive integer.', {
    details: { field: 'limit' },
  });
}
