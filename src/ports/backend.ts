import type { AdapterRepository } from './adapters.js';
import type { ApiKeyRepository } from './api-keys.js';
import type { Catalog } from './catalog.js';
import type { ProbeSetRepository } from './evaluation-sets.js';
import type { JobRepository } from './jobs.js';
import type { MigrationRepository } from './migrations.js';
import type { SourceRepository } from './sources.js';
import type { VectorReader } from './vector-reader.js';
import type { VectorStore } from './vector-store.js';

/**
 * One deployment's storage: control plane, sources and vectors. The embedded backend keeps all three in
 * one SQLite file; production keeps them in PostgreSQL. Later issues add `migrations` and `jobs`
 * repositories here.
 */
export interface Backend {
  readonly kind: string;
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
  close(): Promise<void>;
}
