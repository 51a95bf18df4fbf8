/**
 * reembed — change embedding models without downtime and without silent recall loss.
 * The library entry point: the facade, domain values, ports for adapters, and the built-in adapters.
 * Vendor SDKs (pg, LanceDB) load lazily inside their adapters; importing this module loads none.
 */
export { openReembed, type OpenOptions } from './app/open.js';
export { Reembed, type ReembedOptions } from './app/reembed.js';
export type { IngestResult, DeleteResult } from './app/ingest.js';
export type { QueryRequest, QueryResponse, QueryTrace, ResultHit, QueryObserver, ShadowEvent } from './app/query.js';
export { measureCoverage, namespaceManifest, type Coverage } from './app/status.js';
export { MigrationService } from './app/migrate.js';
export { evaluateAlias, evaluateNamespace, evaluateMigration } from './app/evaluate.js';

export { ReembedError, isReembedError, ERROR_CODES, type ErrorCode } from './core/errors.js';
export {
  defineSpace,
  describeSpace,
  fingerprintOf,
  isSpace,
  type Space,
  type SpaceSpec,
  type SpaceSpecInput,
  type SpaceRuntime,
} from './core/space.js';
export type { Namespace, NamespaceManifest, NamespaceState } from './core/namespace.js';
export type { Alias, Routing, FusionPolicy, FusionMethod } from './core/routing.js';
export type { SourceDocument, SourceInput, SearchHit, SearchFilter, Provenance } from './core/records.js';
export { fuseResults } from './core/fusion.js';
export * from './core/metrics.js';
export { parseGateRule, evaluateGates } from './core/gates.js';

export type { Backend } from './ports/backend.js';
export type { Catalog } from './ports/catalog.js';
export type { SourceRepository } from './ports/sources.js';
export type { VectorStore, StoreCapabilities, NamespaceDescriptor } from './ports/vector-store.js';
export type { Embedder, EmbedderFactory } from './ports/embedder.js';

export { createLocalEmbedderFactory, hashingSpace, lsaSpace, wordVectorSpace } from './embedders/factory.js';
export { fitLsa } from './embedders/lsa.js';
export { saveLsaModel, loadLsaModel } from './embedders/lsa-file.js';
export { createOpenAICompatibleEmbedder } from './embedders/openai.js';
export { createOpenAICompatibleFactory } from './embedders/openai-factory.js';

export { openSqliteBackend } from './stores/sqlite/backend.js';
export { loadGoldenSet } from './eval/load-golden.js';
export { runMonitor } from './monitor/run.js';
