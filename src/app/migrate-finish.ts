import { ReembedError } from '../core/errors.js';
import {
  isComplete,
  type Migration,
  type MigrationReport,
  migrationReport,
  type StepResult,
  stepResult,
} from '../core/migration.js';
import type { RetiringInfo } from '../jobs/retire.js';
import { runRetirement } from '../jobs/retire.js';
import { type MigrationContext, runStep } from './migrate-context.js';
import { finishCutover } from './migrate-cutover.js';

export interface FinishOptions {
  /** Why the rollback window is closed early; required, written to the audit log. */
  readonly reason: string;
  /**
   * Drop the old namespace's vectors now, instead of leaving them to the retirement job (which drops them
   * once the rollback window has elapsed and nothing has read them for a whole window).
   */
  readonly retireNow?: boolean;
}

/**
 * Closes a migration that has cut over, before its rollback window ends: the migration becomes `retired`
 * (final — it can no longer be rolled back) and its alias is free for the next `migrate start`.
 *
 * The old namespace follows one rule: by default it stays `retiring` and keeps its schedule — the
 * retirement job (`reembed retire run`) drops its vectors once the window has elapsed and no query has read
 * it for a whole window, exactly as if the migration had stayed open; until then its vectors remain, so a
 * later migration back to the old space reuses them. With `retireNow` its vectors are dropped at once.
 * Audited as `migration.finish` (actor, reason, what happens to the old namespace) and by the transition.
 * A migration that has not cut over is refused (`INVALID_STATE`: cut it over or roll it back).
 */
export async function finishMigration(
  ctx: MigrationContext,
  id: string,
  options: FinishOptions,
): Promise<MigrationReport> {
  let migration = await ctx.migrations.get(id);
  if (migration.state === 'retired') {
    return migrationReport(migration, [
      stepResult('finish', 'skipped', `already finished (${migration.updatedAt})`),
    ]);
  }
  if (!isComplete(migration.state)) {
    throw new ReembedError(
      'INVALID_STATE',
      `Migration ${migration.id} is "${migration.state}": only a migration that has cut over can be finished. ` +
        (migration.state === 'rolled-back'
          ? 'It was rolled back and is already closed: start a new migration.'
          : `Cut it over (reembed migrate cutover ${migration.alias}) or roll it back (reembed migrate rollback ${migration.alias}).`),
      { details: { migration: migration.id, state: migration.state } },
    );
  }
  if (typeof options.reason !== 'string' || !options.reason.trim()) {
    throw new ReembedError(
      'INVALID_INPUT',
      'Finishing a migration ends its rollback window early: give a reason (--reason "..."); it is written to the audit log.',
      { details: { field: 'reason' } },
    );
  }
  const steps: StepResult[] = [];
  if (migration.state === 'cut-over') {
    // A cutover that stopped between its alias write and its last steps: finish those first.
    const report = await finishCutover(ctx, migration, []);
    steps.push(...report.steps);
    migration = report.migration;
    if (!report.ok) return migrationReport(migration, steps);
  }
  const old = await ctx.backend.catalog.getNamespace(migration.from);
  const info = old.info as Partial<RetiringInfo>;
  const plan = options.retireNow
    ? `${old.name} is retired now (vectors dropped)`
    : old.state === 'retired'
      ? `${old.name} is already retired`
      : `${old.name} stays retiring: reembed retire run drops it after ${info.retireAfter ?? 'its window'} once no query has read it for ${migration.options.rollbackWindow}`;
  await ctx.backend.catalog.audit(ctx.actor, 'migration.finish', migration.id, {
    alias: migration.alias,
    reason: options.reason,
    from: migration.from,
    to: migration.to,
    retireNow: options.retireNow === true,
    oldNamespace: plan,
  });
  steps.push(
    await runStep('finish', async () => {
      migration = await ctx.migrations.transition(migration.id, 'retired', ctx.actor, {
        expectedVersion: migration.version,
        details: { finished: true, reason: options.reason, retireNow: options.retireNow === true },
        info: {
          finishedAt: ctx.clock.now().toISOString(),
          finishedBy: ctx.actor,
          finishReason: options.reason,
        },
      });
      return `${migration.id} finished: no rollback from here; alias ${migration.alias} can start a new migration`;
    }),
  );
  if (steps.some((s) => s.status === 'failed')) return migrationReport(migration, steps);
  if (options.retireNow && old.state !== 'retired') steps.push(await retireNow(ctx, migration));
  else steps.push(stepResult('old', 'skipped', plan));
  return migrationReport(migration, steps);
}

async function retireNow(ctx: MigrationContext, migration: Migration): Promise<StepResult> {
  await ctx.observer.flush();
  const report = await runRetirement(
    { catalog: ctx.backend.catalog, store: ctx.backend.store, migrations: ctx.migrations },
    { now: ctx.clock.now(), actor: ctx.actor, namespaces: [migration.from], ignoreWindow: true },
  );
  const outcome = report.namespaces[0];
  if (!outcome) return stepResult('retire', 'skipped', `${migration.from}: nothing to retire`);
  return stepResult(
    'retire',
    outcome.status === 'failed' ? 'failed' : outcome.status === 'retired' ? 'done' : 'skipped',
    `${outcome.namespace}: ${outcome.reason}`,
  );
}
