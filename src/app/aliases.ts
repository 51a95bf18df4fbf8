import { isDerivedSpace } from '../core/derived-space.js';
import { ReembedError } from '../core/errors.js';
import type { Migration } from '../core/migration.js';
import type { Alias } from '../core/routing.js';
import { namespacesOf, servingNamespaceOf } from '../core/routing.js';
import type { Backend } from '../ports/backend.js';
import type { AuditEntry } from '../ports/catalog.js';
import { measureCoverage } from './status.js';

export interface AliasSetOptions {
  /** Why, written to the audit log. Required with `force`. */
  readonly reason?: string;
  /** Point at a namespace that does not hold every live document at its current version. */
  readonly force?: boolean;
}

/** What `setAlias` did: the alias after the write, what it routed before, and the namespace states it changed. */
export interface AliasChange {
  readonly kind: 'alias-change';
  readonly alias: Alias;
  /** The previous routing's serving namespace, or null for a new alias. */
  readonly previous: string | null;
  /** False when the alias already routed to the namespace alone (nothing was written). */
  readonly changed: boolean;
  readonly states: readonly { readonly namespace: string; readonly from: string; readonly to: string }[];
}

/** An alias with the unfinished migration that owns its routing, if any (`alias list|show`). */
export interface AliasView {
  readonly alias: Alias;
  readonly migration: { readonly id: string; readonly state: string; readonly strategy: string } | null;
}

async function unfinished(backend: Backend): Promise<Migration[]> {
  return backend.migrations ? backend.migrations.list({ active: true }) : [];
}

/** Aliases (of one collection, or all) and the unfinished migration of each. */
export async function listAliasViews(backend: Backend, collection?: string): Promise<AliasView[]> {
  const open = await unfinished(backend);
  return (await backend.catalog.listAliases(collection)).map((alias) => viewOf(alias, open));
}

export async function aliasView(backend: Backend, name: string): Promise<AliasView> {
  return viewOf(await backend.catalog.getAlias(name), await unfinished(backend));
}

function viewOf(alias: Alias, open: readonly Migration[]): AliasView {
  const m = open.find((x) => x.alias === alias.name);
  return Object.freeze({
    alias,
    migration: m ? Object.freeze({ id: m.id, state: m.state, strategy: m.strategy }) : null,
  });
}

/** The alias's history: its audit entries, newest `limit`. */
export function aliasHistory(backend: Backend, name: string, limit = 20): Promise<AuditEntry[]> {
  return backend.catalog.listAudit({ subject: name, limit });
}

/**
 * Creates an alias, or re-points one, to serve one namespace alone — in one audited catalog write.
 *
 * Refused: a namespace that is retired or missing from the store (`INVALID_STATE`), of another
 * collection than the alias's (`INVALID_INPUT`), the target of an unfinished migration, or an alias whose
 * routing an unfinished migration owns (`CONFLICT`: finish or roll it back first). A namespace that does
 * not hold every live document at its current version would lose recall: refused (`INVALID_STATE`) unless
 * `force` with a `reason`. The target becomes `serving`; the namespace the alias served before becomes
 * `active` (still written on every ingest, no longer served) unless another alias still routes to it.
 */
export async function setAliasTarget(
  backend: Backend,
  actor: string,
  name: string,
  namespace: string,
  options: AliasSetOptions = {},
): Promise<AliasChange> {
  const { catalog, store } = backend;
  const ns = await catalog.getNamespace(namespace);
  if (isDerivedSpace(ns.space)) {
    // Invariant 9: derived vectors serve only through their bridge's gated routing, never as a plain alias.
    throw new ReembedError(
      'INVALID_STATE',
      `${ns.name} holds derived (bridged) vectors of adapter ${String(ns.space.spec.params.adapter)}; it serves only through its gated bridge during a migration (reembed migrate start --bridge corpus), never as an alias's namespace.`,
      { details: { namespace: ns.name, adapter: ns.space.spec.params.adapter } },
    );
  }
  if (ns.state === 'retired' || (await store.describeNamespace(ns.name)) === null) {
    throw new ReembedError(
      'INVALID_STATE',
      `Namespace ${ns.name} is ${ns.state === 'retired' ? 'retired' : 'missing from the store'} and holds no vectors; an alias cannot serve it.`,
      { details: { namespace: ns.name, state: ns.state } },
    );
  }
  const current = await catalog.getAlias(name).catch((error: unknown) => {
    if (error instanceof ReembedError && error.code === 'NOT_FOUND') return null;
    throw error;
  });
  if (current && current.collection !== ns.collection) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Alias "${name}" belongs to collection "${current.collection}"; ${ns.name} is of collection "${ns.collection}". Pick a namespace of "${current.collection}", or another alias name.`,
      { details: { alias: name, collection: current.collection, namespace: ns.name } },
    );
  }
  const open = await unfinished(backend);
  const owner = open.find((m) => m.alias === name);
  if (owner) {
    throw new ReembedError(
      'CONFLICT',
      `Alias "${name}" is being migrated by ${owner.id} (${owner.state}), which owns its routing: finish it (reembed migrate finish ${name}) or roll it back (reembed migrate rollback ${name}) first.`,
      { details: { alias: name, migration: owner.id, state: owner.state } },
    );
  }
  const building = open.find((m) => m.to === ns.name);
  if (building) {
    throw new ReembedError(
      'CONFLICT',
      `Namespace ${ns.name} is being built by migration ${building.id} (${building.state}, alias ${building.alias}); serve it through that migration's cutover.`,
      { details: { namespace: ns.name, migration: building.id } },
    );
  }
  if (current && current.routing.kind === 'single' && current.routing.namespace === ns.name) {
    return Object.freeze({
      kind: 'alias-change' as const,
      alias: current,
      previous: ns.name,
      changed: false,
      states: [],
    });
  }
  const coverage = await measureCoverage(backend, ns);
  if ((coverage.current < coverage.live || coverage.resurrected > 0) && !options.force) {
    throw new ReembedError(
      'INVALID_STATE',
      `Namespace ${ns.name} holds ${coverage.current} of ${coverage.live} live documents at their current version ` +
        `(${coverage.stale} stale, ${coverage.resurrected} deleted still held): serving it would lose recall. ` +
        `Complete it (reembed backfill run ${ns.name}), or pass --force with a --reason.`,
      { details: { namespace: ns.name, coverage } },
    );
  }
  if (options.force && !options.reason?.trim()) {
    throw new ReembedError(
      'INVALID_INPUT',
      'A forced alias change needs a reason (--reason "..."); it is written to the audit log.',
      { details: { field: 'reason' } },
    );
  }
  const previous = current ? servingNamespaceOf(current.routing) : null;
  const alias = await catalog.setAlias(name, ns.collection, { kind: 'single', namespace: ns.name }, actor, {
    ...(current ? { expectedVersion: current.version } : {}),
    reason:
      `${options.reason ?? 'alias set'}` +
      (options.force && coverage.current < coverage.live
        ? ` (forced: ${coverage.current}/${coverage.live} current)`
        : ''),
  });
  const states: { namespace: string; from: string; to: string }[] = [];
  if (ns.state !== 'serving') {
    await catalog.setNamespaceState(ns.name, 'serving', actor);
    states.push({ namespace: ns.name, from: ns.state, to: 'serving' });
  }
  if (previous && previous !== ns.name) {
    const stillRouted = (await catalog.listAliases(ns.collection)).some((a) =>
      namespacesOf(a.routing).includes(previous),
    );
    const old = await catalog.getNamespace(previous);
    if (!stillRouted && old.state === 'serving') {
      await catalog.setNamespaceState(previous, 'active', actor);
      states.push({ namespace: previous, from: 'serving', to: 'active' });
    }
  }
  return Object.freeze({
    kind: 'alias-change' as const,
    alias,
    previous,
    changed: true,
    states: Object.freeze(states),
  });
}
