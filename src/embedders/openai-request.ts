import { backoffDelay } from '../core/backoff.js';
import { isReembedError, ReembedError } from '../core/errors.js';
import type { Semaphore } from '../core/semaphore.js';
import type { Clock } from '../ports/clock.js';
import type { EmbedRetry } from '../ports/embedder.js';
import { type Env, type ResolvedOpenAIConfig, resolveRequestTarget } from './openai-config.js';
import { type ParsedEmbeddings, parseEmbeddingResponse, providerErrorMessage } from './openai-response.js';
import { isRetryableStatus, parseRetryAfter } from './openai-retry.js';

/** Emitted before every backoff sleep, so a backfill can log rate limiting without parsing errors. */
export interface OpenAIRetryEvent {
  readonly kind: 'retry';
  readonly space: string;
  /** 1 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  /** HTTP status, or null for a network error / timeout. */
  readonly status: number | null;
  readonly reason: string;
  readonly retryAfterMs: number | null;
}

/** Mutable counters shared by every request of one embedder (snapshotted by `stats()`). */
export interface RequestCounters {
  requests: number;
  retries: number;
  failures: number;
  inputs: number;
  tokens: number;
  providerTokens: number;
}

export interface RequestDeps {
  readonly config: ResolvedOpenAIConfig;
  readonly dimension: number;
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  readonly env: Env;
  readonly random: () => number;
  readonly semaphore: Semaphore;
  readonly counters: RequestCounters;
  /** Epoch ms before which no request may start: set from a `Retry-After`, shared by every batch. */
  readonly cooldown: { until: number };
  readonly onEvent?: (event: OpenAIRetryEvent) => void;
}

export interface BatchRequest {
  readonly inputs: readonly string[];
  /** Index of `inputs[0]` within the caller's `embed` call. */
  readonly offset: number;
  readonly tokens: number;
  readonly signal: AbortSignal;
  /**
   * Called with a non-retryable failure while this batch still holds its permit, so the caller can stop
   * its other batches before the permit passes to one of them.
   */
  readonly onFatal?: (error: unknown) => void;
  /** The `embed` caller's own retry listener (`EmbedOptions.onRetry`). */
  readonly onRetry?: (retry: EmbedRetry) => void;
}

/** A failure worth another attempt. */
interface Transient {
  readonly status: number | null;
  readonly reason: string;
  readonly retryAfterMs: number | undefined;
}

/**
 * Sends one batch with retries: 408/409/425/429/5xx, network errors and timeouts back off with full
 * jitter (or exactly as long as `Retry-After` asks); other statuses fail at once with the provider's
 * message; every 2xx body is validated. Secrets are redacted from everything that leaves this function.
 */
export async function sendBatch(deps: RequestDeps, batch: BatchRequest): Promise<ParsedEmbeddings> {
  const { config } = deps;
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOnce(deps, batch);
    if (!isTransient(outcome)) {
      deps.counters.inputs += batch.inputs.length;
      deps.counters.tokens += batch.tokens;
      deps.counters.providerTokens += outcome.usageTokens ?? 0;
      return outcome;
    }
    const tooLong = outcome.retryAfterMs !== undefined && outcome.retryAfterMs > config.maxRetryAfterMs;
    if (attempt >= config.maxRetries || tooLong) {
      throw exhausted(config, attempt + 1, outcome);
    }
    const delayMs =
      outcome.retryAfterMs ?? backoffDelay(attempt, config.retryBaseMs, config.retryMaxDelayMs, deps.random);
    if (outcome.retryAfterMs !== undefined) {
      deps.cooldown.until = Math.max(deps.cooldown.until, deps.clock.now().getTime() + outcome.retryAfterMs);
    }
    deps.counters.retries++;
    batch.onRetry?.({ attempt: attempt + 1, delayMs, status: outcome.status, reason: outcome.reason });
    deps.onEvent?.({
      kind: 'retry',
      space: config.spaceName,
      attempt: attempt + 1,
      delayMs,
      status: outcome.status,
      reason: outcome.reason,
      retryAfterMs: outcome.retryAfterMs ?? null,
    });
    await sleep(deps.clock, delayMs, batch.signal);
  }
}

async function attemptOnce(deps: RequestDeps, batch: BatchRequest): Promise<ParsedEmbeddings | Transient> {
  const { config } = deps;
  const release = await deps.semaphore.acquire(batch.signal);
  try {
    if (batch.signal.aborted) throw abortedError(batch.signal);
    for (let wait = deps.cooldown.until - deps.clock.now().getTime(); wait > 0; ) {
      await sleep(deps.clock, wait, batch.signal);
      wait = deps.cooldown.until - deps.clock.now().getTime();
    }
    const target = resolveRequestTarget(config, deps.env);
    const body: Record<string, unknown> = { ...config.extraBody, model: config.model, input: batch.inputs };
    if (config.dimensions !== null) body.dimensions = config.dimensions;
    if (config.encodingFormat !== null) body.encoding_format = config.encodingFormat;
    deps.counters.requests++;
    const response = await post(deps, target.url, target.headers, JSON.stringify(body), batch.signal);
    if ('reason' in response) return response;
    if (response.status >= 200 && response.status < 300) {
      return parseEmbeddingResponse(response.text, {
        endpoint: config.endpoint,
        spaceName: config.spaceName,
        expectedCount: batch.inputs.length,
        dimension: deps.dimension,
        offset: batch.offset,
        secrets: target.secrets,
      });
    }
    const message = providerErrorMessage(response.text, target.secrets);
    if (isRetryableStatus(response.status)) {
      const retryAfterMs = parseRetryAfter(response.headers, deps.clock.now().getTime());
      return { status: response.status, reason: `HTTP ${response.status}: ${message}`, retryAfterMs };
    }
    throw new ReembedError(
      'EMBEDDER_FAILED',
      `Embeddings request to ${config.endpoint} (space "${config.spaceName}", model "${config.model}") failed with HTTP ${response.status}: ${message}. ${hintFor(response.status, config)}`,
      {
        details: {
          endpoint: config.endpoint,
          space: config.spaceName,
          model: config.model,
          status: response.status,
          providerMessage: message,
        },
      },
    );
  } catch (error) {
    if (!isReembedError(error, 'ABORTED')) batch.onFatal?.(error);
    throw error;
  } finally {
    release();
  }
}

type RawResponse = { status: number; headers: Headers; text: string };

/** One HTTP exchange bounded by `timeoutMs` (real time: it bounds real I/O), including reading the body. */
async function post(
  deps: RequestDeps,
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<RawResponse | Transient> {
  if (signal.aborted) throw abortedError(signal);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('timeout'));
  }, deps.config.timeoutMs);
  const onAbort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await deps.fetch(url, { method: 'POST', headers, body, signal: controller.signal });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    if (signal.aborted) throw abortedError(signal);
    if (timedOut)
      return {
        status: null,
        reason: `no response within ${deps.config.timeoutMs} ms`,
        retryAfterMs: undefined,
      };
    return { status: null, reason: `network error: ${describeNetworkError(error)}`, retryAfterMs: undefined };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** `fetch failed (ECONNREFUSED)`; the raw error is not kept, so nothing of the request can leak through it. */
function describeNetworkError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const detail =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
  return detail ? `${message} (${detail})` : message;
}

async function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  try {
    await clock.sleep(ms, signal);
  } catch (error) {
    if (signal.aborted) throw abortedError(signal);
    throw error;
  }
}

function isTransient(value: ParsedEmbeddings | Transient): value is Transient {
  return 'reason' in value;
}

function exhausted(config: ResolvedOpenAIConfig, attempts: number, last: Transient): ReembedError {
  const waited = last.retryAfterMs !== undefined && last.retryAfterMs > config.maxRetryAfterMs;
  const why = waited
    ? `the provider asked to wait ${last.retryAfterMs} ms, longer than maxRetryAfterMs (${config.maxRetryAfterMs})`
    : `still failing after ${attempts} attempt(s)`;
  return new ReembedError(
    'EMBEDDER_TRANSIENT',
    `Embeddings request to ${config.endpoint} (space "${config.spaceName}"): ${why}; last error: ${last.reason}. The provider is unavailable or rate limiting: retry later (a backfill resumes from its checkpoint), or raise maxRetries / lower concurrency.`,
    {
      details: {
        endpoint: config.endpoint,
        space: config.spaceName,
        attempts,
        status: last.status,
        reason: last.reason,
        retryAfterMs: last.retryAfterMs ?? null,
      },
    },
  );
}

function abortedError(signal: AbortSignal): ReembedError {
  return new ReembedError('ABORTED', 'Embedding was aborted by the caller; nothing was returned.', {
    cause: signal.reason,
  });
}

function hintFor(status: number, config: ResolvedOpenAIConfig): string {
  if (status === 401 || status === 403) {
    return config.apiKeyRef === null
      ? 'The endpoint requires a key: set the apiKey option to a reference such as "$env:OPENAI_API_KEY".'
      : `Check that the key in ${config.apiKeyRef} is valid for this endpoint (and, for Azure, that auth is "api-key").`;
  }
  if (status === 404) return 'Check baseUrl, the model name, and (for Azure) the deployment and apiVersion.';
  if (status === 413) return 'The request is too large: lower maxBatchSize or maxBatchTokens.';
  return 'The provider rejected the request: check the model serves embeddings, the input length (spec.truncation.maxTokens) and the requested dimensions. Retrying will not help.';
}
