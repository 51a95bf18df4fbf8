import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { describeRepositoryCases } from '../../testing/repository-suite.js';
import { SqlJobRepository } from '../sql/jobs.js';
import { SqlMigrationRepository } from '../sql/migrations.js';
import { openSqliteBackend } from '../sqlite/backend.js';
import { SqliteExecutor } from '../sqlite/executor.js';
import { PgExecutor } from './executor.js';
import { ident } from './sql.js';
import { openTestBackend, PG_SKIP_LINE, PG_URL } from './test-support.js';

/** The same repository cases on the embedded backend and on PostgreSQL. */
describeRepositoryCases('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reembed-repos-'));
  const backend = await openSqliteBackend({ path: join(dir, 'repos.db') });
  return {
    backend,
    migrations: backend.migrations,
    jobs: backend.jobs,
    raw: async (sql) => void backend.db.prepare(sql).run(),
    reopen: async () => {
      await SqlMigrationRepository.open(new SqliteExecutor(backend.statements));
      await SqlJobRepository.open(new SqliteExecutor(backend.statements));
    },
    cleanup: async () => {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

if (!PG_URL) {
  console.warn(PG_SKIP_LINE);
  it.skip(PG_SKIP_LINE, () => undefined);
} else {
  describeRepositoryCases('pg', async () => {
    const backend = await openTestBackend();
    const schema = backend.config.schema;
    return {
      backend,
      migrations: backend.migrations,
      jobs: backend.jobs,
      raw: async (sql) => {
        const client = await backend.pool.connect();
        try {
          await client.query(`SET search_path TO ${ident(schema)}`);
          await client.query(sql);
        } finally {
          await client.query('RESET search_path').catch(() => undefined);
          client.release();
        }
      },
      reopen: async () => {
        await SqlMigrationRepository.open(new PgExecutor(backend.pool, schema));
        await SqlJobRepository.open(new PgExecutor(backend.pool, schema));
      },
      cleanup: () => backend.close(),
    };
  });
}
