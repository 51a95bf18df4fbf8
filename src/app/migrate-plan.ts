import { isReembedError } from '../core/errors.js';
import type { MigrationOptions, MigrationStrategy } from '../core/migration.js';
import type { Namespace } from '../core/namespace.js';
import { documentChunks } from '../core/pipeline.js';
import { type Estimate, estimate, type LatencySource } from '../core/plan.js';
import { MIN_PROBE_QUERIES, type ProbeSet, resolveProbeParams } from '../core/probe.js';
import { ProbeSampler } from '../core/probe-sample.js';
import { actionFor } from '../jobs/backfill-source.js';
import { type Forecast, forecastMigration, type SampleCost } from './forecast.js';
import type { MigrationContext } from './migrate-context.js';
import {
  defaultGatePlan,
  type GatePlanEntry,
  type MigrationInput,
  probeName,
  resolveMigrationOptions,
} from './migrate-options.js';
import { plannedBridgeBaseline, resolveInput } from './migrate-start.js';
import { probeDocument } from './probes.js';

export interface PlanOptions {
  /** Per-batch latency to assume instead of measuring it on the forecast's sample. */
  readonly latencyMs?: number;
  /** Documents in the forecast's sample (default 200). */
  readonly sampleSize?: number;
  /** No embedding call at all: counts, tokens, cost and gates only; no forecast (nor measured latency). */
  readonly costOnly?: boolean;
  /** Refuse to embed a sample costing more than this (default $0.10). */
  readonly maxSampleCostUsd?: number;
  /** Called with the sample's cost before the forecast spends it. */
  readonly onSampleCost?: (cost: SampleCost) => void;
  readonly signal?: AbortSignal;
}

export interface MigrationPlan {
  readonly kind: 'migration-plan';
  readonly alias: string;
  readonly collection: string;
  readonly from: string;
  readonly to: string;
  readonly space: {
    readonly name: string;
    readonly fingerprint: string;
    readonly pricePerMillionTokens: number;
  };
  readonly strategy: MigrationStrategy;
  readonly options: MigrationOptions;
  /** Whether the target namespace exists already (a repeated plan counts what it holds as done). */
  readonly targetExists: boolean;
  readonly estimate: Estimate;
  /** How the target model's tokens were counted (exact for local models and OpenAI's own; else estimated). */
  readonly tokenizer: { readonly name: string; readonly exact: boolean };
  /** The gates a cutover would have to pass, and why each applies. */
  readonly gates: readonly GatePlanEntry[];
  /** The probe the forecast used (not stored), or why the collection cannot give one. */
  readonly probe: { readonly queries: number; readonly digest: string } | { readonly unavailable: string };
  /** The pre-flight forecast; null with `costOnly`. */
  readonly forecast: Forecast | null;
}

const PAGE = 1_000;
const DEFAULT_SAMPLE = 200;

/** The gates `start` would set: the given rules, or the defaults with the probe `start` would use. */
function defaultGatesFor(
  input: MigrationInput,
  resolved: MigrationOptions,
  autoProbe: string | null,
  unavailable: string | null,
): GatePlanEntry[] {
  if (!resolved.defaultGates) return resolved.gates.map((rule) => ({ rule, why: 'given with --gate' }));
  const requested = input.options?.probe;
  return defaultGatePlan({
    strategy: input.strategy,
    minShadowSamples: resolved.minShadowSamples,
    golden: resolved.golden,
    probe: typeof requested === 'string' ? probeName(requested) : requested === false ? null : autoProbe,
    probeUnavailable: requested === false ? 'probe: false' : unavailable,
  });
}

/** A bridged migration's gates name where their `old` side comes from (the old model is never called). */
function withOldBaseline(plan: GatePlanEntry[], oldBaseline: string | null): GatePlanEntry[] {
  if (!oldBaseline) return plan;
  return plan.map((g) =>
    /\bold\b/.test(g.rule) && !g.why.includes(oldBaseline) ? { ...g, why: `${g.why}; ${oldBaseline}` } : g,
  );
}

async function bridgedOldBaseline(
  ctx: MigrationContext,
  input: MigrationInput,
  resolved: MigrationOptions,
  from: Namespace,
): Promise<string | null> {
  if (!resolved.bridge) return null;
  const requested = input.options?.probe;
  let probe: string | null = null;
  if (!resolved.golden && requested !== false) {
    if (typeof requested === 'string') probe = probeName(requested);
    else if ((await ctx.backend.probes?.list())?.some((p) => p.name === from.collection))
      probe = from.collection;
    else
      return "old = clean-old quality on the collection's probe if `reembed adapter eval` recorded it while the old model answered, else what the bridge serves on it (the old model is never called)";
  }
  const bridge = { ...resolved.bridge, name: resolved.bridge.adapter ?? 'the newest passed adapter' };
  const baseline = await plannedBridgeBaseline(ctx, from, { ...resolved, probe, bridge } as MigrationOptions);
  return baseline?.why ?? null;
}

/**
 * Plans a migration without changing anything: counts the documents, chunks and tokens still to embed
 * (tokens as the target model counts them), prices them, and times the backfill from the rate limits,
 * the concurrency and a measured (or configured) batch latency.
 */
export async function planMigration(
  ctx: MigrationContext,
  input: MigrationInput,
  options: PlanOptions = {},
): Promise<MigrationPlan> {
  const resolved = resolveMigrationOptions(input.strategy, input.options);
  const { alias, from, space, to } = await resolveInput(ctx, input);
  const embedder = await ctx.embedders.get(space);
  const targetExists = (await ctx.backend.store.describeNamespace(to)) !== null;
  let documents = 0;
  let alreadyCurrent = 0;
  let chunks = 0;
  let tokens = 0;
  const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE;
  const sampler = new ProbeSampler(resolveProbeParams({ size: Math.max(MIN_PROBE_QUERIES, sampleSize) }));
  let afterId: string | undefined;
  for (;;) {
    const page = await ctx.backend.sources.scan(from.collection, { afterId, limit: PAGE });
    if (page.length === 0) break;
    afterId = page[page.length - 1]?.id;
    const heads = targetExists
      ? await ctx.backend.store.heads(
          to,
          page.map((d) => d.id),
        )
      : new Map();
    for (const doc of page) {
      documents++;
      sampler.add(probeDocument(doc));
      if (actionFor(doc, heads.get(doc.id)) === 'current') {
        alreadyCurrent++;
        continue;
      }
      for (const chunk of documentChunks(space.spec, doc.id, doc.text)) {
        chunks++;
        tokens += embedder.countTokens(chunk.text);
      }
    }
  }
  let probe: ProbeSet | null = null;
  let unavailable: string | null = null;
  try {
    probe = sampler.build(from.collection, from.collection);
  } catch (error) {
    if (!isReembedError(error, 'PROBE_UNAVAILABLE')) throw error;
    unavailable = error.message;
  }
  // A bridged migration's old model is gone: the forecast (both models on the probe) cannot run.
  const forecast =
    probe && !options.costOnly && !resolved.bridge
      ? await forecastMigration(ctx.backend, ctx.embedders, from.space, space, probe, {
          ...(options.maxSampleCostUsd !== undefined ? { maxSampleCostUsd: options.maxSampleCostUsd } : {}),
          ...(options.onSampleCost ? { onSampleCost: options.onSampleCost } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        })
      : null;
  let batchLatencyMs = options.latencyMs ?? 0;
  let latencySource: LatencySource = options.latencyMs === undefined ? 'unknown' : 'configured';
  if (options.latencyMs === undefined && forecast?.newMsPerDocument != null) {
    // Scaled linearly from the sample to a full batch: conservative for providers with a fixed overhead.
    batchLatencyMs = forecast.newMsPerDocument * resolved.backfill.batchSize;
    latencySource = 'measured';
  }
  return Object.freeze({
    kind: 'migration-plan' as const,
    alias: alias.name,
    collection: from.collection,
    from: from.name,
    to,
    space: {
      name: space.name,
      fingerprint: space.fingerprint,
      pricePerMillionTokens: space.runtime.pricePerMillionTokens,
    },
    strategy: input.strategy,
    options: resolved,
    targetExists,
    tokenizer: embedder.tokenizer ?? { name: 'estimate', exact: false },
    gates: Object.freeze(
      withOldBaseline(
        defaultGatesFor(input, resolved, probe ? from.collection : null, unavailable),
        await bridgedOldBaseline(ctx, input, resolved, from),
      ),
    ),
    probe: probe
      ? { queries: probe.queries.length, digest: probe.digest }
      : { unavailable: unavailable ?? '' },
    forecast,
    estimate: estimate({
      strategy: input.strategy,
      documents,
      alreadyCurrent,
      chunks,
      tokens,
      pricePerMillionTokens: space.runtime.pricePerMillionTokens,
      settings: resolved.backfill,
      batchLatencyMs,
      latencySource,
    }),
  });
}
