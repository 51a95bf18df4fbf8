import { afterEach, beforeEach, describe } from 'vitest';
import type { VectorStore } from '../ports/vector-store.js';
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

export interface VectorStoreSuiteOptions {
  /** Shown in test titles, e.g. `sqlite`. */
  readonly name: string;
  /** Called before every test: a fresh, empty store (a new file, schema or table prefix). */
  readonly create: () => Promise<VectorStoreHarness>;
  /** When set, the whole suite is skipped and the reason printed in its title (e.g. a server is not running). */
  readonly skip?: string;
}

/** What the suite's test groups receive: the store of the current test. */
export interface StoreContext {
  readonly store: VectorStore;
  /** The harness's `plant`, when it has one. */
  readonly plant: VectorStoreHarness['plant'] | undefined;
}

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
  const title = options.skip
    ? `VectorStore conformance: ${options.name} (skipped: ${options.skip})`
    : `VectorStore conformance: ${options.name}`;
  describe.skipIf(Boolean(options.skip))(title, () => {
    let harness: VectorStoreHarness | undefined;
    const context: StoreContext = {
      get store(): VectorStore {
        if (!harness) throw new Error('conformance suite: the store is only available inside a test');
        return harness.store;
      },
      get plant() {
        return harness?.plant?.bind(harness);
      },
    };
    beforeEach(async () => {
      harness = await options.create();
    });
    afterEach(async () => {
      const current = harness;
      harness = undefined;
      await current?.cleanup();
    });
    describeStoreWrites(context);
    describeStoreSearch(context);
    describeStoreSearchMany(context);
    describeStoreStats(context);
  });
}
