import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testProbeSetRepository } from '../testing/probe-set-suite.js';
import { openPgBackend } from './pg/backend.js';
import { PG_SKIP_LINE, PG_URL, uniqueSchema } from './pg/test-support.js';
import { openSqliteBackend } from './sqlite/backend.js';

/** The same probe-set conformance suite on the embedded backend and on PostgreSQL. */
testProbeSetRepository({
  name: 'sqlite',
  create: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reembed-probes-'));
    const backend = await openSqliteBackend({ path: join(dir, 'p.db') });
    return {
      probes: backend.probes,
      catalog: backend.catalog,
      raw: async (sql) => void backend.db.prepare(sql).run(),
      queriesTable: 'probe_queries',
      cleanup: async () => {
        await backend.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

testProbeSetRepository({
  name: 'pg',
  ...(PG_URL ? {} : { skip: PG_SKIP_LINE }),
  create: async () => {
    const backend = await openPgBackend({
      url: PG_URL as string,
      schema: uniqueSchema(),
      dropSchemaOnClose: true,
      poolMax: 4,
    });
    return {
      probes: backend.probes,
      catalog: backend.catalog,
      raw: async (sql) => void (await backend.pool.query(sql)),
      queriesTable: `"${backend.config.schema}".probe_queries`,
      cleanup: () => backend.close(),
    };
  },
});
