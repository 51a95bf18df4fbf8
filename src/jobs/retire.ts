import { parseDuration } from '../core/migration.js';
import type { Namespace } from '../core/namespace.js';
import { namespacesOf } from '../core/routing.js';
import type { Catalog } from '../ports/catalog.js';
import type { MigrationRepository } from '../ports/migrations.js';
import type { VectorStore } from '../ports/vector-store.js';

export interface RetirementDeps {
  readonly catalog: Catalog;
  readonly store: VectorStore;
  readonly migrations: MigrationRepository;
}

export interface RetirementOptions {
  readonly now: Date;
  readonly actor: string;
  /** Retire even if the rollback window is open or the namespace was read recently (audited). */
  readonly ignoreWindow?: boolean;
  /** Only these namespaces (default: every namespace in state `retiring`). */
  readonly namespaces?: readonly string[];
  /** Report what would happen without changing anything. */
  readonly dryRun?: boolean;
}

export interface RetirementOutcome {
  readonly namespace: string;
  readonly status: 'retired' | 'kept' | 'would-retire' | 'failed';
  readonly reason: string;
}

export interface RetirementReport {
  readonly kind: 'retirement-report';
  readonly at: string;
  readonly namespaces: readonly RetirementOutcome[];
}

/** Namespace info keys written when a namespace starts retiring (cutover, or rollback of the new one). */
export interface RetiringInfo {
  readonly retiringSince: string;
  readonly retireAfter: string;
  readonly rollbackWindow: string;
  readonly migration: string;
}

/**
 * The retirement job: drops the vectors of `retiring` namespaces whose rollback window has elapsed AND
 * that no query has read for a whole window, then marks them `retired` (their manifest stays, with its
 * history in the audit log). The state changes before the drop, so dual-writes stop first; a crash
 * between the two is finished by the next run. Call it on a schedule (`reembed retire run`, the server).
 */
export async function runRetirement(
  deps: RetirementDeps,
  options: RetirementOptions,
): Promise<RetirementReport> {
  const wanted = options.namespaces ? new Set(options.namespaces) : null;
  const candidates = (await deps.catalog.listNamespaces()).filter(
    (ns) => (ns.state === 'retiring' || ns.state === 'retired') && (!wanted || wanted.has(ns.name)),
  );
  const outcomes: RetirementOutcome[] = [];
  for (const ns of candidates) {
    try {
      const outcome = await retireOne(deps, options, ns);
      if (outcome) outcomes.push(outcome);
    } catch (error) {
      outcomes.push({
        namespace: ns.name,
        status: 'failed',
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return Object.freeze({
    kind: 'retirement-report' as const,
    at: options.now.toISOString(),
    namespaces: Object.freeze(outcomes),
  });
}

async function retireOne(
  deps: RetirementDeps,
  options: RetirementOptions,
  ns: Namespace,
): Promise<RetirementOutcome | null> {
  if (ns.state === 'retired') {
    // Finish a retirement that crashed between the state change and the drop (or the migration's transition).
    const held = (await deps.store.describeNamespace(ns.name)) !== null;
    if (options.dryRun)
      return held ? { namespace: ns.name, status: 'would-retire', reason: 'interrupted retirement' } : null;
    if (held) await deps.store.dropNamespace(ns.name);
    const finished = await finishMigrations(deps, ns, options.actor);
    return held || finished > 0
      ? { namespace: ns.name, status: 'retired', reason: 'finished an interrupted retirement' }
      : null;
  }
  const routedBy = (await deps.catalog.listAliases(ns.collection)).filter((a) =>
    namespacesOf(a.routing).includes(ns.name),
  );
  if (routedBy.length > 0) {
    return {
      namespace: ns.name,
      status: 'kept',
      reason: `still routed by alias ${routedBy.map((a) => a.name).join(', ')}`,
    };
  }
  const info = ns.info as Partial<RetiringInfo>;
  const windowMs = parseDuration(info.rollbackWindow ?? '0s');
  const now = options.now.getTime();
  const traffic = await deps.migrations.traffic(ns.name);
  if (!options.ignoreWindow) {
    if (info.retireAfter && now < Date.parse(info.retireAfter)) {
      return { namespace: ns.name, status: 'kept', reason: `rollback window open until ${info.retireAfter}` };
    }
    if (traffic && now - Date.parse(traffic.lastReadAt) < windowMs) {
      return {
        namespace: ns.name,
        status: 'kept',
        reason: `read at ${traffic.lastReadAt}, within the last ${info.rollbackWindow}; retired once quiet for the whole window`,
      };
    }
  }
  if (options.dryRun)
    return { namespace: ns.name, status: 'would-retire', reason: 'window elapsed and no recent traffic' };
  const reason = options.ignoreWindow
    ? 'forced: rollback window and traffic ignored'
    : 'rollback window elapsed with no traffic';
  await deps.catalog.setNamespaceState(ns.name, 'retired', options.actor);
  await deps.store.dropNamespace(ns.name);
  await deps.catalog.audit(options.actor, 'namespace.retire', ns.name, {
    reason,
    retireAfter: info.retireAfter ?? null,
    lastReadAt: traffic?.lastReadAt ?? null,
    forced: options.ignoreWindow === true,
  });
  await finishMigrations(deps, ns, options.actor);
  return { namespace: ns.name, status: 'retired', reason };
}

/** Migrations away from a dropped namespace are retired: nothing is left to roll back to. */
async function finishMigrations(deps: RetirementDeps, ns: Namespace, actor: string): Promise<number> {
  let finished = 0;
  for (const m of await deps.migrations.list({ collection: ns.collection })) {
    if (m.from !== ns.name || m.state !== 'retiring') continue;
    await deps.migrations.transition(m.id, 'retired', actor, { details: { dropped: ns.name } });
    finished++;
  }
  return finished;
}
