import { ReembedError } from '../core/errors.js';
import { toFloat32, validateVector } from '../core/vector.js';
import { redact } from './openai-config.js';

/** What the parser needs to know about the request a body answers. */
export interface ResponseContext {
  /** Endpoint without query string, for messages. */
  readonly endpoint: string;
  readonly spaceName: string;
  readonly expectedCount: number;
  readonly dimension: number;
  /** Offset of this request's first input within the caller's `embed` call, so errors name the caller's index. */
  readonly offset: number;
  readonly secrets: readonly string[];
}

export interface ParsedEmbeddings {
  /** In input order (by the response's `index`, never by position). */
  readonly vectors: Float32Array[];
  /** `usage.prompt_tokens` (or `total_tokens`) when the provider reports it. */
  readonly usageTokens: number | null;
}

/**
 * Parses and validates one `/embeddings` response body. Every check a bad provider (or proxy) could
 * fail is here: JSON shape, one item per input, each `index` exactly once, each vector of the space's
 * dimension with finite components. Accepts `embedding` as a number array or as base64 little-endian
 * float32 regardless of what was asked, because some servers ignore `encoding_format`.
 */
export function parseEmbeddingResponse(body: string, ctx: ResponseContext): ParsedEmbeddings {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // The SyntaxError is not kept as the cause: its message quotes the body unredacted.
    throw malformed(ctx, `the body is not valid JSON (starts with ${JSON.stringify(snippet(body, ctx))})`);
  }
  const data = isObject(json) ? json.data : undefined;
  if (!Array.isArray(data)) {
    throw malformed(ctx, `the body has no "data" array (starts with ${JSON.stringify(snippet(body, ctx))})`);
  }
  if (data.length !== ctx.expectedCount) {
    throw malformed(ctx, `it returned ${data.length} embeddings for ${ctx.expectedCount} inputs`, {
      expected: ctx.expectedCount,
      actual: data.length,
    });
  }
  const vectors = new Array<Float32Array | undefined>(ctx.expectedCount);
  for (let position = 0; position < data.length; position++) {
    const item: unknown = data[position];
    const index = isObject(item) ? item.index : undefined;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= ctx.expectedCount) {
      throw malformed(
        ctx,
        `data[${position}] has no valid "index" (got ${String(JSON.stringify(index) ?? 'nothing').slice(0, 40)})`,
      );
    }
    if (vectors[index] !== undefined) throw malformed(ctx, `index ${index} appears more than once in "data"`);
    const where = `Embeddings from ${ctx.endpoint} (space "${ctx.spaceName}"), input ${ctx.offset + index}`;
    vectors[index] = toVector((item as Record<string, unknown>).embedding, ctx, where);
  }
  return { vectors: vectors as Float32Array[], usageTokens: usageOf(json) };
}

function toVector(embedding: unknown, ctx: ResponseContext, where: string): Float32Array {
  if (typeof embedding === 'string') {
    const vector = decodeBase64Float32(embedding, where);
    validateVector(vector, ctx.dimension, where);
    return vector;
  }
  if (!Array.isArray(embedding)) {
    throw malformed(ctx, `${where}: "embedding" is neither a number array nor a base64 string`);
  }
  // Checks the raw JSON values first (null, strings), then the float32 values (doubles beyond ±3.4e38 overflow).
  validateVector(embedding as ArrayLike<number>, ctx.dimension, where);
  const vector = toFloat32(embedding as number[]);
  validateVector(vector, ctx.dimension, where);
  return vector;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes base64 little-endian float32 (OpenAI's `encoding_format: "base64"`), independent of host byte order. */
export function decodeBase64Float32(text: string, where = 'base64 embedding'): Float32Array {
  const bytes = BASE64.test(text) && text.length % 4 === 0 ? Buffer.from(text, 'base64') : null;
  if (bytes === null || bytes.byteLength % 4 !== 0) {
    throw new ReembedError(
      'EMBEDDER_FAILED',
      `${where}: "embedding" is not base64 of float32 values. Set encodingFormat to "float" if the server does not support base64.`,
      { details: { where, length: text.length } },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * The human message of a provider's error body, across dialects: OpenAI/Azure/vLLM `{error: {message}}`,
 * TEI/Ollama `{error: "..."}`, vLLM/FastAPI `{message}` / `{detail}`; otherwise the start of the raw text.
 * Always redacted and bounded.
 */
export function providerErrorMessage(body: string, secrets: readonly string[]): string {
  let message: string | undefined;
  try {
    const json: unknown = JSON.parse(body);
    if (isObject(json)) {
      const error = json.error;
      if (typeof error === 'string') message = error;
      else if (isObject(error) && typeof error.message === 'string') message = error.message;
      else if (typeof json.message === 'string') message = json.message;
      else if (typeof json.detail === 'string') message = json.detail;
      else if (json.detail !== undefined) message = JSON.stringify(json.detail);
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  const text = (message ?? body).replace(/\s+/g, ' ').trim();
  const bounded = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  return redact(bounded, secrets) || '(empty body)';
}

function usageOf(json: unknown): number | null {
  const usage = isObject(json) ? json.usage : undefined;
  if (!isObject(usage)) return null;
  const tokens = usage.prompt_tokens ?? usage.total_tokens;
  return typeof tokens === 'number' && Number.isFinite(tokens) ? tokens : null;
}

function snippet(body: string, ctx: ResponseContext): string {
  return redact(body.slice(0, 80), ctx.secrets);
}

function malformed(ctx: ResponseContext, what: string, extra: Record<string, unknown> = {}): ReembedError {
  return new ReembedError(
    'EMBEDDER_FAILED',
    `Malformed response from ${ctx.endpoint} (space "${ctx.spaceName}"): ${what}. Nothing was returned; check that baseUrl points at an OpenAI-compatible embeddings endpoint.`,
    { details: { endpoint: ctx.endpoint, space: ctx.spaceName, ...extra } },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
