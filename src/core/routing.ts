/**
 * How an alias turns a query into reads. One alias row holds one routing; a cutover replaces it in a
 * single catalog write, so every query sees the old routing or the new one (invariant 7).
 */
export type FusionMethod = 'rrf' | 'minmax' | 'zscore' | 'coverage-aware-rrf' | 'coverage-aware-score';

export interface FusionPolicy {
  readonly method: FusionMethod;
  /** Reciprocal rank fusion constant (default 60). */
  readonly rrfK?: number;
  /**
   * Coverage-aware methods: embed the old list's unmigrated top hits in the new space at query time and
   * rank them by the new model (default true). Costs at most max(k, `rerankDepth`) document embeddings per query.
   */
  readonly embedOnRead?: boolean;
  /**
   * Embed-on-read depth: how many of the old list's top hits are embedded (if unmigrated) and ranked by the
   * new model, then cut to the k asked for (default k). A deeper re-rank lets a document the old list (or
   * a bridge) placed at rank 11–30 reach the top 10 when the new model ranks it there; it costs up to
   * `max(k, rerankDepth)` document embeddings per query, each written back by the lazy migration (so none
   * is spent twice). Bridged lazy migrations default to `BRIDGED_RERANK_DEPTH`.
   */
  readonly rerankDepth?: number;
}

/**
 * The embed-on-read depth of a bridged lazy migration unless one is given: a bridge ranks the unmigrated
 * part of the corpus well below the new model, so its top 10 misses documents the new model would rank
 * first; re-ranking its top 30 served SciFact LSA-256 → MiniLM above clean old − 0.01 from 19% native
 * coverage on every seed (bench/bridge-depth.ts; BENCHMARKS.md, "The deprecation goals").
 */
export const BRIDGED_RERANK_DEPTH = 30;

/** How many of the old list's top hits a fused read embeds on read for a query asking for k results. */
export function rerankDepthOf(policy: FusionPolicy, k: number): number {
  return Math.max(k, policy.rerankDepth ?? k);
}

/**
 * A bridge on a migration's routing (issue 17): the alias serves the new model from day 0 through an
 * adapter that passed its gate. `query`: the primary is the old namespace, read with new-model queries
 * mapped into its space; `corpus`: the primary is the adapter's derived namespace, read with new-model
 * queries. Either way the old model is never called.
 */
export interface BridgeRoute {
  /** The adapter's fingerprint. */
  readonly adapter: string;
  readonly direction: 'query' | 'corpus';
}

export type Routing =
  /** Serve one namespace. */
  | { readonly kind: 'single'; readonly namespace: string }
  /** Serve `primary`; also run a sample of queries on `shadow` and record agreement (never served). */
  | {
      readonly kind: 'shadow';
      readonly primary: string;
      readonly shadow: string;
      readonly sampleRate: number;
    }
  /** Send `percent`% of traffic (by stable hash of the query key) and the listed tenants to `next`. */
  | {
      readonly kind: 'split';
      readonly primary: string;
      readonly next: string;
      readonly percent: number;
      readonly tenants: readonly string[];
      readonly bridge?: BridgeRoute;
    }
  /** Read both and fuse by rank or per-namespace normalised score; never by raw cross-space score. */
  | {
      readonly kind: 'fused';
      readonly primary: string;
      readonly next: string;
      readonly fusion: FusionPolicy;
      readonly bridge?: BridgeRoute;
    };

export interface Alias {
  readonly kind: 'alias';
  readonly name: string;
  readonly collection: string;
  readonly routing: Routing;
  /** Incremented on every change; a compare-and-set guard for concurrent control-plane writers. */
  readonly version: number;
  readonly updatedAt: string;
}

/** Every namespace a routing may read. */
export function namespacesOf(routing: Routing): string[] {
  switch (routing.kind) {
    case 'single':
      return [routing.namespace];
    case 'shadow':
      return [routing.primary, routing.shadow];
    case 'split':
    case 'fused':
      return [routing.primary, routing.next];
  }
}

/** The namespace that is "serving" under a routing: the one a rollback keeps and a cutover replaces. */
export function servingNamespaceOf(routing: Routing): string {
  return routing.kind === 'single' ? routing.namespace : routing.primary;
}

/** The bridge a routing serves through, if any. */
export function bridgeOf(routing: Routing): BridgeRoute | null {
  return routing.kind === 'split' || routing.kind === 'fused' ? (routing.bridge ?? null) : null;
}

/**
 * One sentence saying what an alias serves under a routing, for `migrate status`: which share of queries
 * reads which namespace, and — for a bridge — what is answered through the adapter (`adapterName`, else
 * its fingerprint).
 */
export function describeRouting(routing: Routing, adapterName?: string): string {
  const bridge = bridgeOf(routing);
  const primary = servingNamespaceOf(routing);
  const through = bridge ? `bridge ${adapterName ?? bridge.adapter} (${bridge.direction})` : '';
  const what = bridge
    ? bridge.direction === 'query'
      ? `new-model queries mapped into ${primary}`
      : `${primary}, old vectors mapped into the new space`
    : '';
  switch (routing.kind) {
    case 'single':
      return `all queries: ${routing.namespace}`;
    case 'shadow':
      return `all queries: ${routing.primary}; ${Math.round(routing.sampleRate * 100)}% also read ${routing.shadow} in shadow (not served)`;
    case 'fused': {
      const depth = routing.fusion.rerankDepth;
      const rerank =
        depth !== undefined && routing.fusion.embedOnRead !== false
          ? `; each query's top ${depth} of ${bridge ? 'the bridge' : routing.primary} not migrated yet is embedded by the new model on read and ranked by it`
          : '';
      return bridge
        ? `all queries: ${routing.next}, its not-yet-backfilled part answered through ${through} — ${what}; native records weigh above bridged ones, the old model is not called${rerank}`
        : `all queries: ${routing.primary} and ${routing.next} fused (${routing.fusion.method})${rerank}`;
    }
    case 'split': {
      const tenants = routing.tenants.length
        ? ` and tenant${routing.tenants.length === 1 ? '' : 's'} ${routing.tenants.join(', ')}`
        : '';
      return bridge
        ? `${routing.percent}% of queries${tenants}: ${routing.next}, its not-yet-backfilled part answered through ${through}; the rest: ${through} alone — ${what}; the old model is not called`
        : `${routing.percent}% of queries${tenants}: ${routing.next}, fused with ${routing.primary} for documents not migrated yet; the rest: ${routing.primary}`;
    }
  }
}
