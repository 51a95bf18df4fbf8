import type { Namespace, NamespaceManifest } from '../core/namespace.js';
import { namespacesOf } from '../core/routing.js';
import { spaceSummary } from '../core/space.js';
import type { Backend } from '../ports/backend.js';

export interface Coverage {
  /** Live source documents of the collection. */
  readonly live: number;
  /** Live documents the namespace holds at their newest version. */
  readonly current: number;
  /** Live documents the namespace holds at an older version (content changed, not regenerated yet). */
  readonly stale: number;
  /** Tombstoned source documents the namespace still holds records for (must be 0). */
  readonly resurrected: number;
  readonly ratio: number;
  /** With `byTenant`: live and current documents per tenant (`''` for none); progressive rollouts move complete tenants. */
  readonly tenants?: Readonly<Record<string, { live: number; current: number }>>;
}

const PAGE = 2_000;

/**
 * Compares a namespace with the source of truth in bounded memory (keyset pages of sources and heads).
 * Staleness keys on version, which changes with content: a record whose version is behind the source is
 * stale whatever its vector says (invariant 3 — the fingerprint half is enforced by the namespace guard).
 */
export async function measureCoverage(
  backend: Backend,
  ns: Namespace,
  options: { byTenant?: boolean } = {},
): Promise<Coverage> {
  const tenants: Record<string, { live: number; current: number }> = {};
  let live = 0;
  let current = 0;
  let stale = 0;
  let resurrected = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await backend.sources.scan(ns.collection, { afterId, limit: PAGE, includeDeleted: true });
    if (page.length === 0) break;
    const heads = await backend.store.heads(
      ns.name,
      page.map((d) => d.id),
    );
    for (const doc of page) {
      const head = heads.get(doc.id);
      if (doc.deleted) {
        if (head && !head.deleted) resurrected++;
        continue;
      }
      live++;
      let tenant: { live: number; current: number } | null = null;
      if (options.byTenant) {
        tenant = tenants[doc.tenant ?? ''] ?? { live: 0, current: 0 };
        tenants[doc.tenant ?? ''] = tenant;
        tenant.live++;
      }
      if (!head || head.deleted) continue;
      if (head.sourceVersion >= doc.version) {
        current++;
        if (tenant) tenant.current++;
      } else stale++;
    }
    afterId = page[page.length - 1]?.id;
  }
  const ratio = live === 0 ? 1 : current / live;
  return options.byTenant
    ? { live, current, stale, resurrected, ratio, tenants }
    : { live, current, stale, resurrected, ratio };
}

export async function namespaceManifest(backend: Backend, ns: Namespace): Promise<NamespaceManifest> {
  const [stats, coverage, aliases] = await Promise.all([
    ns.state === 'retired' ? null : backend.store.stats(ns.name),
    ns.state === 'retired' ? null : measureCoverage(backend, ns),
    backend.catalog.listAliases(ns.collection),
  ]);
  return {
    kind: 'manifest',
    namespace: ns.name,
    collection: ns.collection,
    state: ns.state,
    space: spaceSummary(ns.space),
    records: stats?.records ?? 0,
    sources: stats?.sources ?? 0,
    fingerprints: stats?.fingerprints ?? {},
    coverage: coverage
      ? { live: coverage.live, current: coverage.current, stale: coverage.stale, ratio: coverage.ratio }
      : { live: 0, current: 0, stale: 0, ratio: 0 },
    aliases: aliases.filter((a) => namespacesOf(a.routing).includes(ns.name)).map((a) => a.name),
    createdAt: ns.createdAt,
    createdFrom: ns.createdFrom,
    retiredAt: ns.retiredAt,
    info: ns.info,
  };
}
