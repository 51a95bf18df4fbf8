import { readBaseline, recordBaseline } from '../bridge/baseline.js';
import { buildCorpusBridge, type CorpusApp, derivedNamespaceOf } from '../bridge/corpus.js';
import { requireAdapters } from '../bridge/fit.js';
import { commonDocuments, requireVectors } from '../bridge/pairs.js';
import { mapQueryVector } from '../bridge/serving.js';
import type { LoadedAdapter } from '../core/adapter.js';
import { applyAffine } from '../core/adapter-fit.js';
import {
  type AdapterEvaluation,
  adapterEvaluation,
  bootstrapMean,
  defaultBridgeRules,
  MIN_RECOVERY_DOCS,
} from '../core/adapter-gate.js';
import { isReembedError } from '../core/errors.js';
import type { GoldenSet } from '../core/golden.js';
import { ndcgAt, reciprocalRankAt } from '../core/metrics.js';
import { type Namespace, namespaceName } from '../core/namespace.js';
import { queryText } from '../core/pipeline.js';
import type { Routing } from '../core/routing.js';
import { pairedSignificance } from '../core/significance.js';
import { evaluateRetriever, type RetrieverEvaluation } from '../eval/evaluate.js';
import type { AdapterRecord } from '../ports/adapters.js';
import type { Backend } from '../ports/backend.js';
import type { EmbedderCache } from './embedders.js';
import { collectionProbe } from './migrate-probe.js';
import { evaluateProbe } from './probes.js';
import { QueryEngine } from './query.js';
import { measureCoverage } from './status.js';

export interface EvaluateAdapterOptions {
  readonly golden: GoldenSet;
  /** Gate rules (default: `defaultBridgeRules(metric)`). */
  readonly rules?: readonly string[];
  /** The gate's metric (default `ndcg@10`). */
  readonly metric?: string;
  readonly reason?: AdapterEvaluation['reason'];
  /**
   * Clean old quality: `auto` (default) measures the old namespace with the old model when its provider
   * answers and falls back to the quality recorded for it on this set; `recorded` never calls the old
   * model (the deprecation case).
   */
  readonly old?: 'auto' | 'recorded';
  /** Append the evaluation to the adapter's history (default true). */
  readonly record?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: {
    readonly stage: string;
    readonly done: number;
    readonly total: number;
  }) => void;
}

export interface AdapterEvaluationResult {
  readonly evaluation: AdapterEvaluation;
  readonly record: AdapterRecord | null;
  readonly runs: {
    readonly bridged: RetrieverEvaluation;
    readonly alone: RetrieverEvaluation;
    readonly old: RetrieverEvaluation | null;
  };
}

/** What evaluating a bridge needs of an app. */
export interface EvaluateApp extends CorpusApp {
  readonly embedders: EmbedderCache;
}

/** The old and new namespaces a bridge joins, from its adapter (a query bridge maps new → old). */
export async function namespacesOfAdapter(
  backend: Backend,
  loaded: LoadedAdapter,
): Promise<{ old: Namespace; next: Namespace }> {
  const { spec } = loaded.adapter;
  const [oldRef, newRef] =
    spec.direction === 'query' ? [spec.target, spec.source] : [spec.source, spec.target];
  const [oldSpace, newSpace] = await Promise.all([
    backend.catalog.getSpace(oldRef.fingerprint),
    backend.catalog.getSpace(newRef.fingerprint),
  ]);
  const [old, next] = await Promise.all([
    backend.catalog.getNamespace(namespaceName(spec.collection, oldSpace)),
    backend.catalog.getNamespace(namespaceName(spec.collection, newSpace)),
  ]);
  return { old, next };
}

/** The routing a bridge serves through: the primary (old namespace or derived one) fused with the new namespace. */
export function bridgedRouting(loaded: LoadedAdapter, primary: string, next: string): Routing {
  return {
    kind: 'fused',
    primary,
    next,
    fusion: { method: 'coverage-aware-score', embedOnRead: false },
    bridge: { adapter: loaded.adapter.fingerprint, direction: loaded.adapter.spec.direction },
  };
}

/**
 * Evaluates a bridge on a golden set and applies its gate: what the bridge serves (fused with the new
 * namespace's native records at their current coverage) against the new namespace alone and clean old,
 * with bootstrap intervals and the recovery on held-out documents. A passing evaluation lets a `fitted`
 * adapter serve (invariant 9); every evaluation is kept in the adapter's history. Reads only: nothing is
 * written to a namespace (a corpus bridge's derived namespace is built first if it is missing).
 *
 * @example
 * const { evaluation } = await evaluateAdapter(app, 'lsa-256-to-minilm.1', { golden });
 * evaluation.passed;
 */
export async function evaluateAdapter(
  app: EvaluateApp,
  adapterRef: string,
  options: EvaluateAdapterOptions,
): Promise<AdapterEvaluationResult> {
  const repository = requireAdapters(app.backend);
  const loaded = await repository.load(adapterRef);
  const { adapter } = loaded;
  const metric = options.metric ?? 'ndcg@10';
  const rules = options.rules ?? defaultBridgeRules(metric);
  const golden = options.golden;
  const { old, next } = await namespacesOfAdapter(app.backend, loaded);
  const notes: string[] = [];
  let primary = old.name;
  if (adapter.spec.direction === 'corpus') {
    const derived = await derivedNamespaceOf(app.backend, loaded);
    const held = (await app.backend.catalog.listNamespaces(adapter.spec.collection)).find(
      (n) => n.name === derived.name,
    );
    if (!held || held.state === 'building') {
      await buildCorpusBridge(app, adapter.fingerprint, {
        ...(options.signal ? { signal: options.signal } : {}),
      });
      notes.push(`built the derived namespace ${derived.name} (mapped, no provider calls)`);
    }
    primary = derived.name;
  }
  const engine = new QueryEngine(app.backend, app.embedders, { random: () => 1 });
  const ks = [1, 5, 10, 100];
  const run = (stage: string, retrieve: (text: string, k: number) => Promise<string[]>) =>
    evaluateRetriever(golden, (text, k) => retrieve(text, k), {
      ks,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress
        ? { onProgress: (p: { done: number; total: number }) => options.onProgress?.({ stage, ...p }) }
        : {}),
    });
  const routing = bridgedRouting(loaded, primary, next.name);
  const bridged = await run('bridged', async (text, k) =>
    (await engine.queryRouting(adapter.spec.collection, routing, { text, k, exact: true })).hits.map(
      (h) => h.sourceId,
    ),
  );
  const alone = await run('new alone', async (text, k) =>
    (await engine.queryNamespace(next.name, { text, k, exact: true })).hits.map((h) => h.sourceId),
  );
  const oldRun = await measureOld(app, engine, old, golden, options, run, notes);
  const coverage = await measureCoverage(app.backend, next);
  const facts: Record<string, number> = { coverage: coverage.ratio, 'set.queries': golden.queries.length };
  const values = (e: RetrieverEvaluation): number[] => e.perQuery.map((q) => q.metrics[metric] ?? 0);
  const put = (side: string, e: RetrieverEvaluation | null, perQuery?: number[]): void => {
    if (!e) return;
    facts[`${side}.${metric}`] = e.metrics[metric] ?? 0;
    const [lo, hi] = bootstrapMean(perQuery ?? values(e));
    facts[`${side}.${metric}.lo`] = lo;
    facts[`${side}.${metric}.hi`] = hi;
  };
  put('bridged', bridged);
  put('alone', alone);
  let oldSource: AdapterEvaluation['oldSource'] = 'unavailable';
  let oldPerQuery: Map<string, number> | null = null;
  if (oldRun) {
    put('old', oldRun);
    oldSource = 'measured';
    oldPerQuery = new Map(oldRun.perQuery.map((q) => [q.queryId, q.metrics[metric] ?? 0]));
  } else {
    const recorded = readBaseline(await app.backend.catalog.getNamespace(old.name), golden.digest);
    if (recorded && recorded.metrics[metric] !== undefined) {
      facts[`old.${metric}`] = recorded.metrics[metric] as number;
      oldSource = 'recorded';
      oldPerQuery = recorded.metric === metric ? new Map(Object.entries(recorded.perQuery)) : null;
      notes.push(`clean old quality recorded on ${recorded.at} (the old model was not called)`);
    } else {
      notes.push(
        `clean old quality unknown: the old model was not available and nothing was recorded for ${old.name} on ${golden.name}; evaluate the old namespace while its provider answers (reembed adapter eval records it), or pass rules that do not read old.*`,
      );
    }
  }
  const bridgedById = new Map(bridged.perQuery.map((q) => [q.queryId, q.metrics[metric] ?? 0]));
  const difference = (name: string, other: ReadonlyMap<string, number>): void => {
    const ids = [...bridgedById.keys()].filter((id) => other.has(id));
    if (ids.length < 2) return;
    const diff = pairedSignificance(
      ids.map((id) => other.get(id) as number),
      ids.map((id) => bridgedById.get(id) as number),
      { iterations: 2000 },
    );
    facts[`${name}.${metric}.lo`] = diff.ci95[0];
    facts[`${name}.${metric}.hi`] = diff.ci95[1];
  };
  difference('vs_alone', new Map(alone.perQuery.map((q) => [q.queryId, q.metrics[metric] ?? 0])));
  if (oldPerQuery) difference('vs_old', oldPerQuery);
  const recovery = await measureRecovery(app, loaded, old, next, golden, metric);
  if (recovery.value !== null) {
    facts.recovery = recovery.value;
    facts['recovery.documents'] = recovery.documents;
    facts['recovery.queries'] = recovery.queries;
  }
  if (recovery.note) notes.push(recovery.note);
  const evaluation = adapterEvaluation({
    adapter: adapter.fingerprint,
    at: new Date().toISOString(),
    set: { kind: 'golden', name: golden.name, queries: golden.queries.length },
    metric,
    reason: options.reason ?? 'eval',
    facts,
    oldSource,
    rules,
    notes,
  });
  const record =
    options.record === false
      ? null
      : await repository.addEvaluation(adapter.fingerprint, evaluation, app.actor);
  return { evaluation, record, runs: { bridged, alone, old: oldRun } };
}

/**
 * Clean old quality, measured with the old model when it answers (and recorded for later), else null.
 * A frozen old namespace (its provider is gone) or `old: 'recorded'` never calls the old model.
 */
async function measureOld(
  app: EvaluateApp,
  engine: QueryEngine,
  old: Namespace,
  golden: GoldenSet,
  options: EvaluateAdapterOptions,
  run: (
    stage: string,
    retrieve: (text: string, k: number) => Promise<string[]>,
  ) => Promise<RetrieverEvaluation>,
  notes: string[],
): Promise<RetrieverEvaluation | null> {
  if (options.old === 'recorded' || old.info.frozen === true) return null;
  try {
    const result = await run('clean old', async (text, k) =>
      (await engine.queryNamespace(old.name, { text, k, exact: true })).hits.map((h) => h.sourceId),
    );
    if (result.errors.count > 0) {
      notes.push(
        `the old model failed on ${result.errors.count} queries (${result.errors.samples[0]?.message ?? ''}); using recorded quality`,
      );
      return null;
    }
    const metric = options.metric ?? 'ndcg@10';
    await recordBaseline(app.backend, old.name, golden.digest, {
      set: golden.name,
      at: new Date().toISOString(),
      metrics: { ...result.metrics },
      perQuery: Object.fromEntries(result.perQuery.map((q) => [q.queryId, q.metrics[metric] ?? 0])),
      metric,
    });
    notes.push(await recordProbeBaseline(app, old, options.signal));
    return result;
  } catch (error) {
    if (isReembedError(error, 'ABORTED')) throw error;
    notes.push(
      `the old model is not available (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); using recorded quality`,
    );
    return null;
  }
}

/**
 * While the old model answers, records the old namespace's quality on the collection's probe set (built
 * and stored if there is none): a later bridged migration gating on that probe reads it as clean old,
 * since it can no longer call the old model. Returns a note for the evaluation.
 */
async function recordProbeBaseline(app: EvaluateApp, old: Namespace, signal?: AbortSignal): Promise<string> {
  if (!app.backend.probes) return `no probe recorded: the ${app.backend.kind} backend stores no probe sets`;
  try {
    const { probe } = await collectionProbe(app, old.collection);
    const result = await evaluateProbe(app, old.name, probe, signal ? { signal } : {});
    if (result.errors.count > 0)
      return `clean old quality on probe:${probe.name} not recorded: the old model failed on ${result.errors.count} queries`;
    await recordBaseline(app.backend, old.name, probe.digest, {
      set: `probe:${probe.name}`,
      at: new Date().toISOString(),
      metrics: { ...result.metrics },
      perQuery: Object.fromEntries(result.perQuery.map((q) => [q.queryId, q.metrics['mrr@10'] ?? 0])),
      metric: 'mrr@10',
    });
    return `clean old quality on probe:${probe.name} recorded (MRR@10 ${(result.metrics['mrr@10'] ?? 0).toFixed(3)}) for bridged migrations' probe gates`;
  } catch (error) {
    if (isReembedError(error, 'ABORTED')) throw error;
    return `clean old quality on the collection's probe not recorded: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}

const RECOVERY_DOCS = 5_000;

/**
 * Recovery: bridged ÷ native quality on the same documents — those the new namespace holds natively
 * (at the version the old one holds) that the adapter was not fitted on. Both rank only those documents,
 * the judged set restricted to them; computed in memory from the stored vectors.
 */
async function measureRecovery(
  app: EvaluateApp,
  loaded: LoadedAdapter,
  old: Namespace,
  next: Namespace,
  golden: GoldenSet,
  metric: string,
): Promise<{ value: number | null; documents: number; queries: number; note?: string }> {
  const sample = new Set(await requireAdapters(app.backend).sample(loaded.adapter.fingerprint));
  const held: string[] = [];
  await commonDocuments(app.backend, old, next, (id) => {
    if (!sample.has(id) && held.length < RECOVERY_DOCS) held.push(id);
  });
  if (held.length < MIN_RECOVERY_DOCS) {
    return {
      value: null,
      documents: held.length,
      queries: 0,
      note: `recovery not measured: ${held.length} documents are held natively outside the adapter's sample (needs ${MIN_RECOVERY_DOCS}); it is measured once the backfill has gone further`,
    };
  }
  const inHeld = new Set(held);
  const queries = golden.queries.filter((q) =>
    Object.entries(golden.qrels[q.id] ?? {}).some(([doc, grade]) => grade > 0 && inHeld.has(doc)),
  );
  if (queries.length < 5) {
    return {
      value: null,
      documents: held.length,
      queries: queries.length,
      note: `recovery not measured: only ${queries.length} judged queries have a relevant document among the ${held.length} held-out documents`,
    };
  }
  const reader = requireVectors(app.backend);
  const [oldRecords, newRecords] = await Promise.all([
    reader.read(old.name, held),
    reader.read(next.name, held),
  ]);
  const embedder = await app.embedders.get(next.space);
  const qv = await embedder.embed(
    queries.map((q) => queryText(next.space.spec, q.text)),
    { inputType: 'query' },
  );
  const { adapter } = loaded;
  const rank = (rows: readonly { sourceId: string; vector: Float32Array }[], q: Float32Array): string[] => {
    const byDoc = new Map<string, number>();
    for (const r of rows) {
      let s = 0;
      for (let i = 0; i < q.length; i++) s += (q[i] as number) * (r.vector[i] as number);
      if (s > (byDoc.get(r.sourceId) ?? Number.NEGATIVE_INFINITY)) byDoc.set(r.sourceId, s);
    }
    return [...byDoc.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
  };
  // A corpus bridge ranks the old vectors mapped into the new space; a query bridge maps the query instead.
  const bridgedRows =
    adapter.spec.direction === 'corpus'
      ? oldRecords.map((r) => ({
          sourceId: r.sourceId,
          vector: applyAffine(
            loaded.map,
            r.vector,
            new Float32Array(loaded.map.outputDimension),
            adapter.spec.normalise,
          ),
        }))
      : oldRecords;
  const k = Number(metric.split('@')[1] ?? 10);
  const measure = metric.includes('mrr') ? reciprocalRankAt : ndcgAt;
  let nativeSum = 0;
  let bridgedSum = 0;
  queries.forEach((q, i) => {
    const judgments = Object.fromEntries(
      Object.entries(golden.qrels[q.id] ?? {}).filter(([doc]) => inHeld.has(doc)),
    );
    const v = qv[i] as Float32Array;
    nativeSum += measure(rank(newRecords, v), judgments, k);
    bridgedSum += measure(
      rank(bridgedRows, adapter.spec.direction === 'corpus' ? v : mapQueryVector(loaded, v)),
      judgments,
      k,
    );
  });
  if (nativeSum === 0) {
    return {
      value: null,
      documents: held.length,
      queries: queries.length,
      note: 'recovery not measured: native quality on the held-out documents is 0',
    };
  }
  return { value: bridgedSum / nativeSum, documents: held.length, queries: queries.length };
}
