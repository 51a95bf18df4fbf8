import type { AdapterRepository } from '../ports/adapters.js';
import { type Backend, requireRepository } from '../ports/backend.js';

/**
 * The backend's adapter repository, or a typed refusal naming the backends that store adapters. Its own
 * module so that `reembed adapter --help` and the list/show commands load it without the fitting code.
 */
export function requireAdapters(backend: Backend): AdapterRepository {
  return requireRepository(
    backend,
    'adapters',
    'does not store adapters. Use the SQLite or PostgreSQL backend.',
  );
}
