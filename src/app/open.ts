import { dirname, resolve } from 'node:path';
import { defined } from '../core/defined.js';
import { createLocalEmbedderFactory } from '../embedders/factory.js';
import { createOpenAICompatibleFactory } from '../embedders/openai-factory.js';
import { withStoredVectors } from '../embedders/stored-vectors/factory.js';
import type { Backend } from '../ports/backend.js';
import type { EmbedderFactory } from '../ports/embedder.js';
import type { SqliteAnnOptions } from '../stores/sqlite/ann-config.js';
import type { SqliteBackend } from '../stores/sqlite/backend.js';
import { composeFactories } from './embedders.js';
import { Reembed } from './reembed.js';

export interface OpenOptions {
  /** SQLite file of the embedded backend (default `./reembed.db`; `:memory:` for a throwaway database). */
  readonly db?: string;
  /** PostgreSQL URL; when set (or `REEMBED_PG_URL` and no `db`), the pgvector backend is used instead. */
  readonly pg?: string;
  /** Schema of the PostgreSQL backend (default `reembed`, or `REEMBED_PG_SCHEMA` when set). */
  readonly pgSchema?: string;
  /** Drop that schema when the app closes (a throwaway schema, e.g. `reembed demo` on Postgres). */
  readonly pgDropSchemaOnClose?: boolean;
  /**
   * LanceDB URI (a local directory or object storage) for vectors; the catalog, sources and jobs stay in
   * the SQLite file, so cutover remains one catalog write (LanceDB OSS cannot rename tables).
   */
  readonly lancedb?: string;
  /**
   * How the SQLite store searches large namespaces: the HNSW threshold (default 50,000 records),
   * quantisation, index directory (default `<db>.ann/`), exact-search cache budget. See `SqliteAnnOptions`.
   */
  readonly ann?: SqliteAnnOptions;
  readonly actor?: string;
  /** Source of randomness for shadow sampling (default `Math.random`; see `ReembedOptions.random`). */
  readonly random?: () => number;
  /** Extra embedder factories tried before the built-in ones (e.g. a test's faulty embedder). */
  readonly embedders?: readonly EmbedderFactory[];
}

/** Opens the configured backend and returns the library facade. */
export async function openReembed(options: OpenOptions = {}): Promise<Reembed> {
  // An explicit --db wins over the environment, so a SQLite file is never silently swapped for Postgres.
  const pgUrl = options.pg ?? (options.db === undefined ? process.env.REEMBED_PG_URL : undefined);
  let backend: Backend;
  let baseDir: string;
  if (pgUrl) {
    const { openPgBackend } = await import('../stores/pg/backend.js');
    const schema = options.pgSchema ?? process.env.REEMBED_PG_SCHEMA;
    backend = await openPgBackend(
      defined({ url: pgUrl, schema: schema || undefined, dropSchemaOnClose: options.pgDropSchemaOnClose }),
    );
    baseDir = process.cwd();
  } else {
    const { openSqliteBackend } = await import('../stores/sqlite/backend.js');
    // `:memory:` is SQLite's private in-memory database (a throwaway: examples, tests), not a file name.
    const memory = options.db === ':memory:';
    const path = memory ? ':memory:' : resolve(options.db ?? 'reembed.db');
    const sqlite = await openSqliteBackend(defined({ path, ann: options.ann }));
    baseDir = memory ? process.cwd() : dirname(path);
    backend = options.lancedb ? await withLanceDbVectors(sqlite, options.lancedb) : sqlite;
  }
  // Stored vectors wrap the built-in providers: a space served from a folder may fall through to its live model.
  const builtIn = composeFactories(createLocalEmbedderFactory({ baseDir }), createOpenAICompatibleFactory());
  const factory = composeFactories(...(options.embedders ?? []), withStoredVectors(builtIn, { baseDir }));
  return new Reembed(backend, factory, defined({ actor: options.actor, random: options.random }));
}

/** The SQLite backend with its vectors in LanceDB instead (checkpoints then go through the job repository). */
async function withLanceDbVectors(sqlite: SqliteBackend, uri: string): Promise<Backend> {
  const { openLanceDbStore } = await import('../stores/lancedb/open.js');
  const store = await openLanceDbStore({ uri });
  return {
    kind: 'sqlite+lancedb',
    capabilities: sqlite.capabilities,
    clock: sqlite.clock,
    catalog: sqlite.catalog,
    sources: sqlite.sources,
    store,
    migrations: sqlite.migrations,
    jobs: sqlite.jobs,
    apiKeys: sqlite.apiKeys,
    probes: sqlite.probes,
    goldenSets: sqlite.goldenSets,
    traffic: sqlite.traffic,
    coverageSamples: sqlite.coverageSamples,
    close: async () => {
      await store.close();
      await sqlite.close();
    },
  };
}
