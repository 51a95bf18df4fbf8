import { afterEach } from 'vitest';
import type { SqliteAnnOptions } from './ann-config.js';
import { openSqliteBackend, type SqliteBackend } from './backend.js';

/**
 * Backends a test group opens on files (several on one file, as separate processes would), all closed
 * after each test. Call inside a `describe`.
 */
export function useSqliteBackends(
  defaults: { ann?: SqliteAnnOptions } = {},
): (path: string, ann?: SqliteAnnOptions) => Promise<SqliteBackend> {
  const open: SqliteBackend[] = [];
  afterEach(async () => {
    for (const backend of open.splice(0)) await backend.close();
  });
  return async (path, ann = defaults.ann) => {
    const backend = await openSqliteBackend(ann === undefined ? { path } : { path, ann });
    open.push(backend);
    return backend;
  };
}
