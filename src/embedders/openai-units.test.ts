import { describe, expect, it } from 'vitest';
import { isReembedError } from '../core/errors.js';
import { Semaphore } from '../core/semaphore.js';
import { redact, resolveOpenAIConfig, resolveRequestTarget } from './openai-config.js';
import { decodeBase64Float32, parseEmbeddingResponse, providerErrorMessage } from './openai-response.js';
import { isRetryableStatus, parseRetryAfter } from './openai-retry.js';
import { estimateTokens, planBatches } from './openai-tokens.js';
import { remoteSpace } from './test-support.js';

// Pure pieces of the OpenAI-compatible embedder, tested without a network.

const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name] ?? null });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('estimateTokens and planBatches', () => {
  it('estimates the larger of chars/4 and word/punctuation pieces; CJK characters count alone', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('Hello, world!')).toBe(4);
    expect(estimateTokens('a b c d e f g h')).toBe(8);
    expect(estimateTokens('internationalization')).toBe(5);
    expect(estimateTokens('東京都に住む')).toBe(6);
  });

  it('splits by count and by tokens; an oversized text goes alone', () => {
    expect(planBatches([], { maxBatchSize: 2, maxBatchTokens: 10 })).toEqual([]);
    expect(planBatches([1, 1, 1, 1, 1], { maxBatchSize: 2, maxBatchTokens: 100 })).toEqual([
      { start: 0, end: 2, tokens: 2 },
      { start: 2, end: 4, tokens: 2 },
      { start: 4, end: 5, tokens: 1 },
    ]);
    expect(planBatches([4, 4, 4, 50, 1], { maxBatchSize: 10, maxBatchTokens: 9 })).toEqual([
      { start: 0, end: 2, tokens: 8 },
      { start: 2, end: 3, tokens: 4 },
      { start: 3, end: 4, tokens: 50 },
      { start: 4, end: 5, tokens: 1 },
    ]);
  });
});

describe('retry policy', () => {
  it('retries 408/409/425/429/5xx only', () => {
    expect([408, 409, 425, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 413, 422].some(isRetryableStatus)).toBe(false);
  });

  it('parses retry-after-ms, x-ms-retry-after-ms, delta-seconds and HTTP dates', () => {
    const now = Date.UTC(2030, 0, 1);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250.5', 'retry-after': '9' }), now)).toBe(251);
    expect(parseRetryAfter(headers({ 'x-ms-retry-after-ms': '40' }), now)).toBe(40);
    expect(parseRetryAfter(headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfter(headers({ 'retry-after': new Date(now + 7000).toUTCString() }), now)).toBe(7000);
    expect(parseRetryAfter(headers({ 'retry-after': new Date(now - 7000).toUTCString() }), now)).toBe(0);
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after-ms': '-5' }), now)).toBeUndefined();
    expect(parseRetryAfter(headers({}), now)).toBeUndefined();
  });
});

describe('response parsing', () => {
  const ctx = {
    endpoint: 'http://x/v1/embeddings',
    spaceName: 's',
    expectedCount: 2,
    dimension: 2,
    offset: 10,
    secrets: [],
  };

  it('decodes little-endian float32 independent of host order, and refuses bad base64', () => {
    expect(
      Array.from(decodeBase64Float32(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]).toString('base64'))),
    ).toEqual([1, -2]);
    expect(decodeBase64Float32('')).toHaveLength(0);
    expect(
      isReembedError(
        thrown(() => decodeBase64Float32('AAA=')),
        'EMBEDDER_FAILED',
      ),
    ).toBe(true);
    expect(
      isReembedError(
        thrown(() => decodeBase64Float32('AA*A')),
        'EMBEDDER_FAILED',
      ),
    ).toBe(true);
  });

  it('reassembles by index and reports usage', () => {
    const body = JSON.stringify({
      data: [
        { index: 1, embedding: [3, 4] },
        { index: 0, embedding: [1, 2] },
      ],
      usage: { prompt_tokens: 7 },
    });
    const parsed = parseEmbeddingResponse(body, ctx);
    expect(parsed.vectors.map((v) => Array.from(v))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parsed.usageTokens).toBe(7);
  });

  it('refuses missing or out-of-range indices, non-arrays, strings as numbers; names the caller index', () => {
    const parse = (data: unknown) => thrown(() => parseEmbeddingResponse(JSON.stringify({ data }), ctx));
    const withIndex = (a: unknown, b: unknown) => [
      { index: 0, embedding: a },
      { index: 1, embedding: b },
    ];
    expect(String(parse([{ embedding: [1, 2] }, { index: 1, embedding: [1, 2] }]))).toMatch(
      /no valid "index"/,
    );
    expect(
      String(
        parse([
          { index: 0, embedding: [1, 2] },
          { index: 2, embedding: [1, 2] },
        ]),
      ),
    ).toMatch(/"index"/);
    expect(String(parse(withIndex([1, 2], { a: 1 })))).toMatch(/neither a number array/);
    const stringy = parse(withIndex([1, 2], [1, '2']));
    expect(isReembedError(stringy, 'INVALID_VECTOR')).toBe(true);
    expect(String(stringy)).toContain('input 11');
    expect(isReembedError(parse({}), 'EMBEDDER_FAILED')).toBe(true);
    expect(isReembedError(parse(withIndex([1, 2], [1e39, 0])), 'INVALID_VECTOR')).toBe(true);
  });

  it('extracts provider messages across dialects, bounded and redacted', () => {
    expect(providerErrorMessage('{"error":{"message":"bad input","type":"x"}}', [])).toBe('bad input');
    expect(providerErrorMessage('{"error":"Input validation error","error_type":"Validation"}', [])).toBe(
      'Input validation error',
    );
    expect(providerErrorMessage('{"object":"error","message":"vllm says no"}', [])).toBe('vllm says no');
    expect(providerErrorMessage('{"detail":[{"msg":"field required"}]}', [])).toContain('field required');
    expect(providerErrorMessage('<html>Bad Gateway</html>', [])).toBe('<html>Bad Gateway</html>');
    expect(providerErrorMessage('', [])).toBe('(empty body)');
    expect(providerErrorMessage('x'.repeat(1000), []).length).toBeLessThanOrEqual(301);
    expect(providerErrorMessage('{"error":"key sk-abcdef is wrong"}', ['sk-abcdef'])).toBe(
      'key [REDACTED] is wrong',
    );
    expect(redact('Authorization: Bearer eyJhbGciOi.payload.sig', [])).toBe(
      'Authorization: Bearer [REDACTED]',
    );
  });
});

describe('configuration', () => {
  const space = (options: Record<string, unknown>, params: Record<string, unknown> = {}) =>
    remoteSpace('cfg', { model: 'm-1', dimension: 3, params: params as never }, options);

  it('resolves defaults for an OpenAI-style endpoint', () => {
    const config = resolveOpenAIConfig(space({ baseUrl: 'http://localhost:11434/v1/' }));
    expect(config).toMatchObject({
      endpoint: 'http://localhost:11434/v1/embeddings',
      auth: 'bearer',
      model: 'm-1',
      dimensions: null,
      encodingFormat: null,
      timeoutMs: 30_000,
      maxRetries: 6,
      maxBatchSize: 32,
      concurrency: 4,
    });
    expect(resolveRequestTarget(config, {})).toMatchObject({
      url: 'http://localhost:11434/v1/embeddings',
      secrets: [],
    });
  });

  it('builds Azure URLs and sends the key as api-key; requestDimensions sends the spec dimension', () => {
    const config = resolveOpenAIConfig(
      space(
        { baseUrl: 'https://r.openai.azure.com', deployment: 'my dep', apiKey: '$env:AZ' },
        { requestDimensions: true },
      ),
    );
    expect(config.dimensions).toBe(3);
    const target = resolveRequestTarget(config, { AZ: 'az-secret-1' });
    expect(target.url).toBe(
      'https://r.openai.azure.com/openai/deployments/my%20dep/embeddings?api-version=2024-10-21',
    );
    expect(target.headers['api-key']).toBe('az-secret-1');
    expect(target.headers.authorization).toBeUndefined();
    expect(target.secrets).toEqual(['az-secret-1']);
  });

  it('resolves $env: in query parameters and headers, and lists them as secrets', () => {
    const config = resolveOpenAIConfig(
      space({
        baseUrl: 'http://h/v1',
        query: { key: '$env:Q' },
        headers: { 'x-api-key': '$env:H' },
        auth: 'none',
      }),
    );
    const target = resolveRequestTarget(config, { Q: 'qq-secret', H: 'hh-secret' });
    expect(target.url).toBe('http://h/v1/embeddings?key=qq-secret');
    expect(target.headers['x-api-key']).toBe('hh-secret');
    expect(target.secrets).toEqual(['hh-secret', 'qq-secret']);
    expect(config.endpoint).not.toContain('qq-secret');
  });
});

describe('Semaphore', () => {
  it('grants in FIFO order, never above its permits, and drops aborted waiters', async () => {
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    const first = await semaphore.acquire();
    const controller = new AbortController();
    const b = semaphore.acquire().then((release) => {
      order.push('b');
      return release;
    });
    const aborted = semaphore.acquire(controller.signal).catch((e: unknown) => e);
    const c = semaphore.acquire().then((release) => {
      order.push('c');
      release();
    });
    controller.abort();
    expect(isReembedError(await aborted, 'ABORTED')).toBe(true);
    expect(semaphore.inUse).toBe(1);
    first();
    first(); // idempotent: must not free a second permit
    const releaseB = await b;
    expect(semaphore.inUse).toBe(1);
    releaseB();
    await c;
    expect(order).toEqual(['b', 'c']);
    expect(semaphore.inUse).toBe(0);
  });
});
