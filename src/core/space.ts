import type * as Zod from 'zod';
import { canonicalJson, sha256Hex } from './canonical.js';
import { ReembedError } from './errors.js';
import { deepFreeze } from './freeze.js';
import { lazyZod } from './zod.js';

/**
 * An embedding space: everything that determines the geometry of the vectors a pipeline produces.
 * Two spaces are compatible only when their fingerprints are equal — equal dimensions are not enough.
 */
export const METRICS = ['cosine', 'dot', 'l2'] as const;
export type Metric = (typeof METRICS)[number];

/** The space schemas, built with zod on first use (`lazyZod`: importing this module loads no zod). */
const schemas = lazyZod((z) => {
  const chunker = z
    .object({
      kind: z.enum(['none', 'tokens', 'chars']),
      size: z.number().int().positive().optional(),
      overlap: z.number().int().nonnegative().optional(),
    })
    .strict()
    .superRefine((c, ctx) => {
      if (c.kind !== 'none' && c.size === undefined) {
        ctx.addIssue({ code: 'custom', message: `chunker.size is required for kind "${c.kind}"` });
      }
      if (c.size !== undefined && c.overlap !== undefined && c.overlap >= c.size) {
        ctx.addIssue({ code: 'custom', message: 'chunker.overlap must be smaller than chunker.size' });
      }
    });

  const jsonValue: Zod.ZodType<unknown> = z.lazy(() =>
    z.union([
      z.string(),
      z.number().finite(),
      z.boolean(),
      z.null(),
      z.array(jsonValue),
      z.record(jsonValue),
    ]),
  );

  /** The geometry-relevant fields. Every one of them goes into the fingerprint. */
  const spec = z
    .object({
      provider: z.string().min(1),
      model: z.string().min(1),
      revision: z.string().min(1),
      dimension: z.number().int().positive().max(65_536),
      metric: z.enum(METRICS),
      normalization: z.enum(['l2', 'none']),
      /** Task prefix or input type sent to the model, per side (e.g. `{ query: 'query: ', document: 'passage: ' }`). */
      inputType: z.object({ query: z.string(), document: z.string() }).strict(),
      truncation: z
        .object({ maxTokens: z.number().int().positive().nullable(), side: z.enum(['end', 'start']) })
        .strict(),
      preprocessing: z.string().min(1),
      chunker,
      /** Model parameters that change the output (hash seed, LSA rank, ...). */
      params: z.record(jsonValue),
    })
    .strict();

  /** Operational settings of a space: they never change the geometry, so they stay out of the fingerprint. */
  const runtime = z
    .object({
      /** Price per one million input tokens, for cost estimates. */
      pricePerMillionTokens: z.number().nonnegative().default(0),
      /** Provider connection and model location; secrets are references such as `$env:OPENAI_API_KEY`. */
      options: z.record(jsonValue).default({}),
    })
    .strict();
  return { chunker, spec, runtime };
});
type Schemas = ReturnType<typeof schemas>;

export type ChunkerSpec = Zod.infer<Schemas['chunker']>;
/** The geometry-relevant fields. Every one of them goes into the fingerprint. */
export type SpaceSpec = Zod.infer<Schemas['spec']>;
/** Operational settings of a space: they never change the geometry, so they stay out of the fingerprint. */
export type SpaceRuntime = Zod.infer<Schemas['runtime']>;

export interface Space {
  readonly kind: 'space';
  /** Human name, unique in a catalog (e.g. `hashing-v1`). Not part of the fingerprint. */
  readonly name: string;
  readonly fingerprint: string;
  readonly spec: Readonly<SpaceSpec>;
  readonly runtime: Readonly<SpaceRuntime>;
}

/** What identifies a space wherever one is shown: its name, fingerprint and the fields of its geometry. */
export interface SpaceSummary {
  readonly name: string;
  readonly fingerprint: string;
  readonly provider: string;
  readonly model: string;
  readonly revision: string;
  readonly dimension: number;
  readonly metric: string;
  readonly normalization: string;
  readonly chunker: unknown;
  readonly preprocessing: string;
}

export function spaceSummary(space: Space): SpaceSummary {
  const s = space.spec;
  return {
    name: space.name,
    fingerprint: space.fingerprint,
    provider: s.provider,
    model: s.model,
    revision: s.revision,
    dimension: s.dimension,
    metric: s.metric,
    normalization: s.normalization,
    chunker: s.chunker,
    preprocessing: s.preprocessing,
  };
}

export const SPACE_DEFAULTS = {
  metric: 'cosine',
  normalization: 'l2',
  inputType: { query: '', document: '' },
  truncation: { maxTokens: null, side: 'end' },
  preprocessing: 'v1',
  chunker: { kind: 'none' },
  params: {},
} as const satisfies Partial<SpaceSpec>;

export type SpaceSpecInput = Partial<SpaceSpec> & Pick<SpaceSpec, 'provider' | 'model' | 'dimension'>;

/** Fingerprint: sha256 of the canonical JSON of the spec, first 16 hex digits, prefixed `sp_`. */
export function fingerprintOf(spec: SpaceSpec): string {
  return `sp_${sha256Hex(canonicalJson(spec)).slice(0, 16)}`;
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function assertName(kind: string, name: string): void {
  if (!NAME_RE.test(name)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `${kind} name "${name}" is invalid: use 1-63 characters from a-z, 0-9, ".", "_" and "-", starting with a letter or digit.`,
      { details: { field: 'name', value: name } },
    );
  }
}

/**
 * Builds a frozen, validated space. Missing optional fields take `SPACE_DEFAULTS`; the fingerprint covers
 * the resolved spec, so `{}` and an explicit default hash the same.
 *
 * @example
 * const v1 = defineSpace('hashing-v1', { provider: 'hashing', model: 'fnv1a', dimension: 384, revision: '1' });
 */
export function defineSpace(name: string, input: SpaceSpecInput, runtime: Partial<SpaceRuntime> = {}): Space {
  assertName('space', name);
  const spec = parseSpaceSpec({ revision: '1', ...SPACE_DEFAULTS, ...input });
  const parsedRuntime = schemas().runtime.safeParse(runtime);
  if (!parsedRuntime.success) throw specError('space runtime', parsedRuntime.error);
  return Object.freeze({
    kind: 'space' as const,
    name,
    fingerprint: fingerprintOf(spec),
    spec: deepFreeze(spec),
    runtime: deepFreeze(parsedRuntime.data),
  });
}

export function parseSpaceSpec(input: unknown): SpaceSpec {
  const parsed = schemas().spec.safeParse(input);
  if (!parsed.success) throw specError('space spec', parsed.error);
  return parsed.data;
}

function specError(what: string, error: Zod.ZodError): ReembedError {
  const issues = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return new ReembedError(
    'INVALID_SPEC',
    `Invalid ${what}: ${issues.join('; ')}. Fix the named fields (see README "Embedding spaces").`,
    { details: { issues } },
  );
}

export function isSpace(value: unknown): value is Space {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'space' &&
    typeof (value as { fingerprint?: unknown }).fingerprint === 'string'
  );
}

/** Short human label for messages: `hashing-v1 (hashing/fnv1a r1, 384d cosine, sp_1a2b…)`. */
export function describeSpace(space: Pick<Space, 'name' | 'fingerprint' | 'spec'>): string {
  const s = space.spec;
  return `${space.name} (${s.provider}/${s.model} r${s.revision}, ${s.dimension}d ${s.metric}, ${space.fingerprint})`;
}

export interface SpaceRef {
  readonly name: string;
  readonly fingerprint: string;
  readonly spec: Readonly<SpaceSpec>;
}

/** Invariants 1 and 2: refuses a vector of one space meeting records of another, even at equal dimension. */
export function assertSameSpace(target: SpaceRef, incoming: SpaceRef | string, action: string): void {
  const fingerprint = typeof incoming === 'string' ? incoming : incoming.fingerprint;
  if (fingerprint === target.fingerprint) return;
  const incomingLabel = typeof incoming === 'string' ? `space ${incoming}` : describeSpace(incoming);
  throw new ReembedError(
    'SPACE_MISMATCH',
    `Refusing to ${action}: the vector is from ${incomingLabel} but the namespace holds ${describeSpace(target)}. ` +
      "Vectors of different spaces are not comparable, even at equal dimension. Embed with the namespace's own space, or query through its alias by text.",
    { details: { expected: target.fingerprint, expectedSpace: target.name, actual: fingerprint } },
  );
}
