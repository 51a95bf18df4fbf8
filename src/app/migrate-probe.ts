import { isReembedError, ReembedError } from '../core/errors.js';
import {
  type MigrationOptions,
  type MigrationStrategy,
  type StepResult,
  stepResult,
} from '../core/migration.js';
import type { Namespace } from '../core/namespace.js';
import type { ProbeSet } from '../core/probe.js';
import type { MigrationContext } from './migrate-context.js';
import { defaultGatePlan, type MigrationInput, probeName } from './migrate-options.js';
import { buildProbeSet, requireProbes } from './probes.js';

/** Share of a stored probe's queries whose documents must be unchanged for `start` to reuse it. */
const REUSE_FRESH_SHARE = 0.9;

export interface MigrationProbe {
  /** The options to store: `probe` set to the probe used (or null), default gates recomputed. */
  readonly options: MigrationOptions;
  readonly step: StepResult;
  /** Bookkeeping for the migration's info (`probe`: name, digest, queries; or `probeUnavailable`). */
  readonly info: Readonly<Record<string, unknown>>;
}

/**
 * The quality check of a migration without a judged golden set: the probe set it names, or — by default —
 * the collection's stored probe set (`probe:<collection>`), built now if there is none or the collection
 * changed under it. When the collection cannot give a probe (too few documents or usable texts) the
 * migration still starts, and its default gates then refuse a cutover until a judged set is given or the
 * cutover is forced with a reason.
 */
export async function resolveMigrationProbe(
  ctx: MigrationContext,
  from: Namespace,
  input: MigrationInput,
  options: MigrationOptions,
): Promise<MigrationProbe> {
  if (options.golden !== null)
    return {
      options,
      step: stepResult('probe', 'skipped', `judged golden set ${options.golden} is used`),
      info: {},
    };
  const requested = input.options?.probe;
  if (requested === false)
    return withProbe(
      input.strategy,
      options,
      null,
      stepResult('probe', 'skipped', 'no probe (probe: false)'),
      {},
    );
  if (!ctx.backend.probes) {
    const why = `the ${ctx.backend.kind} backend stores no probe sets`;
    return withProbe(
      input.strategy,
      options,
      null,
      stepResult('probe', 'skipped', why),
      { probeUnavailable: why },
      why,
    );
  }
  if (typeof requested === 'string') {
    const probe = await requireProbes(ctx.backend).get(probeName(requested));
    assertCollection(probe, from.collection);
    return withProbe(
      input.strategy,
      options,
      probe,
      stepResult('probe', 'done', `using probe:${probe.name}`),
      infoOf(probe),
    );
  }
  try {
    const { probe, reused } = await collectionProbe(ctx, from.collection);
    const detail = reused
      ? `reusing probe:${probe.name} (${probe.queries.length} queries)`
      : `built probe:${probe.name}: ${probe.queries.length} known-item queries from ${probe.population.live} documents (seed ${probe.params.seed})`;
    return withProbe(input.strategy, options, probe, stepResult('probe', 'done', detail), infoOf(probe));
  } catch (error) {
    if (!isReembedError(error, 'PROBE_UNAVAILABLE')) throw error;
    const step = stepResult(
      'probe',
      'skipped',
      `no probe: ${error.message} Until then a cutover needs --force --reason.`,
      { code: error.code },
    );
    return withProbe(
      input.strategy,
      options,
      null,
      step,
      { probeUnavailable: error.message },
      reasonOf(error),
    );
  }
}

/** The collection's stored probe when it still describes the collection, else a fresh one (stored). */
export async function collectionProbe(
  ctx: Pick<MigrationContext, 'backend' | 'actor'>,
  collection: string,
): Promise<{ probe: ProbeSet; reused: boolean }> {
  const repository = requireProbes(ctx.backend);
  const held = (await repository.list()).find((p) => p.name === collection);
  if (held && held.collection === collection) {
    const probe = await repository.get(collection);
    if ((await freshShare(ctx, probe)) >= REUSE_FRESH_SHARE) return { probe, reused: true };
  }
  const probe = await buildProbeSet(ctx.backend, collection, { name: collection });
  await repository.save(collection, probe, {
    actor: ctx.actor,
    replace: held !== undefined,
    source: `migrate start on collection ${collection}`,
  });
  return { probe, reused: false };
}

async function freshShare(ctx: Pick<MigrationContext, 'backend'>, probe: ProbeSet): Promise<number> {
  const ids = probe.queries.map((q) => q.sourceId);
  let fresh = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const docs = await ctx.backend.sources.getMany(probe.collection, ids.slice(i, i + 500));
    for (const q of probe.queries.slice(i, i + 500)) {
      const doc = docs.get(q.sourceId);
      if (doc && !doc.deleted && doc.contentHash === q.contentHash) fresh++;
    }
  }
  return fresh / Math.max(1, probe.queries.length);
}

function withProbe(
  strategy: MigrationStrategy,
  options: MigrationOptions,
  probe: ProbeSet | null,
  step: StepResult,
  info: Readonly<Record<string, unknown>>,
  unavailable: string | null = null,
): MigrationProbe {
  const name = probe?.name ?? null;
  const gates = options.defaultGates
    ? defaultGatePlan({
        strategy,
        minShadowSamples: options.minShadowSamples,
        golden: options.golden,
        probe: name,
        probeUnavailable: unavailable,
      }).map((g) => g.rule)
    : options.gates;
  return {
    options: Object.freeze({ ...options, probe: name, gates: Object.freeze([...gates]) }),
    step,
    info,
  };
}

function infoOf(probe: ProbeSet): Readonly<Record<string, unknown>> {
  return { probe: { name: probe.name, digest: probe.digest, queries: probe.queries.length } };
}

function assertCollection(probe: ProbeSet, collection: string): void {
  if (probe.collection === collection) return;
  throw new ReembedError(
    'INVALID_INPUT',
    `Probe set "${probe.name}" was built from collection "${probe.collection}", not "${collection}". Build one for it: reembed probe create ${collection}.`,
    { details: { probe: probe.name, collection: probe.collection, expected: collection } },
  );
}

function reasonOf(error: ReembedError): string {
  const reason = error.details.reason;
  return reason === 'too-few-documents'
    ? `the collection has ${String(error.details.live)} live documents, fewer than a probe needs`
    : reason === 'too-few-queries'
      ? `only ${String(error.details.queries)} documents gave a probe query`
      : error.message;
}
