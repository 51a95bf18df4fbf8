import { isReembedError, ReembedError } from '../core/errors.js';
import type { SourceDocument, SourceWrite } from '../core/records.js';
import type { Clock } from '../ports/clock.js';
import type { Embedder, EmbedOptions } from '../ports/embedder.js';
import type { RateLimiter } from './rate-limit.js';
import { classifyFailure, type RetryPolicy, retryDelay, withTimeout } from './retry.js';

/**
 * Chunks and embeds sources with one space's embedder, validating every vector (the app's
 * `embedSources`); injected so that jobs do not depend on the app layer. The validation is part of the
 * contract: it is the one place the backfill checks vector values (the store is told they were checked,
 * see `WriteOptions.prevalidated`), and a bad vector thrown from here is bisected out and dead-lettered.
 */
export type EncodeSources = (
  embedder: Embedder,
  docs: readonly SourceDocument[],
  options: { signal?: AbortSignal; onRetry?: EmbedOptions['onRetry'] },
) => Promise<SourceWrite[]>;

export interface EmbedContext {
  readonly embedder: Embedder;
  readonly encode: EncodeSources;
  readonly limiter: RateLimiter;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | null;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly random: () => number;
  readonly onRetry: (event: { attempt: number; delayMs: number; docs: number; error: unknown }) => void;
  /** Retries the embedder made inside a call (a provider's 429s and 5xx it absorbed): counted too. */
  readonly onEmbedderRetry?: EmbedOptions['onRetry'];
}

export interface ItemFailure {
  readonly doc: SourceDocument;
  readonly error: ReembedError;
}

export interface EmbedOutcome {
  readonly writes: SourceWrite[];
  readonly failures: ItemFailure[];
}

/**
 * Embeds a batch; when the provider fails because of some input (bad vector, wrong dimension, refused
 * text), bisects the batch until the poison items are isolated, so every other document still lands
 * and only the culprits are dead-lettered. Costs O(p · log n) extra calls for p poison items.
 * Transient failures are retried with backoff; when retries run out the error propagates and the job
 * stops (it resumes from its checkpoint) rather than dead-lettering healthy documents.
 */
export async function embedIsolating(
  ctx: EmbedContext,
  docs: readonly SourceDocument[],
): Promise<EmbedOutcome> {
  if (docs.length === 0) return { writes: [], failures: [] };
  try {
    return { writes: await embedWithRetry(ctx, docs), failures: [] };
  } catch (error) {
    if (classifyFailure(error) !== 'item' || ctx.signal.aborted) throw error;
    if (docs.length === 1)
      return { writes: [], failures: [{ doc: docs[0] as SourceDocument, error: asReembedError(error) }] };
    const mid = Math.ceil(docs.length / 2);
    const left = await embedIsolating(ctx, docs.slice(0, mid));
    const right = await embedIsolating(ctx, docs.slice(mid));
    return { writes: [...left.writes, ...right.writes], failures: [...left.failures, ...right.failures] };
  }
}

async function embedWithRetry(ctx: EmbedContext, docs: readonly SourceDocument[]): Promise<SourceWrite[]> {
  const { embedder, limiter } = ctx;
  const requests = Math.ceil(docs.length / Math.max(1, embedder.maxBatchSize));
  let tokens = 0;
  if (limiter.countsTokens) for (const d of docs) tokens += embedder.countTokens(d.text);
  for (let attempt = 0; ; attempt++) {
    await limiter.acquire(requests, tokens, ctx.signal);
    try {
      return await withTimeout(ctx.timeoutMs, ctx.signal, (signal) =>
        ctx.encode(embedder, docs, {
          signal,
          ...(ctx.onEmbedderRetry ? { onRetry: ctx.onEmbedderRetry } : {}),
        }),
      );
    } catch (error) {
      if (ctx.signal.aborted) throw abortedError(ctx.signal);
      if (classifyFailure(error) !== 'transient' || attempt >= ctx.retry.maxRetries) throw error;
      const delayMs = retryDelay(ctx.retry, attempt, error, ctx.random);
      ctx.onRetry({ attempt: attempt + 1, delayMs, docs: docs.length, error });
      await ctx.clock.sleep(delayMs, ctx.signal);
    }
  }
}

export function abortedError(signal: AbortSignal): ReembedError {
  return isReembedError(signal.reason, 'ABORTED')
    ? signal.reason
    : new ReembedError('ABORTED', 'The backfill was stopped; it resumes from its last checkpoint.', {
        cause: signal.reason,
      });
}

function asReembedError(error: unknown): ReembedError {
  if (error instanceof ReembedError) return error;
  return new ReembedError('EMBEDDER_FAILED', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
