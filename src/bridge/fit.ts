import {
  type Adapter,
  BRIDGE_DIRECTIONS,
  type BridgeDirection,
  defaultAdapterName,
  defineAdapter,
  isDerivedSpace,
  mapBytes,
  mapSha256,
} from '../core/adapter.js';
import {
  type AdapterMethod,
  type FitCriterion,
  type FitReport,
  fitAffineSteps,
} from '../core/adapter-fit.js';
import { sha256Hex } from '../core/canonical.js';
import { ReembedError } from '../core/errors.js';
import { type Namespace, namespaceName } from '../core/namespace.js';
import { runInSteps } from '../platform/steps.js';
import type { AdapterRecord } from '../ports/adapters.js';
import type { Backend } from '../ports/backend.js';
import { requireAdapters } from './adapters.js';
import { type DocumentPairs, oriented, samplePairs } from './pairs.js';

export interface FitAdapterOptions {
  readonly collection: string;
  /** The old space (name or fingerprint): what the collection is served in now. */
  readonly from: string;
  /** The new space. */
  readonly to: string;
  /** `query` (new → old: new-model queries search the old namespace) or `corpus` (old → new: a derived namespace). */
  readonly direction: BridgeDirection;
  /** Methods to choose from on held-out pairs (default: every method the dimensions allow). */
  readonly methods?: readonly AdapterMethod[];
  /** Most documents to sample (default 2,000). */
  readonly pairs?: number;
  readonly seed?: number;
  readonly criterion?: FitCriterion;
  /** The adapter's name (default `<source>-to-<target>.<version>`). */
  readonly name?: string;
  readonly signal?: AbortSignal;
}

export interface FitAdapterResult {
  readonly record: AdapterRecord;
  readonly report: FitReport;
  /** Documents both namespaces held identically (the sample was drawn from them). */
  readonly population: number;
}

/** What fitting needs of an app. */
export interface BridgeApp {
  readonly backend: Backend;
  readonly actor: string;
}

export { requireAdapters };

/** The old and new namespaces of a collection for a bridge between two spaces, checked. */
export async function bridgeNamespaces(
  backend: Backend,
  collection: string,
  from: string,
  to: string,
): Promise<{ old: Namespace; next: Namespace }> {
  const [oldSpace, newSpace] = await Promise.all([
    backend.catalog.getSpace(from),
    backend.catalog.getSpace(to),
  ]);
  if (oldSpace.fingerprint === newSpace.fingerprint) {
    throw new ReembedError(
      'INVALID_INPUT',
      `--from and --to name the same space (${oldSpace.name}); a bridge joins two.`,
      {
        details: { from, to },
      },
    );
  }
  for (const s of [oldSpace, newSpace]) {
    if (isDerivedSpace(s)) {
      throw new ReembedError(
        'INVALID_INPUT',
        `${s.name} is a derived space (an adapter's output); adapters are fitted between native spaces.`,
        { details: { space: s.name } },
      );
    }
  }
  const [old, next] = await Promise.all([
    backend.catalog.getNamespace(namespaceName(collection, oldSpace)),
    backend.catalog.getNamespace(namespaceName(collection, newSpace)),
  ]);
  return { old, next };
}

/**
 * Fits an adapter between the collection's namespaces in two spaces from documents they both hold,
 * chooses the method and its hyper-parameters on held-out pairs, and stores it as a versioned artifact
 * (state `fitted`: it serves only after `evaluateAdapter` passed its gate).
 *
 * @example
 * const { record } = await fitAdapter(app, { collection: 'docs', from: 'lsa-v1', to: 'minilm', direction: 'query' });
 */
export async function fitAdapter(app: BridgeApp, options: FitAdapterOptions): Promise<FitAdapterResult> {
  if (!(BRIDGE_DIRECTIONS as readonly string[]).includes(options.direction)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Direction must be query or corpus, not "${options.direction}".`,
      {
        details: { direction: options.direction },
      },
    );
  }
  const repository = requireAdapters(app.backend);
  const { old, next } = await bridgeNamespaces(app.backend, options.collection, options.from, options.to);
  const started = performance.now();
  const pairs = await samplePairs(app.backend, old, next, {
    ...(options.pairs !== undefined ? { limit: options.pairs } : {}),
    seed: options.seed ?? 1,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const rows = oriented(pairs, options.direction);
  // Fits in small units (one eigendecomposition or one scored candidate), so an interrupt is seen at once.
  const report = await runInSteps(
    fitAffineSteps(rows, {
      ...(options.methods ? { methods: options.methods } : {}),
      seed: options.seed ?? 1,
      ...(options.criterion ? { criterion: options.criterion } : {}),
    }),
    options.signal,
    (after) => `Fitting the adapter was interrupted (after ${after}); nothing was stored.`,
  );
  const seconds = (performance.now() - started) / 1000;
  const [source, target] = options.direction === 'query' ? [next, old] : [old, next];
  const version = await repository.nextVersion(
    options.collection,
    source.space.fingerprint,
    target.space.fingerprint,
  );
  const name = options.name ?? defaultAdapterName(source.space.name, target.space.name, version);
  const adapter = buildAdapter(name, options, { source, target, pairs, report, seconds });
  const record = await repository.save(
    { adapter, weights: mapBytes(report.chosen.map), sample: [...pairs.documents] },
    app.actor,
  );
  return { record, report, population: pairs.population };
}

function buildAdapter(
  name: string,
  options: FitAdapterOptions,
  fitted: {
    source: Namespace;
    target: Namespace;
    pairs: DocumentPairs;
    report: FitReport;
    seconds: number;
  },
): Adapter {
  const { source, target, pairs, report } = fitted;
  const ref = (ns: Namespace) => ({
    name: ns.space.name,
    fingerprint: ns.space.fingerprint,
    dimension: ns.space.spec.dimension,
  });
  return defineAdapter(
    name,
    {
      collection: options.collection,
      direction: options.direction,
      source: ref(source),
      target: ref(target),
      method: report.chosen.method,
      params: { ...report.chosen.params },
      normalise: target.space.spec.normalization === 'l2' || target.space.spec.metric === 'cosine',
      training: {
        documents: pairs.documents.length,
        probes: 0,
        seed: options.seed ?? 1,
        collectionVersion: pairs.collectionVersion,
        sampleSha256: sha256Hex(pairs.documents.join('\n')),
      },
      weightsSha256: mapSha256(report.chosen.map),
    },
    {
      criterion: report.criterion,
      heldOutScore: report.chosen.heldOutScore,
      candidates: report.candidates.map((c) => ({
        method: c.method,
        params: { ...c.params },
        heldOutScore: c.heldOutScore,
      })),
      pairs: { ...report.pairs },
      seconds: fitted.seconds,
    },
    new Date().toISOString(),
  );
}
