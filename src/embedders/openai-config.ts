import type * as Zod from 'zod';
import { ReembedError } from '../core/errors.js';
import type { Space } from '../core/space.js';
import { lazyZod } from '../core/zod.js';

/**
 * Connection settings of an OpenAI-compatible embeddings endpoint, read from `space.runtime.options`.
 * They never change the geometry (that is the spec's job), so they stay out of the fingerprint.
 *
 * | option           | default            | meaning                                                                  |
 * |------------------|--------------------|--------------------------------------------------------------------------|
 * | `baseUrl`        | (required)         | `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama), `http://localhost:1234/v1` (LM Studio), `http://host:8000/v1` (vLLM), `http://host:8080/v1` (TEI); for Azure the resource endpoint `https://NAME.openai.azure.com` |
 * | `api`            | `openai`, or `azure` when `deployment` is set | `azure` posts to `/openai/deployments/{deployment}/embeddings?api-version=…` |
 * | `deployment`     | —                  | Azure deployment name                                                    |
 * | `apiVersion`     | `2024-10-21`       | Azure `api-version` query parameter                                      |
 * | `apiKey`         | none               | a reference `$env:NAME`, resolved at call time; literal keys are refused |
 * | `auth`           | `bearer` (`api-key` for azure) | how the key is sent: `Authorization: Bearer …`, `api-key: …`, or `none` |
 * | `model`          | `spec.model`       | model name sent in the body (e.g. an Ollama tag)                         |
 * | `headers`        | `{}`               | extra headers; values may be `$env:NAME`; credential headers must be     |
 * | `query`          | `{}`               | extra query parameters; values may be `$env:NAME`                        |
 * | `body`           | `{}`               | extra body fields (e.g. TEI `truncate`, vLLM `truncate_prompt_tokens`)   |
 * | `encodingFormat` | `float` (not sent) | `base64` asks for little-endian float32 bytes (smaller responses)        |
 * | `timeoutMs`      | `30000`            | per attempt, including reading the body                                  |
 * | `maxRetries`     | `6`                | retries after the first attempt on 408/409/425/429/5xx, network errors, timeouts |
 * | `retryBaseMs`    | `500`              | full-jitter backoff: `random() × min(retryMaxDelayMs, retryBaseMs × 2^attempt)` |
 * | `retryMaxDelayMs`| `30000`            | cap of one backoff delay                                                 |
 * | `maxRetryAfterMs`| `120000`           | a `Retry-After` longer than this stops retrying (EMBEDDER_TRANSIENT with `retryAfterMs`) |
 * | `maxBatchSize`   | `32`               | texts per request (TEI's default limit; OpenAI allows 2048)              |
 * | `maxBatchTokens` | `100000`           | estimated tokens per request (OpenAI allows 300k)                        |
 * | `concurrency`    | adaptive, from 4   | requests in flight per embedder, across all concurrent `embed` calls. Unset: adapts to the provider's limits (learned from `x-ratelimit-*` headers and 429s, see `openai-pacer.ts`) between 1 and `maxConcurrency`; set: fixed |
 * | `maxConcurrency` | `64`               | ceiling of the adaptive concurrency                                      |
 * | `tokenizer`      | by model           | `cl100k_base` / `o200k_base` count exactly (default for OpenAI's embedding models on OpenAI or Azure), `estimate` |
 *
 * Geometry-relevant request parameters belong in the spec: `spec.params.requestDimensions: true` sends
 * `dimensions: spec.dimension`.
 */
export const openAIOptionsSchema = lazyZod((z) =>
  z
    .object({
      baseUrl: z.string().url(),
      api: z.enum(['openai', 'azure']).optional(),
      deployment: z.string().min(1).optional(),
      apiVersion: z.string().min(1).optional(),
      apiKey: z.string().optional(),
      auth: z.enum(['bearer', 'api-key', 'none']).optional(),
      model: z.string().min(1).optional(),
      headers: z.record(z.string()).default({}),
      query: z.record(z.string()).default({}),
      body: z.record(z.unknown()).default({}),
      encodingFormat: z.enum(['float', 'base64']).optional(),
      timeoutMs: z.number().int().positive().default(30_000),
      maxRetries: z.number().int().min(0).max(50).default(6),
      retryBaseMs: z.number().int().nonnegative().default(500),
      retryMaxDelayMs: z.number().int().nonnegative().default(30_000),
      maxRetryAfterMs: z.number().int().nonnegative().default(120_000),
      maxBatchSize: z.number().int().positive().max(100_000).default(32),
      maxBatchTokens: z.number().int().positive().default(100_000),
      concurrency: z.number().int().positive().max(256).optional(),
      maxConcurrency: z.number().int().positive().max(256).default(64),
      /** How tokens are counted: an OpenAI encoding (exact), or `estimate`; default from the model and endpoint. */
      tokenizer: z.enum(['cl100k_base', 'o200k_base', 'estimate']).optional(),
    })
    .strict(),
);

export type OpenAIOptions = Zod.input<ReturnType<typeof openAIOptionsSchema>>;

export interface ResolvedOpenAIConfig {
  readonly spaceName: string;
  /** Endpoint without query string: safe to show in messages. */
  readonly endpoint: string;
  /** Query parameters; values may still be `$env:` references. */
  readonly query: Readonly<Record<string, string>>;
  readonly apiKeyRef: string | null;
  readonly auth: 'bearer' | 'api-key' | 'none';
  readonly headers: Readonly<Record<string, string>>;
  readonly model: string;
  readonly dimensions: number | null;
  readonly extraBody: Readonly<Record<string, unknown>>;
  readonly encodingFormat: 'float' | 'base64' | null;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryBaseMs: number;
  readonly retryMaxDelayMs: number;
  readonly maxRetryAfterMs: number;
  readonly maxBatchSize: number;
  readonly maxBatchTokens: number;
  /** Requests in flight to start with (fixed when `adaptiveConcurrency` is false). */
  readonly concurrency: number;
  /** True when the user left `concurrency` unset: it adapts to the provider's limits. */
  readonly adaptiveConcurrency: boolean;
  readonly maxConcurrency: number;
}

const ENV_REF = /^\$env:([A-Za-z_][A-Za-z0-9_]*)$/;
/** Headers that carry credentials: their values must be `$env:` references, never stored literally. */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'api-key',
  'x-api-key',
  'cookie',
]);
const RESERVED_BODY = new Set(['input', 'model', 'dimensions', 'encoding_format']);

/** Validates `space.runtime.options` once, resolving defaults; never resolves secrets (that happens per call). */
export function resolveOpenAIConfig(space: Space): ResolvedOpenAIConfig {
  const parsed = openAIOptionsSchema().safeParse(space.runtime.options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw invalid(space, `invalid runtime options: ${issues.join('; ')}`, { issues });
  }
  const o = parsed.data;
  if (o.apiKey !== undefined && !ENV_REF.test(o.apiKey)) {
    // The value is deliberately not echoed: it may be a real key.
    throw invalid(
      space,
      'runtime option apiKey holds a literal value. Secrets are never stored in a space: set apiKey to a reference such as "$env:OPENAI_API_KEY" and export the key in that environment variable.',
      { field: 'apiKey' },
    );
  }
  for (const [name, value] of Object.entries(o.headers)) {
    if (CREDENTIAL_HEADERS.has(name.toLowerCase()) && !ENV_REF.test(value)) {
      throw invalid(
        space,
        `runtime option headers.${name} carries a credential as a literal value. Use a reference such as "$env:MY_TOKEN" (or the apiKey option).`,
        { field: `headers.${name}` },
      );
    }
  }
  const clash = Object.keys(o.body).filter((k) => RESERVED_BODY.has(k));
  if (clash.length > 0) {
    throw invalid(
      space,
      `runtime option body must not set ${clash.join(', ')}: the embedder owns these fields.`,
      {
        field: 'body',
      },
    );
  }
  const api = o.api ?? (o.deployment !== undefined ? 'azure' : 'openai');
  if (api === 'azure' && o.deployment === undefined) {
    throw invalid(
      space,
      'runtime option api is "azure" but no deployment is set: add deployment: "<name>".',
      {
        field: 'deployment',
      },
    );
  }
  const base = o.baseUrl.replace(/\/+$/, '');
  const endpoint =
    api === 'azure'
      ? `${base}/openai/deployments/${encodeURIComponent(o.deployment as string)}/embeddings`
      : `${base}/embeddings`;
  const query: Record<string, string> =
    api === 'azure' ? { 'api-version': o.apiVersion ?? '2024-10-21' } : {};
  Object.assign(query, o.query);
  return Object.freeze({
    spaceName: space.name,
    endpoint,
    query: Object.freeze(query),
    apiKeyRef: o.apiKey ?? null,
    auth: o.auth ?? (api === 'azure' ? 'api-key' : 'bearer'),
    headers: Object.freeze({ ...o.headers }),
    model: o.model ?? space.spec.model,
    dimensions: space.spec.params.requestDimensions === true ? space.spec.dimension : null,
    extraBody: Object.freeze({ ...o.body }),
    encodingFormat: o.encodingFormat ?? null,
    timeoutMs: o.timeoutMs,
    maxRetries: o.maxRetries,
    retryBaseMs: o.retryBaseMs,
    retryMaxDelayMs: o.retryMaxDelayMs,
    maxRetryAfterMs: o.maxRetryAfterMs,
    maxBatchSize: o.maxBatchSize,
    maxBatchTokens: o.maxBatchTokens,
    concurrency: o.concurrency ?? 4,
    adaptiveConcurrency: o.concurrency === undefined,
    maxConcurrency: Math.max(o.maxConcurrency, o.concurrency ?? 1),
  });
}

export type Env = Readonly<Record<string, string | undefined>>;

/** What one request needs, with secrets resolved. `secrets` lists every resolved value so errors can redact them. */
export interface ResolvedRequestTarget {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly secrets: readonly string[];
}

/**
 * Resolves `$env:` references at call time (so a rotated key is picked up without rebuilding the embedder).
 * A missing variable is `INVALID_SPEC` naming the variable, never its value.
 */
export function resolveRequestTarget(config: ResolvedOpenAIConfig, env: Env): ResolvedRequestTarget {
  const secrets: string[] = [];
  const resolve = (value: string, field: string): string => {
    const match = ENV_REF.exec(value);
    if (!match) return value;
    const name = match[1] as string;
    const resolved = env[name];
    if (resolved === undefined || resolved === '') {
      throw new ReembedError(
        'INVALID_SPEC',
        `Environment variable ${name} (referenced by ${field} of space "${config.spaceName}") is not set. Export it before embedding.`,
        { details: { space: config.spaceName, field, variable: name } },
      );
    }
    secrets.push(resolved);
    return resolved;
  };
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  for (const [name, value] of Object.entries(config.headers))
    headers[name] = resolve(value, `headers.${name}`);
  if (config.apiKeyRef !== null && config.auth !== 'none') {
    const key = resolve(config.apiKeyRef, 'apiKey');
    if (config.auth === 'bearer') headers.authorization = `Bearer ${key}`;
    else headers['api-key'] = key;
  }
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(config.query)) params.set(name, resolve(value, `query.${name}`));
  const search = params.toString();
  return { url: search === '' ? config.endpoint : `${config.endpoint}?${search}`, headers, secrets };
}

/** Replaces every occurrence of the given secrets (and obvious bearer tokens) in provider-supplied text. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  }
  return out.replace(/Bearer\s+[A-Za-z0-9._~+/=-]{8,}/g, 'Bearer [REDACTED]');
}

function invalid(space: Space, what: string, details: Record<string, unknown>): ReembedError {
  return new ReembedError('INVALID_SPEC', `Space "${space.name}": ${what}`, {
    details: { space: space.name, ...details },
  });
}
