import { afterEach, describe, expect, it } from 'vitest';
import { type OpenAICompatibleServer, startOpenAICompatibleServer } from '../testing/openai-server.js';
import { formatDuration } from '../testing/openai-server-limits.js';
import { driveRateLimited } from '../testing/rate-drive.js';
import { createOpenAICompatibleEmbedder } from './openai.js';
import { parseDuration } from './openai-pacer.js';
import { remoteSpace } from './test-support.js';

// Provider-bound speed against the real local server enforcing OpenAI-style limits: the embedder learns
// the limit from the x-ratelimit-* headers and paces itself at it; concurrency grows to what the limit
// and latency need. Windows are scaled down (1 s instead of a minute) so the runs take seconds.

let server: OpenAICompatibleServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const toy = (text: string) => [text.length % 7, 1, 0, 0];
const texts = (n: number) =>
  Array.from({ length: n }, (_, i) => `document ${i} ${'word '.repeat(10 + (i % 20))}`.trim());

function embedderFor(url: string, options: Record<string, unknown> = {}) {
  return createOpenAICompatibleEmbedder(
    remoteSpace('limited-v1', { model: 'toy-embed', dimension: 4 }, { baseUrl: url, ...options }),
  );
}

describe('the test server enforces OpenAI-style rate limits', () => {
  it('sends x-ratelimit-* on every response and 429 with Retry-After past a limit, consuming nothing', async () => {
    server = await startOpenAICompatibleServer({
      embed: toy,
      rateLimits: { requestsPerWindow: 2, tokensPerWindow: 1000, windowMs: 60_000 },
    });
    const post = () =>
      fetch(`${server?.url}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', input: ['hello world'] }),
      });
    const first = await post();
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('1000');
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe('997');
    expect(parseDuration(first.headers.get('x-ratelimit-reset-requests'))).toBeGreaterThan(29_000);
    expect((await post()).status).toBe(200);
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    expect(server.rateLimited).toMatchObject({ admitted: 2, refused: 1 });
  });

  it('formats and parses OpenAI reset durations', () => {
    for (const ms of [0, 20, 999, 1500, 61_000, 360_000, 3_723_500])
      expect(parseDuration(formatDuration(ms))).toBeCloseTo(ms, 0);
    expect(parseDuration('6m0s')).toBe(360_000);
    expect(parseDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseDuration('nonsense')).toBeUndefined();
  });
});

describe('an embedder with default settings adapts to the provider limit', () => {
  it('reaches the token limit with no 429 after the first window', async () => {
    const windowMs = 1000;
    const tokensPerWindow = 8000;
    server = await startOpenAICompatibleServer({
      embed: toy,
      rateLimits: { requestsPerWindow: 10_000, tokensPerWindow, windowMs },
      latency: { baseMs: 60, perTokenMs: 0.02, jitter: 0.3 },
    });
    const embedder = embedderFor(server.url);
    const result = await driveRateLimited({
      server,
      embedders: [embedder],
      texts: texts(1400),
      tokensPerWindow,
      windowMs,
    });
    // ~42 000 tokens at 8 000 per second: about 4 s past the first window's full bucket.
    expect(result.ms).toBeGreaterThan(3000);
    expect(result.steadyRatio).toBeGreaterThan(0.9);
    expect(result.share429AfterFirstWindow).toBeLessThan(0.02);
    expect(embedder.stats().learnedLimits?.tokensPerMinute).toBeGreaterThan(tokensPerWindow * 60 * 0.95);
    expect(embedder.stats().learnedLimits?.tokensPerMinute).toBeLessThan(tokensPerWindow * 60 * 1.05);
  });

  it('grows its concurrency past the default 4 when the limit and the latency need it', async () => {
    const windowMs = 1000;
    const requestsPerWindow = 40;
    server = await startOpenAICompatibleServer({
      embed: toy,
      rateLimits: { requestsPerWindow, windowMs },
      latency: { baseMs: 300 },
    });
    const embedder = embedderFor(server.url);
    // 40 requests/s × 0.3 s latency = 12 in flight needed; 4 would give at most 13 requests/s.
    const result = await driveRateLimited({
      server,
      embedders: [embedder],
      texts: texts(32 * 40 * 4),
      tokensPerWindow: 1,
      windowMs,
    });
    const late = server.requests.filter((r) => r.status === 200).length - requestsPerWindow;
    const perSecond = late / Math.max(0.001, result.ms / 1000 - 1);
    // The fixed default (4 in flight) would manage 13 requests/s here.
    expect(server.maxInFlight).toBeGreaterThan(6);
    expect(embedder.stats().concurrency).toBeGreaterThan(6);
    expect(perSecond).toBeGreaterThan(requestsPerWindow * 0.75);
    expect(result.share429AfterFirstWindow).toBeLessThan(0.02);
  });

  it('keeps a concurrency the user set', async () => {
    server = await startOpenAICompatibleServer({
      embed: toy,
      rateLimits: { requestsPerWindow: 1000, windowMs: 1000 },
      latency: { baseMs: 100 },
    });
    const embedder = embedderFor(server.url, { concurrency: 3 });
    await driveRateLimited({
      server,
      embedders: [embedder],
      texts: texts(32 * 30),
      tokensPerWindow: 1,
      windowMs: 1000,
    });
    expect(server.maxInFlight).toBe(3);
    expect(embedder.stats().concurrency).toBe(3);
  });
});
