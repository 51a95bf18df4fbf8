import { isReembedError, ReembedError } from '../core/errors.js';
import { applyInput } from '../core/pipeline.js';
import { Semaphore } from '../core/semaphore.js';
import type { Space } from '../core/space.js';
import { normalizeInPlace } from '../core/vector.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { Embedder, EmbedOptions } from '../ports/embedder.js';
import { type ResolvedOpenAIConfig, resolveOpenAIConfig } from './openai-config.js';
import { type LearnedLimits, ProviderPacer, type SharedLimiter } from './openai-pacer.js';
import type { OpenAIRetryEvent, RequestCounters, RequestDeps } from './openai-request.js';
import { estimateTokens, planBatches, type TokenCounter } from './openai-tokens.js';

export type { OpenAIOptions, ResolvedOpenAIConfig } from './openai-config.js';
export type { OpenAIRetryEvent } from './openai-request.js';
export type { TokenCounter } from './openai-tokens.js';

export interface OpenAICompatibleEmbedderOptions {
  /** Defaults to Node's global `fetch` (undici). No vendor SDK is involved. */
  readonly fetch?: typeof fetch;
  /** Backoff sleeps and `Retry-After` dates use this clock; request timeouts use real time. */
  readonly clock?: Clock;
  /** Where `$env:` references are resolved, at call time. Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * A real tokenizer for request sizing and `countTokens`; defaults to `estimateTokens`. Truncation is
   * not affected: it is part of the space (word tokens, `core/pipeline.ts`).
   */
  readonly countTokens?: TokenCounter;
  /** Name of the tokenizer `countTokens` is exact for (e.g. `cl100k_base`); absent: counts are estimates. */
  readonly tokenizer?: string;
  /** Jitter source in [0, 1); defaults to `Math.random`. */
  readonly random?: () => number;
  /** Called before every backoff sleep. */
  readonly onEvent?: (event: OpenAIRetryEvent) => void;
}

/** Counters since the embedder was created, for metrics endpoints and backfill reports. */
export interface OpenAIEmbedderStats {
  /** HTTP attempts sent, retries included. */
  readonly requests: number;
  readonly retries: number;
  /** Batches that ended in an error (after their retries). */
  readonly failures: number;
  /** Texts embedded successfully. */
  readonly inputs: number;
  /** Estimated tokens of successful requests (prefixes included). */
  readonly tokens: number;
  /** Tokens the provider reported in `usage` (0 when it reports none). */
  readonly providerTokens: number;
  readonly inFlight: number;
  /** Requests allowed in flight now (adapts unless `concurrency` was set). */
  readonly concurrency: number;
  /** The provider's limits as learned from its `x-ratelimit-*` headers (null: none seen). */
  readonly learnedLimits: LearnedLimits | null;
}

export interface OpenAICompatibleEmbedder extends Embedder {
  /** The validated connection settings; secrets appear only as `$env:` references. */
  readonly config: ResolvedOpenAIConfig;
  stats(): OpenAIEmbedderStats;
}

/**
 * An embedder for any OpenAI-compatible `/embeddings` endpoint: OpenAI, Azure OpenAI, vLLM, Hugging Face
 * TEI, Ollama (`/v1`), LM Studio. Connection settings come from `space.runtime.options` (documented on
 * `openAIOptionsSchema`); geometry comes from the spec: `inputType` prefixes and `truncation` (applied
 * client-side by `applyInput`, in word tokens, exactly as local embedders do), `normalization`, and
 * `params.requestDimensions` (sends `dimensions`).
 *
 * One `embed` call is split into requests by count and estimated tokens, run with at most `concurrency`
 * in flight (per embedder), retried on transient failures, validated in full, and reassembled by each
 * item's `index`. Either every vector comes back or a `ReembedError` does: `EMBEDDER_FAILED` (the
 * request or response is wrong), `EMBEDDER_TRANSIENT` (retries exhausted: try later),
 * `DIMENSION_MISMATCH` / `INVALID_VECTOR` (bad vectors), `INVALID_SPEC` (configuration), `ABORTED`.
 * The port's `maxBatchSize` (preferred texts per call) is the option `maxBatchSize × concurrency`, so
 * one call keeps every permit busy. Nothing is logged; the key never appears in errors or events.
 *
 * @example
 * const space = defineSpace('openai-small-v1', {
 *   provider: 'openai', model: 'text-embedding-3-small', dimension: 512, params: { requestDimensions: true },
 * }, { options: { baseUrl: 'https://api.openai.com/v1', apiKey: '$env:OPENAI_API_KEY', maxBatchSize: 512 } });
 * const embedder = createOpenAICompatibleEmbedder(space);
 * const [vector] = await embedder.embed(['hello'], { inputType: 'query' });
 */
export function createOpenAICompatibleEmbedder(
  space: Space,
  options: OpenAICompatibleEmbedderOptions = {},
): OpenAICompatibleEmbedder {
  const config = resolveOpenAIConfig(space);
  const count = options.countTokens ?? estimateTokens;
  const semaphore = new Semaphore(config.concurrency);
  const pacer = new ProviderPacer({
    clock: options.clock ?? systemClock,
    semaphore: config.adaptiveConcurrency ? semaphore : null,
    maxConcurrency: config.maxConcurrency,
  });
  const counters: RequestCounters = {
    requests: 0,
    retries: 0,
    failures: 0,
    inputs: 0,
    tokens: 0,
    providerTokens: 0,
  };
  const deps: RequestDeps = {
    config,
    dimension: space.spec.dimension,
    fetch: options.fetch ?? globalThis.fetch,
    clock: options.clock ?? systemClock,
    env: options.env ?? process.env,
    random: options.random ?? Math.random,
    semaphore,
    pacer,
    counters,
    cooldown: { until: 0 },
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  };
  const lifetime = new AbortController();

  const embed = async (texts: readonly string[], embedOptions: EmbedOptions): Promise<Float32Array[]> => {
    if (lifetime.signal.aborted) {
      throw new ReembedError(
        'INVALID_STATE',
        `The embedder of space "${space.name}" is closed; create a new one.`,
      );
    }
    const bad = texts.findIndex((t) => typeof t !== 'string');
    if (bad >= 0) {
      throw new ReembedError('INVALID_INPUT', `embed: input ${bad} is not a string; pass texts only.`, {
        details: { index: bad },
      });
    }
    if (texts.length === 0) return [];
    const inputs = texts.map((t) => applyInput(space.spec, t, embedOptions.inputType));
    const tokens = inputs.map((t) => count(t));
    const plans = planBatches(tokens, config);
    const out = new Array<Float32Array>(texts.length);
    const { sendBatch } = await loadRequests();
    await runAll(
      plans.map((plan) => async (signal: AbortSignal, fail: (error: unknown) => void) => {
        try {
          const result = await sendBatch(deps, {
            inputs: inputs.slice(plan.start, plan.end),
            offset: plan.start,
            tokens: plan.tokens,
            signal,
            onFatal: fail,
            ...(embedOptions.onRetry ? { onRetry: embedOptions.onRetry } : {}),
          });
          result.vectors.forEach((vector, i) => {
            out[plan.start + i] = space.spec.normalization === 'l2' ? normalizeInPlace(vector) : vector;
          });
        } catch (error) {
          if (!isReembedError(error, 'ABORTED')) counters.failures++;
          throw error;
        }
      }),
      [embedOptions.signal, lifetime.signal],
    );
    return out;
  };

  return Object.freeze({
    space,
    config,
    // Texts per call that keep every permit busy: one call splits into `concurrency` requests.
    maxBatchSize: config.maxBatchSize * config.concurrency,
    embed,
    countTokens: (text: string) => count(text),
    tokenizer: options.tokenizer
      ? { name: options.tokenizer, exact: true }
      : { name: 'estimate (chars/4, word pieces)', exact: false },
    stats: (): OpenAIEmbedderStats => ({
      ...counters,
      inFlight: semaphore.inUse,
      concurrency: semaphore.permits,
      learnedLimits: pacer.learned(),
    }),
    rateLimits: () => pacer.learned(),
    shareRateLimit: (limiter: SharedLimiter | null) => pacer.share(limiter),
    close: async (): Promise<void> => {
      lifetime.abort(new Error('embedder closed'));
    },
  });
}

/** The request path (sending, retries, response checks) loads with the first `embed`, not at import. */
let requests: Promise<typeof import('./openai-request.js')> | undefined;
function loadRequests(): Promise<typeof import('./openai-request.js')> {
  requests ??= import('./openai-request.js');
  return requests;
}

/**
 * Runs every task (each bounded by the shared semaphore inside `sendBatch`), stopping the rest at the
 * first failure so a failed call leaves no request behind, then rethrows that first failure. Tasks call
 * `fail` themselves as soon as they know, so the abort lands before their permit passes on.
 */
async function runAll(
  tasks: readonly ((signal: AbortSignal, fail: (error: unknown) => void) => Promise<void>)[],
  parents: readonly (AbortSignal | undefined)[],
): Promise<void> {
  const controller = new AbortController();
  const unlink: (() => void)[] = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      throw new ReembedError('ABORTED', 'Embedding was aborted by the caller; nothing was returned.', {
        cause: parent.reason,
      });
    }
    const onAbort = (): void => controller.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    unlink.push(() => parent.removeEventListener('abort', onAbort));
  }
  let first: { error: unknown } | undefined;
  const fail = (error: unknown): void => {
    first ??= { error };
    controller.abort(error);
  };
  try {
    await Promise.allSettled(tasks.map((task) => task(controller.signal, fail).catch(fail)));
  } finally {
    for (const fn of unlink) fn();
  }
  if (first) throw first.error;
}
