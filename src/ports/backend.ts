import { ReembedError } from '../core/errors.js';
import type { AdapterRepository } from './adapters.js';
import type { ApiKeyRepository } from './api-keys.js';
import type { Catalog } from './catalog.js';
import type { Clock } from './clock.js';
import type { CoverageSampleRepository } from './coverage-samples.js';
import type { GoldenSetRepository, ProbeSetRepository } from './evaluation-sets.js';
import type { JobRepository } from './jobs.js';
import type { MigrationRepository } from './migrations.js';
import type { SourceRepository } from './sources.js';
import type { TrafficRepository } from './traffic.js';
import type { VectorReader } from './vector-reader.js';
import type { VectorStore } from './vector-store.js';

/**
 * What a backend can do beyond its repositories: code that needs a feature asks for the flag, never for
 * the backend's `kind`.
 */
export interface BackendCapabilities {
  /**
   * Backfills can be split into ranges on a shared queue that worker processes on other machines run
   * (`reembed worker`, graphile-worker on PostgreSQL). Without it a backfill runs in one process
   * (`reembed backfill run`).
   */
  readonly distributedBackfill: boolean;
}

/**
 * One deployment's storage: control plane, sources and vectors, and every repository the app uses,
 * declared here (code never finds a repository by looking for a driver handle on the backend). The
 * embedded backend keeps them all in one SQLite file; production keeps them in PostgreSQL. An optional
 * repository that is absent makes its feature `UNSUPPORTED` with a message saying so.
 */
export interface Backend {
  readonly kind: string;
  readonly capabilities: BackendCapabilities;
  /** The backend's clock (timestamps of rows it writes); the app's samplers use it too. */
  readonly clock?: Clock;
  readonly catalog: Catalog;
  readonly sources: SourceRepository;
  readonly store: VectorStore;
  /** Persisted migrations, shadow agreement and namespace traffic (absent: migrations are UNSUPPORTED). */
  readonly migrations?: MigrationRepository;
  /** Backfill job rows, dead letters and the re-embed queue (absent: backfills are UNSUPPORTED). */
  readonly jobs?: JobRepository;
  /** Adapters between spaces (absent: bridges are UNSUPPORTED). */
  readonly adapters?: AdapterRepository;
  /** Reads stored vectors back, to fit adapters and map namespaces (absent: bridges are UNSUPPORTED). */
  readonly vectors?: VectorReader;
  /** API keys of the HTTP server (absent: `reembed serve` and `reembed keys` are UNSUPPORTED). */
  readonly apiKeys?: ApiKeyRepository;
  /** Probe sets stored by name (absent: probes can still be built and evaluated, not stored). */
  readonly probes?: ProbeSetRepository;
  /** Golden sets stored by name (absent: golden sets are given as paths). */
  readonly goldenSets?: GoldenSetRepository;
  /** Per-minute query traffic (absent: the monitor reports traffic checks as unmeasured). */
  readonly traffic?: TrafficRepository;
  /** Coverage history (absent: coverage is measured, not kept, and the report charts only today's). */
  readonly coverageSamples?: CoverageSampleRepository;
  close(): Promise<void>;
}

/** The repositories a backend may lack. */
export type OptionalRepository = {
  [K in keyof Backend]-?: undefined extends Backend[K] ? K : never;
}[keyof Backend];

/**
 * A backend's optional repository, or `UNSUPPORTED`: `lacking` completes "The <kind> backend …" with what
 * it lacks and what to do instead.
 *
 * @example
 * const probes = requireRepository(backend, 'probes', 'does not store probe sets; build one in memory instead.');
 */
export function requireRepository<K extends OptionalRepository>(
  backend: Backend,
  key: K,
  lacking: string,
): NonNullable<Backend[K]> {
  const repository = backend[key];
  if (repository === undefined) {
    throw new ReembedError('UNSUPPORTED', `The ${backend.kind} backend ${lacking}`, {
      details: { backend: backend.kind },
    });
  }
  return repository as NonNullable<Backend[K]>;
}
