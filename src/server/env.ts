import type { MigrationService } from '../app/migrate.js';
import type { Reembed } from '../app/reembed.js';
import type { ApiKey } from '../ports/api-keys.js';
import type { ServerMetrics } from './metrics.js';

/** What every handler reaches through `c.var`: the authenticated key (set by `authenticate`). */
export interface ServerEnv {
  Variables: {
    key: ApiKey;
  };
}

/** The library objects one server process serves from. */
export interface ServerDeps {
  readonly app: Reembed;
  /** One service for the process: its observer records shadow agreement, hits and lazy re-embeds. */
  readonly migrations: MigrationService;
  readonly metrics: ServerMetrics;
  /** Aborted when the server shuts down: long steps (a backfill) stop at their next batch. */
  readonly shutdown: AbortSignal;
}
