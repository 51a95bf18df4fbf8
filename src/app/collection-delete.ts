import { ReembedError } from '../core/errors.js';
import type { Backend } from '../ports/backend.js';

export interface CollectionDeleteOptions {
  /** Report what would be deleted and change nothing. */
  readonly dryRun?: boolean;
  /** Why, written to the audit log. */
  readonly reason?: string;
}

/** What `deleteCollection` deleted (or, with `dryRun`, would delete). */
export interface CollectionDeleteReport {
  readonly kind: 'collection-delete';
  readonly collection: string;
  readonly dryRun: boolean;
  readonly namespaces: readonly {
    readonly name: string;
    readonly space: string;
    readonly fingerprint: string;
    readonly state: string;
    readonly records: number;
  }[];
  readonly aliases: readonly string[];
  readonly sources: { readonly live: number; readonly deleted: number };
  readonly migrations: readonly { readonly id: string; readonly state: string }[];
  /** Probe sets built from the collection's documents (`probe:<name>`), deleted with it. */
  readonly probes: readonly string[];
}

/**
 * Deletes a collection and everything of it: the vectors of every namespace (dropped in the store), its
 * job rows, dead letters and queues, its migrations (finished ones: an unfinished migration refuses the
 * delete with `CONFLICT`) with their kept query texts, its probe sets (each audited as `probe.delete`), its
 * retained sources, and finally — in one catalog transaction audited as `collection.delete` with a summary
 * of all of the above — its aliases, namespaces and the collection row.
 * The audit log keeps the history; the name can be used again. Each step is idempotent, so a delete
 * interrupted by a crash is finished by running it again (the collection stays listed until the end).
 */
export async function deleteCollection(
  backend: Backend,
  actor: string,
  name: string,
  options: CollectionDeleteOptions = {},
): Promise<CollectionDeleteReport> {
  const { catalog, store, sources } = backend;
  await catalog.getCollection(name);
  const migrations = backend.migrations ? await backend.migrations.list({ collection: name }) : [];
  const open = migrations.filter((m) => m.state !== 'retired' && m.state !== 'rolled-back');
  if (open.length > 0) {
    const m = open[0] as (typeof open)[number];
    throw new ReembedError(
      'CONFLICT',
      `Collection "${name}" has an unfinished migration, ${m.id} (${m.state}, alias ${m.alias}): roll it back (reembed migrate rollback ${m.alias}) or finish it (reembed migrate finish ${m.alias}) before deleting the collection.`,
      { details: { collection: name, migrations: open.map((x) => ({ id: x.id, state: x.state })) } },
    );
  }
  const namespaces = await catalog.listNamespaces(name);
  const rows: CollectionDeleteReport['namespaces'][number][] = [];
  for (const ns of namespaces) {
    const held = ns.state !== 'retired' && (await store.describeNamespace(ns.name)) !== null;
    rows.push({
      name: ns.name,
      space: ns.space.name,
      fingerprint: ns.space.fingerprint,
      state: ns.state,
      records: held ? (await store.stats(ns.name)).records : 0,
    });
  }
  const report: CollectionDeleteReport = Object.freeze({
    kind: 'collection-delete' as const,
    collection: name,
    dryRun: options.dryRun === true,
    namespaces: Object.freeze(rows),
    aliases: Object.freeze((await catalog.listAliases(name)).map((a) => a.name)),
    sources: await sources.count(name),
    migrations: Object.freeze(migrations.map((m) => ({ id: m.id, state: m.state }))),
    probes: Object.freeze(
      backend.probes
        ? (await backend.probes.list()).filter((p) => p.collection === name).map((p) => p.name)
        : [],
    ),
  });
  if (options.dryRun) return report;
  for (const ns of namespaces) await store.dropNamespace(ns.name);
  await backend.jobs?.purge(namespaces.map((ns) => ns.name));
  await backend.migrations?.purge(name);
  for (const probe of report.probes) await backend.probes?.delete(probe, { actor });
  await sources.purge(name);
  const { kind: _kind, dryRun: _dry, collection: _name, ...summary } = report;
  await catalog.deleteCollection(name, actor, { ...summary, reason: options.reason ?? null });
  return report;
}
