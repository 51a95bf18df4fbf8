import { buildCorpusBridge, derivedNamespaceOf } from '../bridge/corpus.js';
import { requireAdapters } from '../bridge/fit.js';
import { ReembedError } from '../core/errors.js';
import type { Migration, MigrationBridge, MigrationOptions } from '../core/migration.js';
import type { Namespace } from '../core/namespace.js';
import type { Space } from '../core/space.js';
import type { AdapterRecord } from '../ports/adapters.js';
import type { MigrationContext } from './migrate-context.js';

/**
 * Bridged migrations (issue 17, `migrate start --strategy lazy --bridge query|corpus`): the alias serves the
 * new model from day 0 through an adapter that passed its gate, fused with the new namespace's native
 * records as the backfill writes them, and the old model is never called again — not on queries (the
 * bridge maps new-model queries, or reads the derived namespace) and not on writes (the old namespace is
 * frozen: it takes deletes only; new and changed documents are embedded natively in the new namespace,
 * where the fusion serves them since they are newer).
 */

/** The adapter a bridged migration serves through, checked against its spaces and gate; a corpus bridge's derived namespace is built (or caught up). */
export async function resolveBridge(
  ctx: MigrationContext,
  options: MigrationOptions,
  from: Namespace,
  space: Space,
): Promise<MigrationBridge> {
  const request = options.bridge as Partial<MigrationBridge> & Pick<MigrationBridge, 'direction'>;
  const { direction } = request;
  const repository = requireAdapters(ctx.backend);
  const [sourceFp, targetFp] =
    direction === 'query'
      ? [space.fingerprint, from.space.fingerprint]
      : [from.space.fingerprint, space.fingerprint];
  const fits = (r: AdapterRecord): boolean =>
    r.adapter.spec.collection === from.collection &&
    r.adapter.spec.direction === direction &&
    r.adapter.spec.source.fingerprint === sourceFp &&
    r.adapter.spec.target.fingerprint === targetFp;
  let record: AdapterRecord;
  if (request.adapter) {
    record = await repository.get(request.adapter);
    if (!fits(record)) {
      const s = record.adapter.spec;
      throw new ReembedError(
        'INVALID_INPUT',
        `Adapter ${record.adapter.name} is a ${s.direction} bridge ${s.source.name} → ${s.target.name} of collection ${s.collection}; a ${direction} bridge for migrating ${from.name} to ${space.name} maps ${direction === 'query' ? `${space.name} → ${from.space.name}` : `${from.space.name} → ${space.name}`}. Fit one: reembed adapter fit ${from.collection} --from ${from.space.name} --to ${space.name} --direction ${direction}.`,
        { details: { adapter: record.adapter.name, direction: s.direction, wanted: direction } },
      );
    }
  } else {
    const candidates = (await repository.list({ collection: from.collection })).filter(fits);
    const passed = candidates.filter((r) => r.state === 'passed');
    const newest = (rs: AdapterRecord[]) =>
      rs.reduce<AdapterRecord | null>(
        (a, b) => (a === null || b.adapter.createdAt > a.adapter.createdAt ? b : a),
        null,
      );
    const chosen = newest(passed) ?? newest(candidates);
    if (!chosen) {
      throw new ReembedError(
        'NOT_FOUND',
        `No ${direction} adapter between ${from.space.name} and ${space.name} in collection ${from.collection}. Fit and evaluate one first: reembed adapter fit ${from.collection} --from ${from.space.name} --to ${space.name} --direction ${direction} --golden <set>.`,
        { details: { collection: from.collection, direction, from: from.space.name, to: space.name } },
      );
    }
    record = chosen;
  }
  const { adapter } = record;
  if (record.state !== 'passed') {
    // Invariant 9: a bridge serves only after its gate passed.
    throw new ReembedError(
      'GATE_FAILED',
      `Adapter ${adapter.name} is ${record.state === 'revoked' ? 'revoked' : 'not gated: it has not passed its evaluation gate'}, so no migration may serve through it (invariant 9). ${
        record.state === 'revoked'
          ? `Fit a new one: reembed adapter fit ${from.collection} --from ${from.space.name} --to ${space.name} --direction ${direction} --golden <set>.`
          : `Evaluate it: reembed adapter eval ${adapter.name} --golden <set>${record.latest && !record.latest.passed ? ' (its last evaluation failed: a bridge that loses quality is refused; keep serving the old model, or migrate without a bridge)' : ''}.`
      }`,
      { details: { adapter: adapter.name, fingerprint: adapter.fingerprint, state: record.state } },
    );
  }
  let primary = from.name;
  if (direction === 'corpus') {
    const loaded = await repository.load(adapter.fingerprint);
    primary = (await derivedNamespaceOf(ctx.backend, loaded)).name;
    // Maps only what the old namespace gained since the derived one was built: no provider is called.
    await buildCorpusBridge(ctx.app, adapter.fingerprint);
  }
  return Object.freeze({ direction, adapter: adapter.fingerprint, name: adapter.name, primary });
}

/** Freezes the old namespace of a bridged migration (idempotent): it takes deletes only from now on. */
export async function freezeOld(ctx: MigrationContext, migration: Migration): Promise<string> {
  const ns = await ctx.backend.catalog.getNamespace(migration.from);
  if (ns.info.frozen === true) return `${ns.name} is frozen (its model is not called)`;
  await ctx.backend.catalog.updateNamespaceInfo(ns.name, { frozen: true, frozenBy: migration.id });
  await ctx.backend.catalog.audit(ctx.actor, 'namespace.freeze', ns.name, {
    migration: migration.id,
    bridge: migration.options.bridge?.name ?? null,
  });
  return `${ns.name} frozen: its model is not called again; new and changed documents are embedded in ${migration.to} only`;
}

/**
 * Unfreezes the old namespace after a bridged migration was rolled back: its model is needed again, and
 * it misses what was written while it was frozen (a re-embedding in the old space catches up).
 */
export async function unfreezeOld(ctx: MigrationContext, migration: Migration): Promise<string | null> {
  const ns = await ctx.backend.catalog.getNamespace(migration.from);
  if (ns.info.frozen !== true || ns.info.frozenBy !== migration.id) return null;
  await ctx.backend.catalog.updateNamespaceInfo(ns.name, { frozen: false, frozenBy: null });
  await ctx.backend.catalog.audit(ctx.actor, 'namespace.unfreeze', ns.name, { migration: migration.id });
  return `${ns.name} takes writes again (its model is called again); documents written while it was frozen are missing from it until re-embedded`;
}
