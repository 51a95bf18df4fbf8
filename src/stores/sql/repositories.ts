import type { Clock } from '../../ports/clock.js';
import { ADAPTERS, SqlAdapterRepository } from './adapters.js';
import { API_KEYS, SqlApiKeyRepository } from './api-keys.js';
import { COVERAGE_SAMPLES, SqlCoverageSampleRepository } from './coverage-samples.js';
import type { SqlExecutor } from './executor.js';
import { GOLDEN, openSqlGoldenSets, type SqlGoldenSetRepository } from './golden.js';
import { JOBS, SqlJobRepository } from './jobs.js';
import { MIGRATIONS, SqlMigrationRepository } from './migrations.js';
import { openSqlProbeSets, PROBES, type SqlProbeSetRepository } from './probes.js';
import { SqlTrafficRepository, TRAFFIC } from './traffic.js';

/** Every schema component of the SQL repositories, in install order (migrations before jobs). */
export const SQL_COMPONENTS = [
  MIGRATIONS,
  JOBS,
  ADAPTERS,
  API_KEYS,
  PROBES,
  GOLDEN,
  TRAFFIC,
  COVERAGE_SAMPLES,
];

/** The repositories both SQL backends (SQLite, PostgreSQL) run over their `SqlExecutor`. */
export interface SqlRepositories {
  readonly migrations: SqlMigrationRepository;
  readonly jobs: SqlJobRepository;
  readonly adapters: SqlAdapterRepository;
  readonly apiKeys: SqlApiKeyRepository;
  readonly probes: SqlProbeSetRepository;
  readonly goldenSets: SqlGoldenSetRepository;
  readonly traffic: SqlTrafficRepository;
  readonly coverageSamples: SqlCoverageSampleRepository;
}

/**
 * Installs the components (idempotent) and opens every SQL repository over `db`, the same set on both
 * backends. `externalChanges` is the API keys' change counter (see `SqlApiKeyRepository.open`).
 */
export async function openSqlRepositories(
  db: SqlExecutor,
  options: { clock: Clock; externalChanges?: () => number },
): Promise<SqlRepositories> {
  const { clock } = options;
  return {
    migrations: await SqlMigrationRepository.open(db, { clock }),
    jobs: await SqlJobRepository.open(db, { clock }),
    adapters: await SqlAdapterRepository.open(db, { clock }),
    apiKeys: await SqlApiKeyRepository.open(db, options),
    probes: await openSqlProbeSets(db, { clock }),
    goldenSets: await openSqlGoldenSets(db, { clock }),
    traffic: await SqlTrafficRepository.open(db),
    coverageSamples: await SqlCoverageSampleRepository.open(db),
  };
}
