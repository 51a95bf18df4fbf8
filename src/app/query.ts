import { createHash } from 'node:crypto';
import type { BridgeCache } from '../bridge/serving.js';
import type { LoadedAdapter } from '../core/adapter.js';
import { derivedTarget, isDerivedSpace } from '../core/derived-space.js';
import { ReembedError } from '../core/errors.js';
import { type FusedHit, fuseResults } from '../core/fusion.js';
import type { Namespace } from '../core/namespace.js';
import { queryText } from '../core/pipeline.js';
import type { SearchFilter, SearchHit, SourceWrite } from '../core/records.js';
import { type Alias, bridgeOf, type FusionPolicy, type Routing, rerankDepthOf } from '../core/routing.js';
import { assertSameSpace, type Space } from '../core/space.js';
import { assertQueryVector, toFloat32, validateVector } from '../core/vector.js';
import type { Backend } from '../ports/backend.js';
import type { EmbedderCache } from './embedders.js';

export interface QueryRequest {
  /** Query text, embedded once per space read (invariant 2). */
  readonly text?: string;
  /** A query vector; must declare its space (name or fingerprint) in `space`. */
  readonly vector?: ArrayLike<number>;
  readonly space?: string;
  readonly k?: number;
  readonly filter?: SearchFilter;
  /** Stable key for percentage routing (user or session id); defaults to the query text. */
  readonly routingKey?: string;
  readonly exact?: boolean;
}

export interface NamespaceRead {
  readonly namespace: string;
  readonly space: string;
  readonly fingerprint: string;
  readonly role: 'served' | 'shadow' | 'fused';
  readonly latencyMs: number;
  readonly hits: number;
  /** Set when this read was skipped (the query embedded to a zero vector in its space): why. */
  readonly skipped?: string;
  /**
   * Present when this read was bridged (invariant 9: traces name bridged results): `query` — the query
   * was embedded by `via` and mapped into the namespace's space by the adapter; `corpus` — the namespace
   * holds the adapter's derived vectors, searched with a query embedded by `via`.
   */
  readonly bridged?: {
    readonly adapter: string;
    readonly adapterName: string;
    readonly direction: 'query' | 'corpus';
    readonly via: string;
  };
}

export interface QueryTrace {
  readonly alias: string;
  readonly collection: string;
  readonly routing: Routing['kind'];
  readonly aliasVersion: number;
  readonly reads: readonly NamespaceRead[];
  readonly k: number;
  readonly filter: SearchFilter | null;
  readonly fusion: string | null;
  /** Fingerprints of the records served; more than one without fusion is a mixed-version response. */
  readonly fingerprints: readonly string[];
  readonly mixedVersion: boolean;
  /** True when any read was bridged (see `NamespaceRead.bridged`). */
  readonly bridged?: boolean;
  readonly tookMs: number;
}

export interface ResultHit extends SearchHit {
  readonly namespace: string;
  readonly ranks?: Readonly<Record<string, number>>;
  /** The hit was found through a bridge (a mapped query, or a derived record). */
  readonly bridged?: boolean;
}

export interface QueryResponse {
  readonly hits: readonly ResultHit[];
  readonly trace: QueryTrace;
}

/**
 * Observers of the query path: metrics, shadow agreement, lazy re-embedding, hit counts. They run after
 * the answer is known and cannot change it: an observer that throws (or returns a promise that rejects)
 * is reported to `QueryEngineOptions.onObserverError`, and the query still returns its hits.
 */
export interface QueryObserver {
  onQuery?(response: QueryResponse, request: QueryRequest): void;
  onShadow?(event: ShadowEvent): void;
  /** Old-space documents served during a fused (lazy) read that the new namespace does not hold yet. */
  onUnmigratedHits?(event: UnmigratedHitsEvent): void;
}

export interface UnmigratedHitsEvent {
  readonly collection: string;
  /** The next (partially covered) namespace. */
  readonly namespace: string;
  /** Served sources the next namespace does not hold at their current version. */
  readonly sourceIds: readonly string[];
  /** Next-space writes computed by embed-on-read for those sources (versioned: safe to apply late). */
  readonly writes: readonly SourceWrite[];
}

export interface ShadowEvent {
  readonly alias: string;
  readonly collection: string;
  readonly query: string | null;
  readonly tenant: string | null;
  readonly k: number;
  readonly served: {
    readonly namespace: string;
    readonly ids: readonly string[];
    readonly latencyMs: number;
  };
  readonly shadow: {
    readonly namespace: string;
    readonly ids: readonly string[];
    readonly latencyMs: number;
  };
}

export interface QueryEngineOptions {
  /** Source of randomness for shadow sampling (default `Math.random`). */
  readonly random?: () => number;
  /**
   * Receives an observer's failure, which never fails the query. Default: a process warning
   * (`ObserverWarning`), so the failure is seen without costing the caller its answer.
   */
  readonly onObserverError?: (error: unknown) => void;
  /**
   * Shadow reads in flight at most (default 8). Shadow reads run after the answer, off the serving path;
   * a sampled query that finds this many still running is not sampled (counted in `shadowSkipped`), so a
   * slow shadow namespace can never pile up work behind the served traffic.
   */
  readonly maxShadowReads?: number;
}

const DEFAULT_K = 10;
type SplitRouting = Extract<Routing, { kind: 'split' }>;
type FusedRouting = Extract<Routing, { kind: 'fused' }>;
/** Percentage-routed progressive reads: coverage-aware, without re-embedding on hit (that is lazy's job). */
const PROGRESSIVE_FUSION: FusionPolicy = Object.freeze({
  method: 'coverage-aware-score',
  embedOnRead: false,
});
const FUSION_DEPTH = 100;

/**
 * Answers queries through an alias. Resolves the routing once per query (so a concurrent cutover is seen
 * entirely or not at all), embeds the text once per space read, and never compares raw scores across
 * spaces: a fused read goes through `fuseResults`.
 */
export class QueryEngine {
  readonly #backend: Backend;
  readonly #embedders: EmbedderCache;
  readonly #observers: QueryObserver[] = [];
  readonly #random: () => number;
  /** Adapters of bridged routings, with the bridge code, loaded by the first query through a bridge. */
  #bridges: Promise<BridgeCache> | null = null;
  readonly #onObserverError: (error: unknown) => void;
  readonly #maxShadowReads: number;
  readonly #shadowReads = new Set<Promise<void>>();
  #shadowSkipped = 0;

  constructor(backend: Backend, embedders: EmbedderCache, options: QueryEngineOptions = {}) {
    this.#backend = backend;
    this.#embedders = embedders;
    this.#random = options.random ?? Math.random;
    this.#onObserverError = options.onObserverError ?? warnObserverError;
    this.#maxShadowReads = options.maxShadowReads ?? 8;
  }

  #bridgeCache(): Promise<BridgeCache> {
    this.#bridges ??= import('../bridge/serving.js').then(
      ({ BridgeCache }) => new BridgeCache(this.#backend),
    );
    return this.#bridges;
  }

  /** Sampled queries whose shadow read was not started because `maxShadowReads` were in flight. */
  get shadowSkipped(): number {
    return this.#shadowSkipped;
  }

  /** Resolves when every shadow read started so far has finished and told its observers. */
  async settled(): Promise<void> {
    while (this.#shadowReads.size > 0) await Promise.all([...this.#shadowReads]);
  }

  observe(observer: QueryObserver): () => void {
    this.#observers.push(observer);
    return () => {
      const i = this.#observers.indexOf(observer);
      if (i >= 0) this.#observers.splice(i, 1);
    };
  }

  async query(aliasName: string, request: QueryRequest): Promise<QueryResponse> {
    const started = performance.now();
    const alias = await this.#backend.catalog.getAlias(aliasName);
    return this.#serve(alias, request, started, true);
  }

  /**
   * Answers a query through a routing that no alias holds (yet): how a bridge is evaluated before its gate
   * passed, and how a candidate routing is compared with the served one. Observers are notified as for an
   * alias query; evaluations use an engine nobody observes.
   */
  async queryRouting(collection: string, routing: Routing, request: QueryRequest): Promise<QueryResponse> {
    const started = performance.now();
    const alias: Alias = {
      kind: 'alias',
      name: `(routing of ${collection})`,
      collection,
      routing,
      version: 0,
      updatedAt: new Date().toISOString(),
    };
    return this.#serve(alias, request, started, false);
  }

  async #serve(alias: Alias, request: QueryRequest, started: number, gated: boolean): Promise<QueryResponse> {
    const k = validateK(request.k ?? DEFAULT_K);
    const routing = alias.routing;
    const vectors = new Map<string, Float32Array>();
    const reads: NamespaceRead[] = [];
    let hits: ResultHit[];
    let fusion: string | null = null;
    let served: Read | null = null;

    const split = routing.kind === 'split' ? this.#split(routing, request) : null;
    const route = bridgeOf(routing);
    const bridge = route
      ? await (await this.#bridgeCache()).servable(
          route,
          await this.#backend.catalog.getNamespace((routing as SplitRouting | FusedRouting).primary),
          { gated },
        )
      : null;
    if (routing.kind === 'fused' || (split?.by === 'percent' && request.vector === undefined)) {
      // A percentage-routed query of a progressive rollout reads both sides: the new namespace alone would
      // miss every document not migrated yet, while a tenant is only moved once it is complete.
      const [primaryName, nextName, policy] =
        routing.kind === 'fused'
          ? [routing.primary, routing.next, routing.fusion]
          : [(routing as SplitRouting).primary, (routing as SplitRouting).next, PROGRESSIVE_FUSION];
      fusion = policy.method;
      hits = await this.#fused(alias, primaryName, nextName, policy, request, k, vectors, reads, bridge);
    } else {
      const target =
        routing.kind === 'single'
          ? routing.namespace
          : routing.kind === 'shadow'
            ? routing.primary
            : split!.target;
      const servedBridge = split && target === split.target && split.by === 'primary' ? bridge : null;
      served = await this.#read(target, request, k, vectors, 'served', servedBridge);
      reads.push(served.read);
      hits = served.hits;
    }

    const fingerprints = [...new Set(hits.map((h) => h.provenance.fingerprint))];
    const bridged = reads.some((r) => r.bridged !== undefined);
    const response: QueryResponse = {
      hits,
      trace: {
        alias: alias.name,
        collection: alias.collection,
        routing: routing.kind,
        aliasVersion: alias.version,
        reads,
        k,
        filter: request.filter ?? null,
        fusion,
        fingerprints,
        mixedVersion: fingerprints.length > 1 && fusion === null,
        ...(bridged ? { bridged: true } : {}),
        tookMs: performance.now() - started,
      },
    };
    this.#notify((o) => o.onQuery?.(response, request));
    // A query vector lives in the served space: only text queries can be read in the shadow space.
    if (
      served &&
      routing.kind === 'shadow' &&
      request.vector === undefined &&
      this.#random() < routing.sampleRate
    )
      this.#shadow(alias, routing.shadow, request, k, served);
    return response;
  }

  /**
   * Reads the shadow namespace of a sampled query after its answer is returned, and tells the observers
   * (`onShadow`). Bounded by `maxShadowReads`; a failure goes to the observer error hook. A query the
   * shadow model cannot embed (zero vector) is no sample.
   */
  #shadow(alias: Alias, namespace: string, request: QueryRequest, k: number, served: Read): void {
    if (this.#shadowReads.size >= this.#maxShadowReads) {
      this.#shadowSkipped++;
      return;
    }
    const run = unlessZeroNorm(this.#read(namespace, request, k, new Map(), 'shadow'))
      .then((shadow) => {
        if (shadow) this.#emitShadow(alias, request, k, served, shadow);
      })
      .catch(this.#onObserverError)
      .finally(() => this.#shadowReads.delete(run));
    this.#shadowReads.add(run);
  }

  /** Reads one namespace directly (used by `eval` of a namespace and by the query path). */
  async queryNamespace(
    name: string,
    request: QueryRequest,
  ): Promise<{ hits: ResultHit[]; read: NamespaceRead }> {
    return this.#read(name, request, validateK(request.k ?? DEFAULT_K), new Map(), 'served');
  }

  async #read(
    name: string,
    request: QueryRequest,
    k: number,
    vectors: Map<string, Float32Array>,
    role: NamespaceRead['role'],
    bridge: LoadedAdapter | null = null,
  ): Promise<{ hits: ResultHit[]; read: NamespaceRead }> {
    const ns = await this.#backend.catalog.getNamespace(name);
    const queryBridge = bridge !== null && bridge.adapter.spec.direction === 'query' ? bridge : null;
    const { vector, via } = queryBridge
      ? await this.#bridgedQueryVector(queryBridge, request, vectors)
      : await this.#queryVector(ns, request, vectors);
    const started = performance.now();
    const chunked = ns.space.spec.chunker.kind !== 'none';
    const raw = await this.#backend.store.search(ns.name, {
      vector,
      fingerprint: ns.space.fingerprint,
      k: chunked ? k * 4 : k,
      filter: request.filter,
      exact: request.exact,
    });
    const derived = isDerivedSpace(ns.space);
    const bridged = queryBridge !== null || derived;
    const hits = collapseBySource(raw, k).map((h) => ({
      ...h,
      namespace: ns.name,
      ...(bridged ? { bridged: true } : {}),
    }));
    const read: NamespaceRead = {
      namespace: ns.name,
      space: ns.space.name,
      fingerprint: ns.space.fingerprint,
      role,
      latencyMs: performance.now() - started,
      hits: hits.length,
      ...(bridged
        ? {
            bridged: {
              adapter: queryBridge?.adapter.fingerprint ?? String(ns.space.spec.params.adapter),
              adapterName: queryBridge?.adapter.name ?? ns.space.name.replace(/^bridge\./, ''),
              direction: queryBridge ? ('query' as const) : ('corpus' as const),
              via: via.name,
            },
          }
        : {}),
    };
    return { hits, read };
  }

  /** Embeds the query in the new space once (and maps it, for a query bridge), filling the per-query cache. */
  async #bridgeQuery(
    bridge: LoadedAdapter,
    request: QueryRequest,
    cache: Map<string, Float32Array>,
  ): Promise<void> {
    if (bridge.adapter.spec.direction === 'query') {
      await this.#bridgedQueryVector(bridge, request, cache);
      return;
    }
    const target = await this.#backend.catalog.getSpace(bridge.adapter.spec.target.fingerprint);
    await this.#nativeQueryVector(target, request, cache, `query through adapter ${bridge.adapter.name}`);
  }

  /** The query embedded in the adapter's source space (the new model) and mapped into its target space. */
  async #bridgedQueryVector(
    bridge: LoadedAdapter,
    request: QueryRequest,
    cache: Map<string, Float32Array>,
  ): Promise<{ vector: Float32Array; via: Space }> {
    const key = `bridge:${bridge.adapter.fingerprint}`;
    const source = await this.#backend.catalog.getSpace(bridge.adapter.spec.source.fingerprint);
    const hit = cache.get(key);
    if (hit) return { vector: hit, via: source };
    const native = await this.#nativeQueryVector(
      source,
      request,
      cache,
      `query through adapter ${bridge.adapter.name}`,
    );
    const { mapQueryVector } = await import('../bridge/serving.js');
    const vector = mapQueryVector(bridge, native);
    cache.set(key, vector);
    return { vector, via: source };
  }

  /**
   * The query vector of a namespace's read: embedded in its own space, or for a derived namespace in the
   * adapter's target space (the derived records are that space's geometry, mapped by a gated adapter).
   */
  async #queryVector(
    ns: Namespace,
    request: QueryRequest,
    cache: Map<string, Float32Array>,
  ): Promise<{ vector: Float32Array; via: Space }> {
    const target = derivedTarget(ns.space);
    const space = target === null ? ns.space : await this.#backend.catalog.getSpace(target);
    if (target !== null && request.vector !== undefined && request.space !== undefined) {
      // A vector may be declared in the derived space itself: it is the target's geometry.
      const declared = await this.#backend.catalog.getSpace(request.space);
      if (declared.fingerprint === ns.space.fingerprint) {
        validateVector(request.vector, ns.space.spec.dimension, 'query vector');
        return { vector: toFloat32(request.vector), via: space };
      }
    }
    return {
      vector: await this.#nativeQueryVector(space, request, cache, `query namespace ${ns.name}`),
      via: space,
    };
  }

  /** A query vector of a native space: the given one (declared in that space) or the text embedded once. */
  async #nativeQueryVector(
    space: Space,
    request: QueryRequest,
    cache: Map<string, Float32Array>,
    action: string,
  ): Promise<Float32Array> {
    if (request.vector !== undefined) {
      if (!request.space) {
        throw new ReembedError(
          'INVALID_INPUT',
          'A query vector must declare its space: pass `space` (name or fingerprint).',
          {
            details: { field: 'space' },
          },
        );
      }
      const declared: Space = await this.#backend.catalog.getSpace(request.space);
      assertSameSpace(space, declared, action);
      validateVector(request.vector, space.spec.dimension, 'query vector');
      const given = toFloat32(request.vector);
      assertQueryVector(given, space.spec.metric, 'The query vector');
      return given;
    }
    if (typeof request.text !== 'string' || request.text.trim().length === 0) {
      throw new ReembedError(
        'INVALID_INPUT',
        'A query needs non-empty `text`, or a `vector` with its `space`.',
        {
          details: { field: 'text' },
        },
      );
    }
    const cached = cache.get(space.fingerprint);
    if (cached) return cached;
    const embedder = await this.#embedders.get(space);
    const [vector] = await embedder.embed([queryText(space.spec, request.text)], { inputType: 'query' });
    if (!vector)
      throw new ReembedError(
        'EMBEDDER_FAILED',
        `The embedder of ${space.name} returned no vector for the query.`,
      );
    validateVector(vector, space.spec.dimension, `query embedded by ${space.name}`);
    assertQueryVector(
      vector,
      space.spec.metric,
      `The query embedded by space ${space.name} (${space.spec.provider}/${space.spec.model})`,
      'The text has nothing this model knows (e.g. no word in its vocabulary, or only stop words and punctuation): rephrase it with more or other words.',
    );
    cache.set(space.fingerprint, vector);
    return vector;
  }

  #split(
    routing: SplitRouting,
    request: QueryRequest,
  ): { target: string; by: 'tenant' | 'percent' | 'primary' } {
    const tenant = request.filter?.tenant;
    if (tenant !== undefined && routing.tenants.includes(tenant))
      return { target: routing.next, by: 'tenant' };
    const key = request.routingKey ?? request.text ?? '';
    return bucketOf(key) < routing.percent
      ? { target: routing.next, by: 'percent' }
      : { target: routing.primary, by: 'primary' };
  }

  /** Reads both namespaces and fuses them (never by raw cross-space scores; see core/fusion.ts). */
  async #fused(
    alias: Alias,
    primaryName: string,
    nextName: string,
    policy: FusionPolicy,
    request: QueryRequest,
    k: number,
    vectors: Map<string, Float32Array>,
    reads: NamespaceRead[],
    bridge: LoadedAdapter | null,
  ): Promise<ResultHit[]> {
    // Embed-on-read may re-rank deeper than k (the policy's rerankDepth); both lists are read at least that deep.
    const rerank = rerankDepthOf(policy, k);
    const depth = Math.max(FUSION_DEPTH, rerank);
    // A bridged primary and the next namespace share the new model's query: embed it once, up front.
    if (bridge !== null && request.vector === undefined) await this.#bridgeQuery(bridge, request, vectors);
    // A side whose model cannot embed the query (zero vector) contributes no hits; both failing is an error.
    const primaryRead = this.#read(primaryName, request, depth, vectors, 'fused', bridge);
    const nextRead = this.#read(nextName, request, depth, vectors, 'fused');
    const [primaryOr, nextOr] = await Promise.allSettled([primaryRead, nextRead]);
    const primary = await this.#side(primaryOr, primaryName, nextOr);
    const next = await this.#side(nextOr, nextName, primaryOr);
    reads.push(primary.read, next.read);
    // Fused reads (dual-read and progressive migrations only) load their helpers on the first one.
    const { embedOnRead, migratedSources } = await import('./fused-read.js');
    const migrated = await migratedSources(this.#backend, primaryName, nextName, primary.hits, next.hits);
    const onRead =
      policy.embedOnRead === false || !policy.method.startsWith('coverage-aware')
        ? null
        : await embedOnRead(
            this.#backend,
            this.#embedders,
            alias.collection,
            nextName,
            primary.hits.slice(0, rerank),
            migrated,
            vectors,
          );
    const fused: FusedHit[] = fuseResults({
      primary: { namespace: primaryName, hits: primary.hits },
      next: { namespace: nextName, hits: next.hits },
      migrated,
      policy,
      k,
      ...(onRead ? { rescored: onRead.hits } : {}),
    });
    const bridgedIds = new Set(primary.read.bridged ? primary.hits.map((h) => h.sourceId) : []);
    const hits = fused.map((h) => ({
      ...h,
      score: h.fusedScore,
      ...(h.namespace === primaryName && bridgedIds.has(h.sourceId) ? { bridged: true } : {}),
    }));
    const unmigrated = hits.filter((h) => !migrated.has(h.sourceId)).map((h) => h.sourceId);
    if (unmigrated.length > 0 || (onRead && onRead.writes.length > 0)) {
      const event: UnmigratedHitsEvent = {
        collection: alias.collection,
        namespace: nextName,
        sourceIds: unmigrated,
        writes: onRead?.writes ?? [],
      };
      this.#notify((o) => o.onUnmigratedHits?.(event));
    }
    return hits;
  }

  /**
   * One side of a fused read: its result, or — when only this side's model embedded the query to a zero
   * vector — an empty read marked as skipped. Any other failure, or both sides at zero, is thrown.
   */
  async #side(
    outcome: PromiseSettledResult<Read>,
    namespace: string,
    other: PromiseSettledResult<Read>,
  ): Promise<Read> {
    if (outcome.status === 'fulfilled') return outcome.value;
    if (!isZeroNorm(outcome.reason) || other.status === 'rejected') throw outcome.reason;
    const ns = await this.#backend.catalog.getNamespace(namespace);
    const read: NamespaceRead = {
      namespace,
      space: ns.space.name,
      fingerprint: ns.space.fingerprint,
      role: 'fused',
      latencyMs: 0,
      hits: 0,
      skipped: (outcome.reason as Error).message,
    };
    return { hits: [], read };
  }

  /** Calls each observer; a failure — thrown, or a rejected promise — is reported, never thrown. */
  #notify(call: (observer: QueryObserver) => unknown): void {
    for (const o of this.#observers) {
      try {
        const result = call(o);
        if (result instanceof Promise) result.catch(this.#onObserverError);
      } catch (error) {
        this.#onObserverError(error);
      }
    }
  }

  #emitShadow(
    alias: Alias,
    request: QueryRequest,
    k: number,
    served: { hits: ResultHit[]; read: NamespaceRead },
    shadow: { hits: ResultHit[]; read: NamespaceRead },
  ): void {
    const event: ShadowEvent = {
      alias: alias.name,
      collection: alias.collection,
      query: request.text ?? null,
      tenant: request.filter?.tenant ?? null,
      k,
      served: {
        namespace: served.read.namespace,
        ids: served.hits.map((h) => h.sourceId),
        latencyMs: served.read.latencyMs,
      },
      shadow: {
        namespace: shadow.read.namespace,
        ids: shadow.hits.map((h) => h.sourceId),
        latencyMs: shadow.read.latencyMs,
      },
    };
    this.#notify((o) => o.onShadow?.(event));
  }
}

type Read = { hits: ResultHit[]; read: NamespaceRead };

function isZeroNorm(error: unknown): boolean {
  return (
    error instanceof ReembedError && error.code === 'INVALID_VECTOR' && error.details.reason === 'zero-norm'
  );
}

/** The read, or null when the query embedded to a zero vector in that namespace's space. */
async function unlessZeroNorm(read: Promise<Read>): Promise<Read | null> {
  try {
    return await read;
  } catch (error) {
    if (isZeroNorm(error)) return null;
    throw error;
  }
}

/** Stable bucket 0..99 of a routing key, so one user keeps one side during a percentage rollout. */
export function bucketOf(key: string): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) % 100;
}

function validateK(k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > 10_000) {
    throw new ReembedError('INVALID_INPUT', `k must be an integer from 1 to 10000, got ${k}.`, {
      details: { field: 'k' },
    });
  }
  return k;
}

/** Keeps the best-scoring chunk per source document, best first. */
export function collapseBySource(hits: readonly SearchHit[], k: number): SearchHit[] {
  const seen = new Set<string>();
  const out: SearchHit[] = [];
  for (const hit of hits) {
    if (seen.has(hit.sourceId)) continue;
    seen.add(hit.sourceId);
    out.push(hit);
    if (out.length === k) break;
  }
  return out;
}

function warnObserverError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(`a query observer failed (the query was answered): ${message}`, 'ObserverWarning');
}
