import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrafficRepository } from '../ports/traffic.js';
import { testCoverageSampleRepository } from '../testing/coverage-sample-suite.js';
import { testGoldenSetRepository } from '../testing/golden-set-suite.js';
import { type TrafficHarness, testTrafficRepository } from '../testing/traffic-suite.js';
import { type OpenPgBackendOptions, openPgBackend, type PgBackend } from './pg/backend.js';
import { PG_SKIP_LINE, PG_URL, uniqueSchema } from './pg/test-support.js';
import { openSqliteBackend, type SqliteBackend } from './sqlite/backend.js';

/**
 * Golden sets, traffic statistics and coverage samples: the same conformance suites on the embedded
 * backend and on PostgreSQL, each repository taken from the `Backend` that declares it.
 */
async function sqlite(): Promise<{ backend: SqliteBackend; path: string; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'reembed-repos-'));
  const path = join(dir, 'r.db');
  const backend = await openSqliteBackend({ path });
  return {
    backend,
    path,
    cleanup: async () => {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pgOptions = (): OpenPgBackendOptions => ({
  url: PG_URL as string,
  schema: uniqueSchema(),
  dropSchemaOnClose: true,
  poolMax: 4,
});
const pg = (): Promise<PgBackend> => openPgBackend(pgOptions());
const pgSkip = PG_URL ? {} : { skip: PG_SKIP_LINE };

testGoldenSetRepository({
  name: 'sqlite',
  create: async () => {
    const s = await sqlite();
    return {
      goldenSets: s.backend.goldenSets,
      catalog: s.backend.catalog,
      raw: async (sql) => void s.backend.db.prepare(sql).run(),
      count: async (sql) => (s.backend.db.prepare(sql).get() as { n: number }).n,
      table: (name) => name,
      cleanup: s.cleanup,
    };
  },
});

testGoldenSetRepository({
  name: 'pg',
  ...pgSkip,
  create: async () => {
    const backend = await pg();
    return {
      goldenSets: backend.goldenSets,
      catalog: backend.catalog,
      raw: async (sql) => void (await backend.pool.query(sql)),
      count: async (sql) => Number((await backend.pool.query<{ n: string }>(sql)).rows[0]?.n),
      table: (name) => `"${backend.config.schema}".${name}`,
      cleanup: () => backend.close(),
    };
  },
});

type TrafficBackend = { traffic: TrafficRepository; close(): Promise<void> };

/** A traffic harness whose `other` opens the same storage again (another process's recorder). */
function trafficHarness(
  backend: TrafficBackend,
  reopen: () => Promise<TrafficBackend>,
  cleanup: () => Promise<void>,
): TrafficHarness {
  const others: TrafficBackend[] = [];
  return {
    traffic: backend.traffic,
    other: async () => {
      const other = await reopen();
      others.push(other);
      return other.traffic;
    },
    cleanup: async () => {
      for (const o of others) await o.close();
      await cleanup();
    },
  };
}

testTrafficRepository({
  name: 'sqlite',
  create: async () => {
    const s = await sqlite();
    return trafficHarness(s.backend, () => openSqliteBackend({ path: s.path }), s.cleanup);
  },
});

testTrafficRepository({
  name: 'pg',
  ...pgSkip,
  create: async () => {
    const options = pgOptions();
    const backend = await openPgBackend(options);
    const reopen = () => openPgBackend({ ...options, dropSchemaOnClose: false });
    return trafficHarness(backend, reopen, () => backend.close());
  },
});

testCoverageSampleRepository({
  name: 'sqlite',
  create: async () => {
    const s = await sqlite();
    return { samples: s.backend.coverageSamples, cleanup: s.cleanup };
  },
});

testCoverageSampleRepository({
  name: 'pg',
  ...pgSkip,
  create: async () => {
    const backend = await pg();
    return { samples: backend.coverageSamples, cleanup: () => backend.close() };
  },
});
