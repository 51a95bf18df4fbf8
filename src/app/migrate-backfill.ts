import type { BackfillSettings, Migration } from '../core/migration.js';
import { BackfillRunner } from '../jobs/backfill.js';
import { embedSources } from './embed-sources.js';
import type { MigrationContext } from './migrate-context.js';

export interface BackfillTarget {
  /** Backfill a migration's target namespace with the migration's settings and strategy order. */
  readonly migration?: Migration;
  /** Or any namespace (e.g. to regenerate stale records after a crash). */
  readonly namespace?: string;
  /** Overrides of the backfill settings (CLI `--concurrency`, `--batch-size`, `--rate-limit`). */
  readonly settings?: Partial<BackfillSettings>;
  /** Retry the dead-lettered sources instead of a pass. */
  readonly mode?: 'pass' | 'dead-letters';
}

/**
 * Builds the backfill runner of a namespace, wired to the backend and the namespace's embedder.
 * Progressive migrations backfill the most-queried documents first; every runner drains the priority
 * queue (old-space documents a lazy read served) before each page.
 */
export async function createBackfillRunner(
  ctx: MigrationContext,
  target: BackfillTarget,
): Promise<BackfillRunner> {
  const name = target.migration?.to ?? target.namespace;
  if (!name) throw new TypeError('createBackfillRunner needs a migration or a namespace');
  const ns = await ctx.backend.catalog.getNamespace(name);
  const embedder = await ctx.embedders.get(ns.space);
  const m = target.migration;
  return new BackfillRunner(
    {
      store: ctx.backend.store,
      sources: ctx.backend.sources,
      jobs: ctx.jobs,
      embedder,
      encode: embedSources,
      clock: ctx.clock,
    },
    {
      collection: ns.collection,
      namespace: ns.name,
      migrationId: m?.id ?? null,
      settings: { ...(m?.options.backfill ?? {}), ...(target.settings ?? {}) },
      order: m?.strategy === 'progressive' ? 'hottest' : 'id',
      useQueue: true,
      mode: target.mode ?? 'pass',
    },
  );
}
