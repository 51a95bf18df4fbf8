import { type QualityBaseline, readBaseline } from '../bridge/baseline.js';
import { buildCorpusBridge, derivedNamespaceOf } from '../bridge/corpus.js';
import { requireAdapters } from '../bridge/fit.js';
import { mapQueryVector } from '../bridge/serving.js';
import type { LoadedAdapter } from '../core/adapter.js';
import { ReembedError } from '../core/errors.js';
import type { GoldenSet } from '../core/golden.js';
import type { Migration, MigrationBridge, MigrationOptions } from '../core/migration.js';
import type { Namespace } from '../core/namespace.js';
import { queryText } from '../core/pipeline.js';
import type { ProbeSet } from '../core/probe.js';
import type { Space } from '../core/space.js';
import { evaluateRetriever, type RetrieverEvaluation } from '../eval/evaluate.js';
import type { AdapterRecord } from '../ports/adapters.js';
import type { Backend } from '../ports/backend.js';
import type { EmbedderCache } from './embedders.js';
import type { MigrationContext } from './migrate-context.js';
import { compareProbeEvaluations, type ProbeComparison, probeFacts } from './probe-compare.js';
import { embedAll, evaluateProbe, type ProbeApp } from './probes.js';
import type { QueryEngine } from './query.js';

/**
 * Bridged migrations (issue 17, `migrate start --strategy lazy|progressive --bridge query|corpus`): the
 * alias serves the new model from day 0 through an adapter that passed its gate, fused with the new
 * namespace's native records as the backfill writes them (progressive: on the share of traffic moved so
 * far; the rest reads the bridge alone), and the old model is never called again — not on queries (the
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

/**
 * The old side of a bridged migration's quality gates. The old model is gone, so `old.*` cannot be
 * measured: it is the clean-old quality recorded on the same set (same digest) while the old model still
 * answered — `reembed adapter eval` records it on the golden set and on the collection's probe — or, when
 * nothing was recorded, what the bridge itself serves on that set (measured now, through the adapter,
 * without the old model): a cutover may never serve worse than the bridge did.
 */
export interface BridgeBaseline {
  readonly source: 'recorded' | 'bridge';
  /** `probe:<name>` or the golden set's name. */
  readonly set: string;
  readonly digest: string;
  /** When the recorded quality was measured (null for the bridge). */
  readonly at: string | null;
  /** One sentence for `migrate plan` / `status`: which baseline and why. */
  readonly why: string;
}

export function bridgeBaselineOf(
  old: Namespace,
  bridge: MigrationBridge | null | undefined,
  set: { readonly label: string; readonly digest: string; readonly kind: 'golden' | 'probe' },
): BridgeBaseline {
  const recorded = readBaseline(old, set.digest);
  const adapter = bridge?.name ?? 'the adapter';
  if (recorded) {
    return Object.freeze({
      source: 'recorded' as const,
      set: set.label,
      digest: set.digest,
      at: recorded.at,
      why: `old = clean ${old.name} quality on ${set.label}, recorded ${recorded.at} while its model still answered (adapter eval); the old model is not called`,
    });
  }
  return Object.freeze({
    source: 'bridge' as const,
    set: set.label,
    digest: set.digest,
    at: null,
    why: `old = what bridge ${adapter} serves on ${set.label}, measured through the adapter without the old model (no clean-old quality was recorded on this set while the old model answered): the cutover may not serve worse than the bridge did${
      set.kind === 'probe'
        ? '; both sides score each document as stored, since held-out text cannot be embedded in the old space'
        : ''
    }`,
  });
}

/** What measuring a bridge needs. */
export interface BridgeMeasureContext {
  readonly backend: Backend;
  readonly embedders: EmbedderCache;
  readonly queries: QueryEngine;
}

/**
 * Embeds query texts as the bridge serves them: with the new model, then — for a query bridge — mapped
 * into the old space by the adapter. Never calls the old model.
 */
export async function bridgeQueryVectors(
  ctx: BridgeMeasureContext,
  bridge: MigrationBridge,
): Promise<{
  readonly loaded: LoadedAdapter;
  readonly embed: (texts: readonly string[], signal?: AbortSignal) => Promise<Float32Array[]>;
}> {
  const loaded = await requireAdapters(ctx.backend).load(bridge.adapter);
  const { spec } = loaded.adapter;
  const space = await ctx.backend.catalog.getSpace(
    spec.direction === 'query' ? spec.source.fingerprint : spec.target.fingerprint,
  );
  const embedder = await ctx.embedders.get(space);
  return {
    loaded,
    embed: async (texts, signal) => {
      const vectors = await embedAll(
        embedder,
        texts.map((t) => queryText(space.spec, t)),
        'query',
        signal,
      );
      return spec.direction === 'query' ? vectors.map((v) => mapQueryVector(loaded, v)) : vectors;
    },
  };
}

/** The bridge alone on a golden set: its primary read with new-model queries (the old model is not called). */
export async function evaluateBridgeOnGolden(
  ctx: BridgeMeasureContext,
  bridge: MigrationBridge,
  golden: GoldenSet,
): Promise<RetrieverEvaluation> {
  const primary = await ctx.backend.catalog.getNamespace(bridge.primary);
  const { embed } = await bridgeQueryVectors(ctx, bridge);
  return evaluateRetriever(golden, async (text, k) => {
    const [vector] = await embed([text]);
    const { hits } = await ctx.queries.queryNamespace(primary.name, {
      vector: vector as Float32Array,
      space: primary.space.fingerprint,
      k,
      exact: true,
    });
    return hits.map((h) => h.sourceId);
  });
}

/**
 * Both sides of a bridged migration's probe gates: the new namespace as it is, and the baseline — the
 * clean-old figures recorded on this probe, or the bridge alone measured now (then both sides score each
 * document as stored). Facts as `compareProbe` names them (`old.probe.mrr@10`, …).
 */
export async function compareBridgedProbe(
  ctx: BridgeMeasureContext & ProbeApp,
  migration: Migration,
  old: Namespace,
  probe: ProbeSet,
): Promise<{
  readonly comparison: ProbeComparison | null;
  readonly facts: Record<string, number>;
  readonly baseline: BridgeBaseline;
}> {
  const bridge = migration.options.bridge as MigrationBridge;
  const baseline = bridgeBaselineOf(old, bridge, {
    label: `probe:${probe.name}`,
    digest: probe.digest,
    kind: 'probe',
  });
  if (baseline.source === 'recorded') {
    const recorded = readBaseline(old, probe.digest) as QualityBaseline;
    const next = await evaluateProbe(ctx, migration.to, probe);
    const facts: Record<string, number> = probeFacts('new', next);
    for (const [metric, value] of Object.entries(recorded.metrics)) facts[`old.probe.${metric}`] = value;
    return { comparison: null, facts, baseline };
  }
  const { embed } = await bridgeQueryVectors(ctx, bridge);
  const served = await evaluateProbe(ctx, bridge.primary, probe, { heldOut: false, queryVectors: embed });
  const next = await evaluateProbe(ctx, migration.to, probe, { heldOut: false });
  const comparison = compareProbeEvaluations(served, next);
  return { comparison, facts: { ...comparison.facts }, baseline };
}
