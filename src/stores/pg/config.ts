import { z } from 'zod';
import { parseOptions } from '../shared/options.js';
import { IDENTIFIER_RE } from './sql.js';

/**
 * Options of the PostgreSQL + pgvector backend, validated once here (STYLE.md #10).
 *
 * @example
 * await openPgBackend({ url: process.env.REEMBED_PG_URL!, schema: 'reembed', hnsw: { m: 16, efConstruction: 64 } });
 */
export interface PgBackendOptions {
  /** `postgres://user:password@host:port/db`; `scripts/provision-postgres.sh` prints one. */
  readonly url: string;
  /** Every table lives in this schema (created if missing). One schema per test isolates tests. */
  readonly schema?: string;
  /**
   * HNSW parameters for new namespaces (pgvector defaults: m 16, ef_construction 64). With `deferred`,
   * a namespace is created without its index and `store.buildIndex(ns)` builds it in bulk after the
   * backfill (several times faster than maintaining it per row); until then searches are exact scans.
   * `buildMemoryMB` caps the `maintenance_work_mem` a bulk build asks for: the build sizes it to the
   * namespace's graph (about 2.3 KB per 384-d row at m 16), so it does not spill to disk and slow down
   * several-fold; this is the ceiling (default 4,096 MB, enough for ~1.5M x 384).
   */
  readonly hnsw?: {
    readonly m?: number;
    readonly efConstruction?: number;
    readonly deferred?: boolean;
    readonly buildMemoryMB?: number;
  };
  /** `hnsw.ef_search` set per query (raised to k when k is larger). Higher is slower and more exact. */
  readonly efSearch?: number;
  /** Pool size: concurrent queries of this process. */
  readonly poolMax?: number;
  /** Drop the schema (CASCADE) on close: for tests that create a schema per test. */
  readonly dropSchemaOnClose?: boolean;
}

/** pgvector's HNSW index supports up to 2,000 dimensions for `vector`. */
export const PG_MAX_DIMENSION = 2000;

const schema = z
  .object({
    url: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://'),
    schema: z.string().regex(IDENTIFIER_RE, 'must match [a-z_][a-z0-9_]{0,47}').default('reembed'),
    hnsw: z
      .object({
        m: z.number().int().min(2).max(100).default(16),
        efConstruction: z.number().int().min(4).max(1000).default(64),
        deferred: z.boolean().default(false),
        buildMemoryMB: z.number().int().min(64).max(1_048_576).default(4096),
      })
      .strict()
      .default({})
      .readonly(),
    efSearch: z.number().int().min(1).max(1000).default(40),
    poolMax: z.number().int().min(1).max(200).default(10),
    dropSchemaOnClose: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.hnsw.efConstruction < 2 * c.hnsw.m) {
      ctx.addIssue({
        code: 'custom',
        message: 'hnsw.efConstruction must be at least 2 * hnsw.m (pgvector rule)',
      });
    }
  })
  .readonly();

/** The options with every default filled in, frozen: the schema's output. */
export type ResolvedPgConfig = z.output<typeof schema>;

/** The HNSW parameters of new namespaces and bulk builds, defaults filled in. */
export type PgHnswSettings = ResolvedPgConfig['hnsw'];

export function resolvePgConfig(options: PgBackendOptions): ResolvedPgConfig {
  return parseOptions('Postgres backend options', schema, options);
}

/** The URL with its password masked, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
