/**
 * `reembed/lancedb`: LanceDB as the vector store (the catalog stays in SQLite or PostgreSQL).
 * Needs the optional peer dependencies `@lancedb/lancedb` and `apache-arrow`; they load on first use,
 * and a missing one is a `DEPENDENCY_MISSING` error naming the `npm install` to run.
 *
 * @example
 * import { openLanceDbStore } from 'reembed/lancedb';
 * const store = await openLanceDbStore({ uri: './data/lance' });
 */
export { LANCEDB_MAX_DIMENSION, type LanceDbStoreOptions } from './stores/lancedb/config.js';
export { openLanceDbStore } from './stores/lancedb/open.js';
export { LANCEDB_STORE_CAPABILITIES, LanceDbVectorStore } from './stores/lancedb/store.js';
