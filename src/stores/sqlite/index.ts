export type { SqliteBackend, SqliteBackendOptions } from './backend.js';
export { openSqliteBackend } from './backend.js';
export { SqliteCatalog } from './catalog.js';
export type { SqliteDatabase } from './schema.js';
export { applySchema, SCHEMA_VERSION, schemaDdl } from './schema.js';
export { SqliteSourceRepository } from './sources.js';
export { StatementCache } from './statements.js';
export { SQLITE_STORE_CAPABILITIES, SqliteVectorStore } from './store.js';
