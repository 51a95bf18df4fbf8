import { z } from 'zod';
import { ReembedError } from '../core/errors.js';
import { parseGateRules } from '../core/gates.js';
import {
  MIGRATION_STRATEGIES,
  type MigrationBridge,
  type MigrationOptions,
  type MigrationStrategy,
  parseDuration,
} from '../core/migration.js';
import { BRIDGED_RERANK_DEPTH, type FusionPolicy } from '../core/routing.js';
import { resolveSettings } from '../jobs/backfill.js';

/** `probe:docs` or `docs` → `docs` (the name a probe set is stored under). */
export function probeName(ref: string): string {
  return ref.startsWith('probe:') ? ref.slice('probe:'.length) : ref;
}

/**
 * Migration options at the boundary: validated once with zod, defaults resolved per strategy, and the
 * resolved value stored with the migration (so the audit log shows exactly what ran).
 */
const positive = z.number().positive();
/** A duration string (`30m`, `36h`, `7d`) with its default; `message` says how to write one. */
const duration = (fallback: string, message: string) =>
  z
    .string()
    .default(fallback)
    .refine((w) => {
      try {
        parseDuration(w);
        return true;
      } catch {
        return false;
      }
    }, message);

export const migrationOptionsSchema = z
  .object({
    gates: z.array(z.string().min(1)).optional(),
    sampleRate: z.number().min(0).max(1).default(0.1),
    minShadowSamples: z.number().int().min(0).default(20),
    steps: z
      .array(z.number().gt(0).max(100))
      .min(1)
      .default([10, 25, 50, 100])
      .refine((s) => s.every((v, i) => i === 0 || v > (s[i - 1] as number)), 'steps must increase')
      .refine((s) => s[s.length - 1] === 100, 'the last step must be 100'),
    tenants: z.boolean().default(true),
    stepHold: duration('0s', 'write a duration such as 30m, 1h or 0s'),
    fusion: z
      .object({
        method: z.enum(['rrf', 'minmax', 'zscore', 'coverage-aware-rrf', 'coverage-aware-score']),
        rrfK: positive.optional(),
        embedOnRead: z.boolean().optional(),
        rerankDepth: z.number().int().min(1).max(1_000).optional(),
      })
      .strict()
      .default({ method: 'coverage-aware-score' }),
    rollbackWindow: duration('7d', 'write a duration such as 7d, 36h or 30m'),
    golden: z.string().min(1).nullable().default(null),
    /**
     * A stored probe set (`probe:<name>` or `<name>`) for the quality gates when there is no golden set;
     * `false` for none. Omitted: `start` builds (or reuses) the collection's probe set.
     */
    probe: z.union([z.string().min(1), z.literal(false)]).optional(),
    keepQueries: z
      .object({
        max: z.number().int().min(1).max(1_000_000),
        for: duration('24h', 'write a duration such as 24h or 7d'),
      })
      .strict()
      .nullable()
      .default(null),
    backfill: z
      .object({
        batchSize: z.number().int().positive().optional(),
        maxBatchTokens: positive.nullable().optional(),
        concurrency: z.number().int().positive().max(256).optional(),
        requestsPerMinute: positive.nullable().optional(),
        tokensPerMinute: positive.nullable().optional(),
        maxRetries: z.number().int().min(0).max(100).optional(),
        timeoutMs: positive.nullable().optional(),
      })
      .strict()
      .default({}),
    bridge: z
      .object({
        direction: z.enum(['query', 'corpus']),
        adapter: z.string().min(1).optional(),
        name: z.string().min(1).optional(),
        primary: z.string().min(1).optional(),
      })
      .strict()
      .nullable()
      .default(null),
  })
  .strict();

export type MigrationOptionsInput = z.input<typeof migrationOptionsSchema>;

/** What `start` and `plan` take. */
export interface MigrationInput {
  /** The alias to migrate (its current namespace is the source). */
  readonly alias: string;
  /** Name of the target space (registered with `addSpace`). */
  readonly to: string;
  readonly strategy: MigrationStrategy;
  readonly options?: MigrationOptionsInput;
}

/** Shadow agreement below this overlap (@10) means the two spaces barely see the same documents. */
export const SHADOW_OVERLAP_FLOOR = 0.05;

/** One gate rule and why it applies (shown by `migrate plan` and `migrate status`). */
export interface GatePlanEntry {
  readonly rule: string;
  readonly why: string;
}

export interface GatePlanInput {
  readonly strategy: MigrationStrategy;
  readonly minShadowSamples: number;
  readonly golden: string | null;
  /** The probe set the gates read (without `probe:`), or null. */
  readonly probe: string | null;
  /** Why there is no probe, when building one failed (e.g. too few documents). */
  readonly probeUnavailable?: string | null;
  /** A bridged migration's `old` side of the quality gates, and why (the old model is never called). */
  readonly oldBaseline?: string | null;
}

/**
 * The default gates and why each applies: full coverage and no errors always; shadow agreement samples
 * and an overlap floor for a shadow migration; and quality — on the judged golden set when there is one,
 * else on the probe set, else a gate that fails until a judged set is given or the cutover is forced
 * with a reason (a migration must never cut over with its quality unmeasured).
 */
export function defaultGatePlan(input: GatePlanInput): GatePlanEntry[] {
  const plan: GatePlanEntry[] = [
    { rule: 'coverage >= 1.0', why: 'every live document must be current in the new namespace' },
    {
      rule: 'errors == 0',
      why: 'no dead-lettered documents, resurrected deletes or records of another space',
    },
  ];
  if (input.strategy === 'shadow') {
    plan.push({
      rule: `shadow.samples >= ${input.minShadowSamples}`,
      why: 'agreement needs samples: live queries through the alias, or `reembed migrate replay`',
    });
    // The floor reads samples: with none required (minShadowSamples 0) there may be none to read.
    if (input.minShadowSamples > 0)
      plan.push({
        rule: `shadow.overlap >= ${SHADOW_OVERLAP_FLOOR}`,
        why: 'a sanity floor: sound spaces share more than 1 in 20 of their top 10 (overlap is not quality)',
      });
  }
  const old = input.oldBaseline ? `; ${input.oldBaseline}` : '';
  if (input.golden !== null) {
    plan.push({
      rule: 'ndcg@10 >= old - 0.01',
      why: `judged golden set ${input.golden}: no loss beyond one nDCG point${old}`,
    });
  } else if (input.probe !== null) {
    const why = `no judged set: probe:${input.probe} (known-item queries cut from the collection)`;
    plan.push(
      { rule: 'probe.mrr@10 >= old - 0.01', why: `${why}; MRR may not drop by more than 0.01${old}` },
      {
        rule: 'probe.recall@10 >= old - 0.02',
        why: `${why}; recall may not drop by more than 0.02${old}`,
      },
    );
  } else {
    plan.push({
      rule: 'quality.measured >= 1',
      why: `no judged set and no probe${input.probeUnavailable ? ` (${input.probeUnavailable})` : ''}: give --golden, or cut over with --force --reason`,
    });
  }
  return plan;
}

export function resolveMigrationOptions(strategy: MigrationStrategy, input: unknown = {}): MigrationOptions {
  if (!(MIGRATION_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Unknown strategy "${strategy}": use one of ${MIGRATION_STRATEGIES.join(', ')}.`,
      {
        details: { field: 'strategy', value: strategy },
      },
    );
  }
  const parsed = migrationOptionsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ReembedError('INVALID_INPUT', `Invalid migration options: ${issues.join('; ')}.`, {
      details: { issues },
    });
  }
  const o = parsed.data;
  if (o.bridge && strategy !== 'lazy' && strategy !== 'progressive') {
    // Blue-green and shadow serve the old namespace with the old model until cutover: a bridge has no
    // part in them, and a deprecated old model could not serve them anyway.
    throw new ReembedError(
      'INVALID_INPUT',
      `A bridge serves through a lazy or progressive migration (the not-yet-backfilled part of the new space is answered through the adapter, native records weigh above bridged ones); ${strategy} serves the old model until cutover. Use --strategy lazy or --strategy progressive with --bridge ${o.bridge.direction}.`,
      { details: { field: 'bridge', strategy } },
    );
  }
  const probe = o.golden !== null || o.probe === false || o.probe === undefined ? null : probeName(o.probe);
  const gates =
    o.gates ??
    defaultGatePlan({
      strategy,
      minShadowSamples: o.minShadowSamples,
      golden: o.golden,
      // Until `start` has built it, an automatic probe is named after nothing: the rules are the same.
      probe: probe ?? (o.golden === null && o.probe === undefined ? 'auto' : null),
    }).map((g) => g.rule);
  parseGateRules(gates); // a typo fails now, before any work
  return Object.freeze({
    gates: Object.freeze([...gates]),
    sampleRate: o.sampleRate,
    minShadowSamples: o.minShadowSamples,
    steps: Object.freeze([...o.steps]),
    tenants: o.tenants,
    stepHold: o.stepHold,
    fusion: Object.freeze(fusionFor(strategy, o.fusion, o.bridge !== null)),
    rollbackWindow: o.rollbackWindow,
    golden: o.golden,
    probe,
    defaultGates: o.gates === undefined,
    keepQueries: o.keepQueries ? Object.freeze({ ...o.keepQueries }) : null,
    backfill: resolveSettings(o.backfill),
    ...(o.bridge ? { bridge: Object.freeze({ ...o.bridge }) as MigrationBridge } : {}),
  });
}

/**
 * The fusion policy as stored with the migration: a bridged lazy migration that embeds on read re-ranks the
 * bridge's top `BRIDGED_RERANK_DEPTH` by the new model unless a depth is given (the bridge alone misplaces
 * documents the new model ranks first; see `FusionPolicy.rerankDepth`). Anything else keeps what was given.
 */
function fusionFor(strategy: MigrationStrategy, fusion: FusionPolicy, bridged: boolean): FusionPolicy {
  const embeds = fusion.embedOnRead !== false && fusion.method.startsWith('coverage-aware');
  if (!bridged || strategy !== 'lazy' || !embeds || fusion.rerankDepth !== undefined) return { ...fusion };
  return { ...fusion, rerankDepth: BRIDGED_RERANK_DEPTH };
}
