import { z } from 'zod';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../ports/clock.js';
import { parseOptions } from '../shared/options.js';

/**
 * Options of the LanceDB vector store, validated once here (STYLE.md #10).
 *
 * @example
 * await openLanceDbStore({ uri: './data/lance' });
 * await openLanceDbStore({ uri: 's3://bucket/reembed', storageOptions: { region: 'eu-west-1' } });
 */
export interface LanceDbStoreOptions {
  /** A local directory or an object-storage URI (`s3://`, `gs://`, `az://`). */
  readonly uri: string;
  /** Passed to LanceDB as is (credentials, region, endpoint); never logged. */
  readonly storageOptions?: Readonly<Record<string, string>>;
  /**
   * Seconds between checks for commits made by other processes. 0 (the default) checks on every read, so
   * a write by the CLI is visible to a running server at once; raise it on object storage to save requests.
   */
  readonly readConsistencySeconds?: number;
  /** Compact fragments and update scalar indexes after this many commits to a namespace (default 64). */
  readonly optimizeEvery?: number;
  /** Old table versions kept for readers in flight when compacting, in seconds (default 3600). */
  readonly retainVersionsSeconds?: number;
  /**
   * Bytes of vectors (rows x dimension x 4) up to which a batch of searches (`searchMany`: a probe or golden
   * evaluation) reads the namespace once and answers every query in memory, instead of one LanceDB scan
   * per query. Larger namespaces are scanned per query. Default 256 MiB; 0 turns the in-memory path off.
   */
  readonly searchMemoryBytes?: number;
  /** Time source for `embeddedAt` and descriptor timestamps. */
  readonly clock?: Clock;
}

/** LanceDB itself has no small limit; this bounds memory per row and matches the other stores' order. */
export const LANCEDB_MAX_DIMENSION = 16_000;

const schema = z
  .object({
    uri: z.string().min(1),
    storageOptions: z.record(z.string()).default({}).readonly(),
    readConsistencySeconds: z.number().min(0).max(3600).default(0),
    optimizeEvery: z.number().int().min(1).max(100_000).default(64),
    retainVersionsSeconds: z.number().int().min(0).default(3600),
    searchMemoryBytes: z
      .number()
      .int()
      .min(0)
      .default(256 * 2 ** 20),
  })
  .strict();

/** The options with every default filled in (the schema's output) and the clock, frozen. */
export type ResolvedLanceDbConfig = Readonly<z.output<typeof schema> & { clock: Clock }>;

export function resolveLanceDbConfig(options: LanceDbStoreOptions): ResolvedLanceDbConfig {
  const { clock, ...rest } = options;
  const parsed = parseOptions('LanceDB store options', schema, rest);
  return Object.freeze({ ...parsed, clock: clock ?? systemClock });
}
