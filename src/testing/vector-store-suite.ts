import type { VectorStore } from '../ports/vector-store.js';
import { describeSuite, type SuiteOptions } from './suite.js';
import { describeStoreSearch } from './vector-store-search.js';
import { describeStoreSearchMany } from './vector-store-search-many.js';
import { describeStoreStats } from './vector-store-stats.js';
import { describeStoreWrites } from './vector-store-writes.js';

export interface VectorStoreHarness {
  readonly store: VectorStore;
  /** Releases everything `create` made (files, schemas, connections). */
  cleanup(): Promise<void>;
  /**
   * Writes one record straight into the engine, behind the store's back (dropping whatever constraint
   * the engine would use to refuse it), as a hand edit or a bad restore would. Returns false when the
   * engine itself cannot hold such a record (e.g. a fixed-size vector column of another dimension). The
   * suite then checks that search never returns it and still answers from the healthy records.
   */
  plant?(namespace: string, record: PlantedRecord): Promise<boolean>;
}

/** A record planted behind a store's back (see `VectorStoreHarness.plant`). */
export interface PlantedRecord {
  readonly sourceId: string;
  readonly fingerprint: string;
  readonly vector: Float32Array;
}

export type VectorStoreSuiteOptions = SuiteOptions<VectorStoreHarness>;

/** What the suite's test groups receive: the store (and `plant`, when the harness has one) of the current test. */
export type StoreContext = Omit<VectorStoreHarness, 'cleanup'>;

/**
 * The conformance suite every `VectorStore` adapter passes against its real engine (STYLE.md #11).
 * It covers the invariants a store owns: one fingerprint per namespace (1, 2), versioned writes (4),
 * tombstones (5), all-or-nothing batches with their checkpoint (6), exact search and filters.
 *
 * @example
 * testVectorStore({
 *   name: 'sqlite',
 *   create: async () => {
 *     const backend = await openSqliteBackend({ path: tempFile() });
 *     return { store: backend.store, cleanup: () => backend.close() };
 *   },
 * });
 */
export function testVectorStore(options: VectorStoreSuiteOptions): void {
  describeSuite('VectorStore conformance', options, (context) => {
    describeStoreWrites(context);
    describeStoreSearch(context);
    describeStoreSearchMany(context);
    describeStoreStats(context);
  });
}
