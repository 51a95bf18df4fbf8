import type { MigrationOptions, MigrationStrategy } from '../core/migration.js';
import { documentChunks } from '../core/pipeline.js';
import { type Estimate, estimate } from '../core/plan.js';
import type { SourceDocument } from '../core/records.js';
import { actionFor } from '../jobs/backfill-source.js';
import type { MigrationContext } from './migrate-context.js';
import { type MigrationInput, resolveMigrationOptions } from './migrate-options.js';
import { resolveInput } from './migrate-start.js';

export interface PlanOptions {
  /** Per-batch latency to assume instead of measuring one embedding call (which may cost money). */
  readonly latencyMs?: number;
  /** Documents embedded to measure latency (default 16; 0 means use `latencyMs` or 0). */
  readonly sampleSize?: number;
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
}

const PAGE = 1_000;

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
  const sample: SourceDocument[] = [];
  const sampleSize = options.sampleSize ?? 16;
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
      if (actionFor(doc, heads.get(doc.id)) === 'current') {
        alreadyCurrent++;
        continue;
      }
      if (sample.length < sampleSize) sample.push(doc);
      for (const chunk of documentChunks(space.spec, doc.id, doc.text)) {
        chunks++;
        tokens += embedder.countTokens(chunk.text);
      }
    }
  }
  let batchLatencyMs = options.latencyMs ?? 0;
  let latencySource: 'measured' | 'configured' = 'configured';
  if (options.latencyMs === undefined && sample.length > 0) {
    const texts = sample.flatMap((d) => documentChunks(space.spec, d.id, d.text).map((c) => c.text));
    const started = performance.now();
    await embedder.embed(texts, { inputType: 'document' });
    // Scaled linearly from the sample to a full batch: conservative for providers with a fixed overhead.
    batchLatencyMs = ((performance.now() - started) * resolved.backfill.batchSize) / sample.length;
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
