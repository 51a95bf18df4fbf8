import { ReembedError } from '../core/errors.js';
import { type Migration, parseDuration, type StepResult, stepResult } from '../core/migration.js';
import type { RetiringInfo } from '../jobs/retire.js';
import { type Backend, requireRepository } from '../ports/backend.js';
import type { Clock } from '../ports/clock.js';
import type { JobRepository } from '../ports/jobs.js';
import type { MigrationRepository } from '../ports/migrations.js';
import type { EmbedderCache } from './embedders.js';
import type { MigrationObserver } from './migrate-observer.js';
import type { QueryEngine } from './query.js';
import type { Reembed } from './reembed.js';

/** What the migration service's operations share: the app's parts plus the two repositories. */
export interface MigrationContext {
  readonly app: Reembed;
  readonly backend: Backend;
  readonly migrations: MigrationRepository;
  readonly jobs: JobRepository;
  readonly queries: QueryEngine;
  readonly embedders: EmbedderCache;
  readonly observer: MigrationObserver;
  readonly clock: Clock;
  readonly actor: string;
}

/** The repositories of a backend, or `UNSUPPORTED` naming the backend. */
export function requireRepositories(backend: Backend): {
  migrations: MigrationRepository;
  jobs: JobRepository;
} {
  const lacking = 'does not provide migration and job repositories yet; use the embedded SQLite backend.';
  return {
    migrations: requireRepository(backend, 'migrations', lacking),
    jobs: requireRepository(backend, 'jobs', lacking),
  };
}

/**
 * Runs one named step and turns a thrown error into a `failed` result, so a multi-step operation can
 * report every step (STYLE #8). The step body returns its result, or a detail string meaning `done`.
 */
export async function runStep(name: string, body: () => Promise<StepResult | string>): Promise<StepResult> {
  try {
    const out = await body();
    return typeof out === 'string' ? stepResult(name, 'done', out) : out;
  } catch (error) {
    const code = error instanceof ReembedError ? error.code : 'INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    return stepResult(name, 'failed', message, { code });
  }
}

/** Info that puts a namespace in its rollback window (read by the retirement job). */
export function retiringInfo(ctx: MigrationContext, migration: Migration): RetiringInfo {
  const now = ctx.clock.now();
  return {
    retiringSince: now.toISOString(),
    retireAfter: new Date(now.getTime() + parseDuration(migration.options.rollbackWindow)).toISOString(),
    rollbackWindow: migration.options.rollbackWindow,
    migration: migration.id,
  };
}

/** Moves a namespace into its rollback window: state `retiring` plus the window in its info. */
export async function startRetiring(
  ctx: MigrationContext,
  namespace: string,
  migration: Migration,
): Promise<string> {
  const ns = await ctx.backend.catalog.getNamespace(namespace);
  if (ns.state === 'retired') return `${namespace} is already retired`;
  await ctx.backend.catalog.updateNamespaceInfo(namespace, { ...retiringInfo(ctx, migration) });
  if (ns.state !== 'retiring') await ctx.backend.catalog.setNamespaceState(namespace, 'retiring', ctx.actor);
  return `${namespace} is retiring; kept for ${migration.options.rollbackWindow} (rollback window)`;
}

/**
 * The repository as the service uses it: every stored change of a migration also refreshes the query
 * observer's alias → migration cache, so shadow samples are attributed to the phase they were taken in.
 */
export function observedMigrations(
  repo: MigrationRepository,
  onChange: (alias: string) => void,
): MigrationRepository {
  const notify = async (change: Promise<Migration>): Promise<Migration> => {
    const migration = await change;
    onChange(migration.alias);
    return migration;
  };
  return {
    create: (input, actor) => notify(repo.create(input, actor)),
    get: (id) => repo.get(id),
    list: (filter) => repo.list(filter),
    transition: (id, to, actor, options) => notify(repo.transition(id, to, actor, options)),
    updateInfo: (id, patch, actor) => notify(repo.updateInfo(id, patch, actor)),
    recordAgreement: (samples) => repo.recordAgreement(samples),
    agreementSummary: (id, options) => repo.agreementSummary(id, options),
    recordReads: (reads) => repo.recordReads(reads),
    traffic: (namespace) => repo.traffic(namespace),
    purge: (collection) => repo.purge(collection),
    ...(repo.recordQueries ? { recordQueries: repo.recordQueries.bind(repo) } : {}),
    ...(repo.recentQueries ? { recentQueries: repo.recentQueries.bind(repo) } : {}),
    ...(repo.forgetQueries ? { forgetQueries: repo.forgetQueries.bind(repo) } : {}),
  };
}
