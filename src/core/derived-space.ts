import { ReembedError } from './errors.js';
import type { Space } from './space.js';

/**
 * Telling a derived (bridged) space from a native one, apart from the adapter model in `adapter.ts`: the
 * query and write paths ask this on every call, and this module loads no schema library.
 */

/** The provider of every derived space (an adapter's output). */
export const DERIVED_PROVIDER = 'adapter';

export function isDerivedSpace(space: Pick<Space, 'spec'>): boolean {
  return space.spec.provider === DERIVED_PROVIDER;
}

/** For a derived space: the native space its query vectors are embedded in (the adapter's target). */
export function derivedTarget(space: Pick<Space, 'spec'>): string | null {
  const target = space.spec.params.target;
  return isDerivedSpace(space) && typeof target === 'string' ? target : null;
}

/**
 * Invariant 9, at every write: a derived (bridged) vector never enters a native namespace, and nothing
 * but an adapter's output enters a derived one.
 */
export function assertWriteAllowed(
  namespace: { readonly name: string; readonly space: Pick<Space, 'name' | 'fingerprint' | 'spec'> },
  origin: 'model' | { readonly adapter: string },
): void {
  const derived = isDerivedSpace(namespace.space);
  if (origin === 'model' && derived) {
    throw new ReembedError(
      'DERIVED_VECTOR_REFUSED',
      `Refusing to write model-embedded vectors into ${namespace.name}: it holds the derived space ${namespace.space.name}, whose vectors come only from its adapter. Native re-embeds go to the native namespace of the new space.`,
      { details: { namespace: namespace.name, space: namespace.space.fingerprint } },
    );
  }
  if (origin !== 'model' && (!derived || namespace.space.spec.params.adapter !== origin.adapter)) {
    throw new ReembedError(
      'DERIVED_VECTOR_REFUSED',
      `Refusing to write vectors mapped by adapter ${origin.adapter} into ${namespace.name} (${namespace.space.name}): a derived vector never enters a native namespace (invariant 9), nor another adapter's derived one.`,
      { details: { namespace: namespace.name, space: namespace.space.fingerprint, adapter: origin.adapter } },
    );
  }
}
