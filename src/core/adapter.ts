import { z } from 'zod';
import { ADAPTER_METHODS, type AffineMap, FIT_CRITERIA } from './adapter-fit.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { DERIVED_PROVIDER } from './derived-space.js';
import { ReembedError } from './errors.js';
import { assertName, defineSpace, type Space } from './space.js';

export { assertWriteAllowed, DERIVED_PROVIDER, derivedTarget, isDerivedSpace } from './derived-space.js';

/**
 * An adapter: a map between two embedding spaces of one collection, fitted on paired samples, stored as a
 * versioned artifact with its own fingerprint. Vectors it produces belong to a **derived space**
 * (`target ← source via adapter`), never to a native one (invariant 9).
 *
 * Directions, for a migration from an old space A to a new space B:
 * - `query`: B → A. A query embedded by the new model searches the old namespace; the old model is never
 *   called again.
 * - `corpus`: A → B. The old namespace's vectors are mapped into a provisional derived namespace of B's
 *   geometry, which native re-embeds replace.
 */
export const BRIDGE_DIRECTIONS = ['query', 'corpus'] as const;
export type BridgeDirection = (typeof BRIDGE_DIRECTIONS)[number];

const spaceRef = z
  .object({ name: z.string().min(1), fingerprint: z.string().min(1), dimension: z.number().int().positive() })
  .strict();
export type AdapterSpaceRef = z.infer<typeof spaceRef>;

/** The fields that define an adapter; canonical JSON of them (weights by their sha256) is its fingerprint. */
export const adapterSpecSchema = z
  .object({
    collection: z.string().min(1),
    direction: z.enum(BRIDGE_DIRECTIONS),
    /** Space the map reads (the new space for a query bridge, the old one for a corpus bridge). */
    source: spaceRef,
    /** Space the map writes into. */
    target: spaceRef,
    method: z.enum(ADAPTER_METHODS),
    params: z.record(z.number().finite()),
    /** Unit-length outputs (when the target space is normalised). */
    normalise: z.boolean(),
    training: z
      .object({
        /** Documents embedded in both spaces. */
        documents: z.number().int().nonnegative(),
        /** Probe queries embedded in the new space, paired with their document in the old one. */
        probes: z.number().int().nonnegative(),
        seed: z.number().int().nonnegative(),
        /** The collection's source version counter when the sample was drawn. */
        collectionVersion: z.number().int().nonnegative(),
        /** sha256 of the sorted ids (and content hashes) of the paired sample. */
        sampleSha256: z.string().regex(/^[0-9a-f]{64}$/),
      })
      .strict(),
    weightsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type AdapterSpec = z.infer<typeof adapterSpecSchema>;

export const adapterFitInfoSchema = z
  .object({
    criterion: z.enum(FIT_CRITERIA),
    heldOutScore: z.number(),
    candidates: z.array(
      z
        .object({ method: z.enum(ADAPTER_METHODS), params: z.record(z.number()), heldOutScore: z.number() })
        .strict(),
    ),
    pairs: z.object({ fit: z.number().int(), heldOut: z.number().int() }).strict(),
    seconds: z.number().nonnegative(),
  })
  .strict();
export type AdapterFitInfo = z.infer<typeof adapterFitInfoSchema>;

export interface Adapter {
  readonly kind: 'adapter';
  /** Human name, unique in a catalog (e.g. `lsa-256-to-minilm.1`). Not part of the fingerprint. */
  readonly name: string;
  /** `ad_` + 16 hex of the canonical spec. */
  readonly fingerprint: string;
  readonly spec: Readonly<AdapterSpec>;
  readonly fit: Readonly<AdapterFitInfo>;
  readonly createdAt: string;
}

/** An adapter with its map (what is applied; `spec.weightsSha256` checks it). */
export interface LoadedAdapter {
  readonly adapter: Adapter;
  readonly map: AffineMap;
}

export function adapterFingerprint(spec: AdapterSpec): string {
  return `ad_${sha256Hex(canonicalJson(spec)).slice(0, 16)}`;
}

/** sha256 of a map's bytes: dimensions, weights and bias as little-endian float32. */
export function mapSha256(map: AffineMap): string {
  return sha256Hex(mapBytes(map));
}

/** The serialised map: `[input u32, output u32]`, then weights (input × output) and bias as float32 LE. */
export function mapBytes(map: AffineMap): Uint8Array {
  const header = new Uint32Array([map.inputDimension, map.outputDimension]);
  const out = new Uint8Array(8 + 4 * (map.weights.length + map.bias.length));
  out.set(new Uint8Array(header.buffer), 0);
  out.set(new Uint8Array(map.weights.buffer, map.weights.byteOffset, map.weights.byteLength), 8);
  out.set(
    new Uint8Array(map.bias.buffer, map.bias.byteOffset, map.bias.byteLength),
    8 + map.weights.byteLength,
  );
  return out;
}

export function mapFromBytes(bytes: Uint8Array): AffineMap {
  const copy = new Uint8Array(bytes); // aligned
  const view = new DataView(copy.buffer);
  if (copy.byteLength < 8) throw corrupt('shorter than its header');
  const input = view.getUint32(0, true);
  const output = view.getUint32(4, true);
  if (copy.byteLength !== 8 + 4 * (input * output + output)) throw corrupt('of the wrong length');
  return {
    inputDimension: input,
    outputDimension: output,
    weights: new Float32Array(copy.buffer, 8, input * output),
    bias: new Float32Array(copy.buffer, 8 + 4 * input * output, output),
  };
}

function corrupt(problem: string): ReembedError {
  return new ReembedError('INTEGRITY_FAILED', `Adapter weights are ${problem}; refit the adapter.`, {
    details: { problem },
  });
}

/**
 * Builds a frozen, validated adapter. The fingerprint covers the spec (which names both spaces, the
 * training sample and the weights' sha256), so any change to any of them is another adapter.
 */
export function defineAdapter(
  name: string,
  spec: AdapterSpec,
  fit: AdapterFitInfo,
  createdAt: string,
): Adapter {
  assertAdapterName(name);
  const parsed = adapterSpecSchema.safeParse(spec);
  if (!parsed.success) throw invalid('adapter spec', parsed.error);
  const parsedFit = adapterFitInfoSchema.safeParse(fit);
  if (!parsedFit.success) throw invalid('adapter fit', parsedFit.error);
  return deepFreeze({
    kind: 'adapter' as const,
    name,
    fingerprint: adapterFingerprint(parsed.data),
    spec: parsed.data,
    fit: parsedFit.data,
    createdAt,
  });
}

/** Checks that a map matches its adapter (dimensions and weights' sha256). */
export function assertMapOf(adapter: Adapter, map: AffineMap): void {
  const { source, target } = adapter.spec;
  if (map.inputDimension !== source.dimension || map.outputDimension !== target.dimension) {
    throw corrupt(
      `${map.inputDimension} → ${map.outputDimension}, not ${source.dimension} → ${target.dimension}`,
    );
  }
  if (mapSha256(map) !== adapter.spec.weightsSha256)
    throw corrupt('not the ones the adapter was fitted with');
}

/** Adapter names: like space names, at most 48 characters (a derived space's name adds `bridge.`). */
export function assertAdapterName(name: string): void {
  assertName('adapter', name);
  if (name.length > 48) {
    throw new ReembedError('INVALID_INPUT', `Adapter name "${name}" is longer than 48 characters.`, {
      details: { field: 'name', value: name },
    });
  }
}

/** The default name of the version-th adapter from `source` to `target`: `lsa-256-to-minilm.3`. */
export function defaultAdapterName(source: string, target: string, version: number): string {
  const suffix = `.${version}`;
  const base = `${source}-to-${target}`.slice(0, 48 - suffix.length).replace(/[._-]+$/, '');
  return `${base}${suffix}`;
}

/**
 * The derived space of an adapter's outputs: the target's geometry (dimension, metric, query prefixes)
 * with provider `adapter`, the adapter's fingerprint as revision and both spaces in its params, so its
 * fingerprint differs from every native space's. Its chunker and preprocessing are those of the records
 * the adapter maps (the source namespace's), so a derived record keeps its source record's chunk.
 */
export function derivedSpace(adapter: Adapter, target: Space, source: Space): Space {
  return defineSpace(`bridge.${adapter.name}`, {
    provider: DERIVED_PROVIDER,
    model: `${target.spec.provider}/${target.spec.model} <- ${source.spec.provider}/${source.spec.model}`,
    revision: adapter.fingerprint,
    dimension: target.spec.dimension,
    metric: target.spec.metric,
    normalization: adapter.spec.normalise ? 'l2' : 'none',
    inputType: { ...target.spec.inputType },
    truncation: { ...target.spec.truncation },
    preprocessing: source.spec.preprocessing,
    chunker: { ...source.spec.chunker },
    params: {
      adapter: adapter.fingerprint,
      direction: adapter.spec.direction,
      source: adapter.spec.source.fingerprint,
      target: adapter.spec.target.fingerprint,
    },
  });
}

function invalid(what: string, error: z.ZodError): ReembedError {
  const issues = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return new ReembedError('INVALID_SPEC', `Invalid ${what}: ${issues.join('; ')}.`, { details: { issues } });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
