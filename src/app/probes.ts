import { ReembedError } from '../core/errors.js';
import { documentChunks, queryText } from '../core/pipeline.js';
import {
  heldOutRanking,
  type ProbeParamsInput,
  type ProbeQuery,
  type ProbeSet,
  probeAsGolden,
  resolveProbeParams,
} from '../core/probe.js';
import { ProbeSampler } from '../core/probe-sample.js';
import { isNearDuplicate, wordSet } from '../core/probe-text.js';
import type { SearchHit, SourceDocument } from '../core/records.js';
import type { Space } from '../core/space.js';
import { similarity } from '../core/vector.js';
import { type EvaluateOptions, evaluateRetriever, type RetrieverEvaluation } from '../eval/evaluate.js';
import { type Backend, requireRepository } from '../ports/backend.js';
import type { Embedder } from '../ports/embedder.js';
import type { ProbeSetInfo, ProbeSetRepository } from '../ports/evaluation-sets.js';
import { searchMany } from '../ports/search-many.js';
import { probeName } from './migrate-options.js';
import type { Reembed } from './reembed.js';

export { probeName };

/**
 * Probe sets of a collection: built from its own live documents (`core/probe.ts`), stored by name in the
 * backend's probe repository (`probe:<name>` wherever a set is referenced), and evaluated on a namespace
 * with the metrics of judged sets — always labelled *probe*.
 */
export const PROBE_PREFIX = 'probe:';

export interface BuildProbeOptions {
  /** Name of the set (default: the collection's name). */
  readonly name?: string;
  readonly params?: ProbeParamsInput;
  readonly signal?: AbortSignal;
  /** Called after each page of sources read. */
  readonly onProgress?: (progress: { readonly read: number; readonly total: number }) => void;
}

const PAGE = 1_000;

/** Builds a probe set from the collection's live sources (one scan, bounded memory). Stores nothing. */
export async function buildProbeSet(
  backend: Backend,
  collection: string,
  options: BuildProbeOptions = {},
): Promise<ProbeSet> {
  await backend.catalog.getCollection(collection);
  const params = resolveProbeParams(options.params);
  const sampler = new ProbeSampler(params);
  const { live } = await backend.sources.count(collection);
  await scanLive(backend, collection, options, live, (doc) => sampler.add(probeDocument(doc)));
  return sampler.build(options.name ?? collection, collection);
}

/** Pages through the live sources of a collection in id order. */
export async function scanLive(
  backend: Backend,
  collection: string,
  options: Pick<BuildProbeOptions, 'signal' | 'onProgress'>,
  total: number,
  visit: (doc: SourceDocument) => void,
): Promise<void> {
  let afterId: string | undefined;
  let read = 0;
  for (;;) {
    if (options.signal?.aborted) throw new ReembedError('ABORTED', 'Probe build aborted.');
    const page = await backend.sources.scan(collection, { limit: PAGE, ...(afterId ? { afterId } : {}) });
    if (page.length === 0) break;
    afterId = page[page.length - 1]?.id;
    for (const doc of page) visit(doc);
    read += page.length;
    options.onProgress?.({ read, total });
  }
}

/** A source as a probe document: a string `metadata.title` is its title. */
export function probeDocument(doc: SourceDocument) {
  const title = doc.metadata.title;
  return {
    id: doc.id,
    text: doc.text,
    tenant: doc.tenant,
    contentHash: doc.contentHash,
    title: typeof title === 'string' ? title : null,
  };
}

export function requireProbes(backend: Backend): ProbeSetRepository {
  return requireRepository(
    backend,
    'probes',
    'does not store probe sets; build and evaluate one in memory instead.',
  );
}

/** A stored probe set by reference (`probe:<name>` or `<name>`). */
export async function resolveProbeSet(backend: Backend, ref: string): Promise<ProbeSet> {
  return requireProbes(backend).get(probeName(ref));
}

/**
 * Builds and stores a probe set. Building again with the same seed over an unchanged collection gives the
 * same digest (a no-op save); a changed collection needs `replace` to overwrite the stored set.
 *
 * @example
 * const { info } = await createProbeSet(app, 'docs', { name: 'docs', params: { seed: 7 } });
 */
export async function createProbeSet(
  app: Reembed,
  collection: string,
  options: BuildProbeOptions & { readonly replace?: boolean } = {},
): Promise<{ probe: ProbeSet; info: ProbeSetInfo }> {
  const repository = requireProbes(app.backend);
  const probe = await buildProbeSet(app.backend, collection, options);
  const info = await repository.save(probe.name, probe, {
    actor: app.actor,
    source: `collection ${collection} (seed ${probe.params.seed}, ${probe.queries.length} queries)`,
    ...(options.replace ? { replace: true } : {}),
  });
  return { probe, info };
}

/** What probe evaluation needs of an app: its backend and the embedders of its spaces. */
export type ProbeApp = Pick<Reembed, 'backend' | 'embedders'>;

export interface ProbeEvaluateOptions extends Pick<EvaluateOptions, 'concurrency' | 'signal' | 'onProgress'> {
  /** Cut-offs (default 1, 5, 10). */
  readonly ks?: readonly number[];
  /**
   * Score each query's document as stored instead of its held-out text (default: as the probe says). A
   * bridge's old namespace cannot embed held-out text without the old model, so a bridged comparison
   * scores both sides this way.
   */
  readonly heldOut?: boolean;
  /**
   * Embeds the probe's query texts into the namespace's space instead of its own model: how a bridge's
   * primary is read (new-model queries, mapped by a query bridge's adapter). Requires `heldOut: false`.
   */
  readonly queryVectors?: (texts: readonly string[], signal?: AbortSignal) => Promise<Float32Array[]>;
}

export interface ProbeEvaluation extends RetrieverEvaluation {
  /** Always `probe`: these figures come from known-item queries, not from judged relevance. */
  readonly label: 'probe';
  readonly probe: { readonly name: string; readonly digest: string; readonly collection: string };
  readonly target: { readonly kind: 'namespace'; readonly name: string; readonly space: string };
  /** Queries left out because their document was deleted or changed since the probe was built. */
  readonly stale: number;
  /** Hits ignored because they are near-duplicates of the query's document (not counted as misses). */
  readonly duplicates: number;
  /** Per tenant (`''` for none): queries and their mean of each metric. */
  readonly tenants: Readonly<
    Record<string, { readonly queries: number; readonly metrics: Readonly<Record<string, number>> }>
  >;
}

const PROBE_KS: readonly number[] = Object.freeze([1, 5, 10]);
/** Probe queries per batched search call: an abort is noticed, and the event loop turns, between calls. */
const SEARCH_GROUP = 100;
/** Queries whose near-duplicate candidates are read together (bounds the texts held at once). */
const DUPLICATE_GROUP = 100;

/**
 * Evaluates a probe set on one namespace. Each query is embedded in the namespace's space and searched
 * exactly; the query's own document is replaced by its held-out version (embedded now, in the same
 * space, scored like the store scores), near-duplicates of it are ignored, and the resulting ranking is
 * scored by the golden-set metrics. Queries whose document changed or was deleted since the probe was
 * built are left out and counted (`stale`). Reads only; writes nothing.
 */
export async function evaluateProbe(
  app: ProbeApp,
  namespace: string,
  probe: ProbeSet,
  options: ProbeEvaluateOptions = {},
): Promise<ProbeEvaluation> {
  const ns = await app.backend.catalog.getNamespace(namespace);
  if (ns.collection !== probe.collection) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Probe set "${probe.name}" was built from collection "${probe.collection}", not "${ns.collection}" (namespace ${namespace}). Build one for this collection: reembed probe create ${ns.collection}.`,
      { details: { probe: probe.name, collection: probe.collection, namespace } },
    );
  }
  if (ns.state === 'retired') {
    throw new ReembedError('INVALID_STATE', `Namespace ${namespace} is retired and holds no vectors.`, {
      details: { namespace },
    });
  }
  const { fresh, stale, sources } = await freshQueries(app.backend, probe);
  const ks = [...(options.ks ?? PROBE_KS)].sort((a, b) => a - b);
  const depth = Math.max(...ks) + 20;
  let vectors: Map<string, Float32Array>;
  let heldOut = new Map<string, number>();
  if (options.queryVectors) {
    if (options.heldOut !== false)
      throw new ReembedError('INVALID_INPUT', 'evaluateProbe: queryVectors needs heldOut: false.');
    const embedded = await options.queryVectors(
      fresh.map((q) => q.text),
      options.signal,
    );
    vectors = new Map(fresh.map((q, i) => [q.id, embedded[i] as Float32Array]));
  } else {
    const embedder = await app.embedders.get(ns.space);
    vectors = await embedQueries(embedder, ns.space, fresh, options.signal);
    if (options.heldOut !== false)
      heldOut = await heldOutScores(embedder, ns.space, fresh, vectors, options.signal);
  }
  const byId = new Map(fresh.map((q) => [q.id, q]));
  const words = new Map<string, Set<string>>();
  const wordsOf = (id: string, text: string): Set<string> => {
    let set = words.get(id);
    if (!set) {
      set = wordSet(text);
      words.set(id, set);
    }
    return set;
  };
  let duplicates = 0;
  const chunked = ns.space.spec.chunker.kind !== 'none';
  // The queries' exact searches in batched calls (the store reads the namespace once per call), a group at
  // a time: between groups an abort is noticed and, when the caller can abort, the event loop gets a turn
  // (Ctrl-C). Without a signal no macrotask turn is taken, as in mapPool.
  const searched: SearchHit[][] = [];
  for (let i = 0; i < fresh.length; i += SEARCH_GROUP) {
    options.signal?.throwIfAborted();
    if (i > 0 && options.signal) await new Promise((resolve) => setImmediate(resolve));
    const group = fresh.slice(i, i + SEARCH_GROUP);
    searched.push(
      ...(await searchMany(
        app.backend.store,
        ns.name,
        group.map((q) => ({
          vector: vectors.get(q.id) as Float32Array,
          fingerprint: ns.space.fingerprint,
          k: chunked ? depth * 4 : depth,
          exact: true,
        })),
      )),
    );
  }
  // Only ids and scores are kept (not each hit's text) while the rankings are scored.
  const ranked = new Map(
    fresh.map((q, i) => [
      q.id,
      collapse(searched[i] as SearchHit[]).map(({ sourceId, score }) => ({ sourceId, score })),
    ]),
  );
  searched.length = 0;
  const heldOutScore = (q: ProbeQuery): number =>
    heldOut.get(q.id) ??
    ranked.get(q.id)?.find((h) => h.sourceId === q.sourceId)?.score ??
    Number.NEGATIVE_INFINITY;
  // Documents ranked at or above a query's own one, checked for near-duplicates of it. Their texts are read
  // for a group of queries at once (one read per group, not per query), holding one group's texts at a time.
  const ignored = new Map<string, Set<string>>();
  for (let i = 0; i < fresh.length; i += DUPLICATE_GROUP) {
    options.signal?.throwIfAborted();
    const group = fresh.slice(i, i + DUPLICATE_GROUP).map((q) => {
      const score = heldOutScore(q);
      const hits = ranked.get(q.id) as { sourceId: string; score: number }[];
      return {
        q,
        above: hits.filter((h) => h.sourceId !== q.sourceId && h.score >= score).map((h) => h.sourceId),
      };
    });
    const wanted = [...new Set(group.flatMap((g) => g.above))];
    if (wanted.length === 0) continue;
    const texts = await app.backend.sources.getMany(probe.collection, wanted);
    for (const { q, above } of group) {
      const doc = sources.get(q.sourceId) as SourceDocument;
      const ignore = new Set<string>();
      for (const id of above) {
        const other = texts.get(id);
        if (!other || other.deleted) continue;
        if (
          other.contentHash === doc.contentHash ||
          isNearDuplicate(wordsOf(doc.id, doc.text), wordsOf(id, other.text))
        )
          ignore.add(id);
      }
      duplicates += ignore.size;
      if (ignore.size > 0) ignored.set(q.id, ignore);
    }
  }
  const result = await evaluateRetriever(
    probeAsGolden(probe, fresh),
    async (_text, _k, { queryId }) => {
      const q = byId.get(queryId) as ProbeQuery;
      const hits = ranked.get(q.id) as { sourceId: string; score: number }[];
      const score = heldOutScore(q);
      const ignore = ignored.get(q.id) ?? new Set<string>();
      return heldOutRanking(hits, { sourceId: q.sourceId, score }, ignore);
    },
    {
      ks,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );
  return Object.freeze({
    ...result,
    label: 'probe' as const,
    probe: Object.freeze({ name: probe.name, digest: probe.digest, collection: probe.collection }),
    target: Object.freeze({ kind: 'namespace' as const, name: ns.name, space: ns.space.name }),
    stale,
    duplicates,
    tenants: tenantMetrics(result, byId),
  });
}

/** Queries whose document is live at the content hash the query was cut from, and those documents. */
async function freshQueries(
  backend: Backend,
  probe: ProbeSet,
): Promise<{ fresh: ProbeQuery[]; stale: number; sources: Map<string, SourceDocument> }> {
  const sources = new Map<string, SourceDocument>();
  const ids = probe.queries.map((q) => q.sourceId);
  for (let i = 0; i < ids.length; i += 500) {
    const page = await backend.sources.getMany(probe.collection, ids.slice(i, i + 500));
    for (const [id, doc] of page) sources.set(id, doc);
  }
  const fresh = probe.queries.filter((q) => {
    const doc = sources.get(q.sourceId);
    return doc !== undefined && !doc.deleted && doc.contentHash === q.contentHash;
  });
  if (fresh.length === 0) {
    throw new ReembedError(
      'PROBE_UNAVAILABLE',
      `Every document of probe set "${probe.name}" was deleted or changed since it was built; build it again (reembed probe create ${probe.collection} --name ${probe.name} --replace).`,
      { details: { probe: probe.name, queries: probe.queries.length, reason: 'stale' } },
    );
  }
  return { fresh, stale: probe.queries.length - fresh.length, sources };
}

/** Query vectors by query id, embedded in batches (one request per batch for remote models). */
async function embedQueries(
  embedder: Embedder,
  space: Space,
  queries: readonly ProbeQuery[],
  signal?: AbortSignal,
): Promise<Map<string, Float32Array>> {
  const texts = queries.map((q) => queryText(space.spec, q.text));
  const vectors = await embedAll(embedder, texts, 'query', signal);
  return new Map(queries.map((q, i) => [q.id, vectors[i] as Float32Array]));
}

/** The held-out document's best chunk score for its query, by query id (none when the probe keeps documents whole). */
async function heldOutScores(
  embedder: Embedder,
  space: Space,
  queries: readonly ProbeQuery[],
  vectors: ReadonlyMap<string, Float32Array>,
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const chunks: { id: string; text: string }[] = [];
  for (const q of queries) {
    if (q.heldOut === null) continue;
    for (const c of documentChunks(space.spec, q.sourceId, q.heldOut))
      chunks.push({ id: q.id, text: c.text });
  }
  const embedded = await embedAll(
    embedder,
    chunks.map((c) => c.text),
    'document',
    signal,
  );
  chunks.forEach((c, i) => {
    const score = similarity(
      space.spec.metric,
      vectors.get(c.id) as Float32Array,
      embedded[i] as Float32Array,
    );
    out.set(c.id, Math.max(out.get(c.id) ?? Number.NEGATIVE_INFINITY, score));
  });
  return out;
}

export async function embedAll(
  embedder: Embedder,
  texts: readonly string[],
  inputType: 'query' | 'document',
  signal?: AbortSignal,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const batch = Math.max(1, embedder.maxBatchSize);
  for (let i = 0; i < texts.length; i += batch) {
    const vectors = await embedder.embed(texts.slice(i, i + batch), {
      inputType,
      ...(signal ? { signal } : {}),
    });
    out.push(...vectors);
  }
  return out;
}

/** Best-scoring record per source, best first (chunked namespaces return several per source). */
function collapse(
  hits: readonly { sourceId: string; score: number }[],
): { sourceId: string; score: number }[] {
  const seen = new Set<string>();
  const out: { sourceId: string; score: number }[] = [];
  for (const h of hits) {
    if (seen.has(h.sourceId)) continue;
    seen.add(h.sourceId);
    out.push({ sourceId: h.sourceId, score: h.score });
  }
  return out;
}

function tenantMetrics(
  result: RetrieverEvaluation,
  byId: ReadonlyMap<string, ProbeQuery>,
): ProbeEvaluation['tenants'] {
  const sums = new Map<string, { queries: number; metrics: Record<string, number> }>();
  for (const q of result.perQuery) {
    const tenant = byId.get(q.queryId)?.tenant ?? '';
    const t = sums.get(tenant) ?? { queries: 0, metrics: {} };
    t.queries++;
    for (const [k, v] of Object.entries(q.metrics)) t.metrics[k] = (t.metrics[k] ?? 0) + v;
    sums.set(tenant, t);
  }
  const out: Record<string, { queries: number; metrics: Record<string, number> }> = {};
  for (const [tenant, t] of [...sums].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(t.metrics)) metrics[k] = v / t.queries;
    out[tenant] = { queries: t.queries, metrics };
  }
  return out;
}
