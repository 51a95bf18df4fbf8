import { derivedTarget, isDerivedSpace, type LoadedAdapter } from '../core/adapter.js';
import type { AdapterState } from '../core/adapter-gate.js';
import { mapVector, type PreparedMap, prepareMap } from '../core/adapter-map.js';
import { ReembedError } from '../core/errors.js';
import type { Namespace } from '../core/namespace.js';
import type { BridgeRoute } from '../core/routing.js';
import type { Backend } from '../ports/backend.js';
import { requireAdapters } from './fit.js';

/** How long a passed state is trusted before it is read again (a revocation takes effect within this). */
const STATE_TTL_MS = 5_000;

/**
 * Adapters as the query path uses them: loaded once per process (an adapter never changes: its weights are
 * checked against the sha256 in its fingerprinted spec), with its state re-read every few seconds so a
 * revocation stops serving without a restart.
 */
export class BridgeCache {
  readonly #backend: Backend;
  readonly #loaded = new Map<string, Promise<LoadedAdapter>>();
  readonly #states = new Map<string, { state: AdapterState; at: number }>();

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  load(fingerprint: string): Promise<LoadedAdapter> {
    let loaded = this.#loaded.get(fingerprint);
    if (!loaded) {
      loaded = requireAdapters(this.#backend).load(fingerprint);
      loaded.catch(() => this.#loaded.delete(fingerprint));
      this.#loaded.set(fingerprint, loaded);
    }
    return loaded;
  }

  /**
   * The adapter of a routing's bridge, refused unless it passed its gate and was not revoked since
   * (invariant 9: a bridge serves only after its evaluation gate passed).
   */
  async servable(
    route: BridgeRoute,
    primary: Namespace,
    options: { gated?: boolean } = {},
  ): Promise<LoadedAdapter> {
    const loaded = await this.load(route.adapter);
    const { adapter } = loaded;
    if (options.gated === false) {
      // Evaluating a bridge (before its gate can have passed): the routing is never an alias's.
      assertBridgePrimary(loaded, route, primary);
      return loaded;
    }
    // Only a pass is cached: a gate that passes takes effect at once, a revocation within STATE_TTL_MS.
    const now = Date.now();
    let cached = this.#states.get(route.adapter);
    if (!cached || now - cached.at > STATE_TTL_MS) {
      cached = { state: (await requireAdapters(this.#backend).get(route.adapter)).state, at: now };
      if (cached.state === 'passed') this.#states.set(route.adapter, cached);
      else this.#states.delete(route.adapter);
    }
    if (cached.state !== 'passed') {
      throw new ReembedError(
        'GATE_FAILED',
        `Adapter ${adapter.name} is ${cached.state === 'revoked' ? 'revoked' : 'not gated: it has not passed its evaluation gate'}, so its bridge may not serve (invariant 9). ${
          cached.state === 'revoked'
            ? `Fit a new one (reembed adapter fit ${adapter.spec.collection} ...) and evaluate it,`
            : `Evaluate it: reembed adapter eval ${adapter.name},`
        } or roll the migration back.`,
        { details: { adapter: adapter.name, fingerprint: adapter.fingerprint, state: cached.state } },
      );
    }
    assertBridgePrimary(loaded, route, primary);
    return loaded;
  }
}

/** A routing's bridge must fit its primary: the old namespace (query) or the adapter's derived one (corpus). */
export function assertBridgePrimary(loaded: LoadedAdapter, route: BridgeRoute, primary: Namespace): void {
  const { adapter } = loaded;
  const ok =
    adapter.spec.direction === route.direction &&
    (route.direction === 'query'
      ? primary.space.fingerprint === adapter.spec.target.fingerprint
      : isDerivedSpace(primary.space) && primary.space.spec.params.adapter === adapter.fingerprint);
  if (!ok) {
    throw new ReembedError(
      'INVALID_STATE',
      `The routing's ${route.direction} bridge through adapter ${adapter.name} does not fit its primary ${primary.name}: a query bridge reads the namespace of its target space (${adapter.spec.target.name}), a corpus bridge its own derived namespace.`,
      { details: { adapter: adapter.name, primary: primary.name, direction: route.direction } },
    );
  }
}

const prepared = new WeakMap<LoadedAdapter, PreparedMap>();

/** The adapter's map prepared for fast application (transposed once per loaded adapter). */
export function preparedMapOf(loaded: LoadedAdapter): PreparedMap {
  let p = prepared.get(loaded);
  if (!p) {
    p = prepareMap(loaded.map);
    prepared.set(loaded, p);
  }
  return p;
}

/** A query vector of the adapter's source space, mapped into its target space (unit length when the target is normalised). */
export function mapQueryVector(loaded: LoadedAdapter, vector: Float32Array): Float32Array {
  return mapVector(preparedMapOf(loaded), vector, loaded.adapter.spec.normalise);
}

/** The native space a namespace's queries are embedded in: a derived namespace's target, else its own. */
export function querySpaceOf(ns: Namespace): string {
  return derivedTarget(ns.space) ?? ns.space.fingerprint;
}
