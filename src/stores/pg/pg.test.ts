import { describe, expect, it } from 'vitest';
import { expectCode } from '../../testing/fixtures.js';
import { testCatalog, testVectorStore } from '../../testing/index.js';
import { openPgBackend } from './backend.js';
import { describePgCatalogSpecifics } from './pg-catalog-cases.js';
import { describePgStoreSpecifics } from './pg-store-cases.js';
import { openTestBackend, PG_SKIP_LINE, PG_URL, plantRecord } from './test-support.js';

/**
 * The Postgres backend against a real PostgreSQL 15 + pgvector: the shared conformance suites, then what
 * only this backend has (storage-enforced invariants, HNSW vs exact, concurrency across connections).
 */
describe('pg backend preflight', () => {
  it('names the server, hides the password and says how to provision when it cannot connect', async () => {
    const error = await expectCode(
      openPgBackend({ url: 'postgres://reembed:secret@127.0.0.1:1/reembed', schema: 't_never' }),
      'STORE_FAILED',
    );
    expect(error.message).toContain('127.0.0.1:1');
    expect(error.message).not.toContain('secret');
    expect(error.message).toContain('scripts/provision-postgres.sh');
  });
});

if (!PG_URL) {
  console.warn(PG_SKIP_LINE);
  it.skip(PG_SKIP_LINE, () => undefined);
} else {
  testVectorStore({
    name: 'pg',
    create: async () => {
      const backend = await openTestBackend();
      return {
        store: backend.store,
        cleanup: () => backend.close(),
        plant: (namespace, record) => plantRecord(backend, namespace, record),
      };
    },
  });

  testCatalog({
    name: 'pg',
    create: async () => {
      const backend = await openTestBackend();
      return { catalog: backend.catalog, sources: backend.sources, cleanup: () => backend.close() };
    },
  });

  describePgCatalogSpecifics();
  describePgStoreSpecifics();
}
