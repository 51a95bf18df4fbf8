/**
 * Conformance suites every adapter runs against its real engine (STYLE.md #11). They register vitest
 * tests, so import this module only from test files.
 */

export { type AdapterHarness, type AdapterSuiteOptions, testAdapterRepository } from './adapter-suite.js';
export type { ApiKeySuiteOptions } from './api-keys-suite.js';
export { testApiKeyRepository } from './api-keys-suite.js';
export type { CatalogContext, CatalogHarness, CatalogSuiteOptions } from './catalog-suite.js';
export { testCatalog } from './catalog-suite.js';
export type { CoverageSampleHarness, CoverageSampleSuiteOptions } from './coverage-sample-suite.js';
export { testCoverageSampleRepository } from './coverage-sample-suite.js';
export * from './fixtures.js';
export type { GoldenSetHarness, GoldenSetSuiteOptions } from './golden-set-suite.js';
export { sampleGolden, testGoldenSetRepository } from './golden-set-suite.js';
export type { ProbeSetHarness, ProbeSetSuiteOptions } from './probe-set-suite.js';
export { sampleProbe, testProbeSetRepository } from './probe-set-suite.js';
export { describeRepositoryCases, type RepositoryHarness } from './repository-suite.js';
export { describeSuite, type SuiteHarness, type SuiteOptions } from './suite.js';
export type { TrafficHarness, TrafficSuiteOptions } from './traffic-suite.js';
export { testTrafficRepository } from './traffic-suite.js';
export type { StoreContext, VectorStoreHarness, VectorStoreSuiteOptions } from './vector-store-suite.js';
export { testVectorStore } from './vector-store-suite.js';
