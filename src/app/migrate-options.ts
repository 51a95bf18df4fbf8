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
import { resolveSettings } from '../jobs/backfill.js';

/**
 * Migration options at the boundary: validated once with zod, defaults resolved per strategy, and the
 * resolved value stored with the migration (so the audit log shows exactly what ran).
 */
const positive = z.number().positive();

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
    stepHold: z
      .string()
      .default('0s')
      .refine((w) => {
        try {
          parseDuration(w);
          return true;
        } catch {
          return false;
        }
      }, 'write a duration such as 30m, 1h or 0s'),
    fusion: z
      .object({
        method: z.enum(['rrf', 'minmax', 'zscore', 'coverage-aware-rrf', 'coverage-aware-score']),
        rrfK: positive.optional(),
        embedOnRead: z.boolean().optional(),
      })
      .strict()
      .default({ method: 'coverage-aware-score' }),
    rollbackWindow: z
      .string()
      .default('7d')
      .refine((w) => {
        try {
          parseDuration(w);
          return true;
        } catch {
          return false;
        }
      }, 'write a duration such as 7d, 36h or 30m'),
    golden: z.string().min(1).nullable().default(null),
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

/** Default gates: full coverage and no errors; shadow agreement samples; no quality loss when a golden set is given. */
export function defaultGates(
  strategy: MigrationStrategy,
  minShadowSamples: number,
  golden: string | null,
): string[] {
  const gates = ['coverage >= 1.0', 'errors == 0'];
  if (strategy === 'shadow') gates.push(`shadow.samples >= ${minShadowSamples}`);
  if (golden !== null) gates.push('ndcg@10 >= old - 0.01');
  return gates;
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
  if (o.bridge && strategy !== 'lazy') {
    throw new ReembedError(
      'INVALID_INPUT',
      `A bridge serves through a lazy migration (its fused routing weighs native records above bridged ones); use --strategy lazy with --bridge ${o.bridge.direction}.`,
      { details: { field: 'bridge', strategy } },
    );
  }
  const gates = o.gates ?? defaultGates(strategy, o.minShadowSamples, o.golden);
  parseGateRules(gates); // a typo fails now, before any work
  return Object.freeze({
    gates: Object.freeze([...gates]),
    sampleRate: o.sampleRate,
    minShadowSamples: o.minShadowSamples,
    steps: Object.freeze([...o.steps]),
    tenants: o.tenants,
    stepHold: o.stepHold,
    fusion: Object.freeze({ ...o.fusion }),
    rollbackWindow: o.rollbackWindow,
    golden: o.golden,
    backfill: resolveSettings(o.backfill),
    ...(o.bridge ? { bridge: Object.freeze({ ...o.bridge }) as MigrationBridge } : {}),
  });
}
