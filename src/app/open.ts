import { dirname, resolve } from 'node:path';
import { createLocalEmbedderFactory } from '../embedders/factory.js';
import { createOpenAICompatibleFactory } from '../embedders/openai-factory.js';
import type { Backend } from '../ports/backend.js';
import type { EmbedderFactory } from '../ports/embedder.js';
import { composeFactories } from './embedders.js';
import { Reembed } from './reembed.js';

export interface OpenOptions {
  /** SQLite file of the embedded backend (default `./reembed.db`). */
  readonly db?: string;
  /** PostgreSQL URL; when set (or `REEMBED_PG_URL` and no `db`), the pgvector backend is used instead. */
  readonly pg?: string;
  readonly actor?: string;
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
    backend = await openPgBackend({ url: pgUrl });
    baseDir = process.cwd();
  } else {
    const { openSqliteBackend } = await import('../stores/sqlite/backend.js');
    const path = resolve(options.db ?? 'reembed.db');
    backend = await openSqliteBackend({ path });
    baseDir = dirname(path);
  }
  const factory = composeFactories(
    ...(options.embedders ?? []),
    createLocalEmbedderFactory({ baseDir }),
    createOpenAICompatibleFactory(),
  );
  return new Reembed(backend, factory, { actor: options.actor });
}
