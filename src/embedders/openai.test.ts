import { describe, expect, it } from 'vitest';
import { isReembedError, type ReembedError } from '../core/errors.js';
import type { SpaceSpecInput } from '../core/space.js';
import { normalizeInPlace } from '../core/vector.js';
import { fakeClock } from '../testing/fixtures.js';
import type { OpenAICompatibleServerOptions } from '../testing/openai-server.js';
import { createOpenAICompatibleEmbedder, type OpenAICompatibleEmbedderOptions } from './openai.js';
import { rejection, remoteSpace, toy, useOpenAIServers } from './test-support.js';

// Integration tests over real HTTP on 127.0.0.1: happy path, ordering, batching, concurrency, Azure,
// configuration and secrets, abort. Faults and retries are in openai-faults.test.ts.

const KEY = 'sk-test-0123456789abcdef';

const startServer = useOpenAIServers();

async function setup(
  serverOptions: Partial<OpenAICompatibleServerOptions> = {},
  runtime: Record<string, unknown> = {},
  spec: Partial<SpaceSpecInput> = {},
  clientOptions: OpenAICompatibleEmbedderOptions = {},
) {
  const dimension = spec.dimension ?? 8;
  const server = await startServer({ embed: (t) => toy(t, 8), apiKey: KEY, ...serverOptions });
  const space = remoteSpace(
    'remote-v1',
    { model: 'toy-embed', dimension, inputType: { query: 'query: ', document: 'passage: ' }, ...spec },
    { baseUrl: server.url, apiKey: '$env:TEST_EMBED_KEY', ...runtime },
  );
  const clock = fakeClock();
  const embedder = createOpenAICompatibleEmbedder(space, {
    env: { TEST_EMBED_KEY: KEY },
    clock,
    ...clientOptions,
  });
  return { server, embedder, clock, space };
}

const expected = (text: string, prefix: string): Float32Array => normalizeInPlace(toy(prefix + text));
const texts = (n: number): string[] => Array.from({ length: n }, (_, i) => `text number ${i}`);

describe('OpenAI-compatible embedder: happy path', () => {
  it('embeds in input order even when the server shuffles, with prefixes, model and bearer key', async () => {
    const { server, embedder } = await setup(
      { faults: { rate: { probability: 1, faults: [{ kind: 'shuffle' }], seed: 7 } } },
      { maxBatchSize: 4 },
    );
    expect(embedder.maxBatchSize).toBe(16); // 4 per request × concurrency 4: one call keeps every permit busy
    const input = texts(10);
    const out = await embedder.embed(input, { inputType: 'document' });
    expect(out).toEqual(input.map((t) => expected(t, 'passage: ')));
    expect(server.requests.map((r) => r.inputs.length)).toEqual([4, 4, 2]);
    expect(server.requests.every((r) => r.authorized && r.auth === 'bearer' && r.model === 'toy-embed')).toBe(
      true,
    );
    expect(server.requests.flatMap((r) => r.inputs)).toEqual(input.map((t) => `passage: ${t}`));
    const [query] = await embedder.embed(['what is it'], { inputType: 'query' });
    expect(query).toEqual(expected('what is it', 'query: '));
  });

  it('decodes base64 little-endian float32 to exactly the float result', async () => {
    const { server, embedder } = await setup({}, { encodingFormat: 'base64' });
    const out = await embedder.embed(texts(5), { inputType: 'document' });
    expect(server.requests[0]?.body).toMatchObject({ encoding_format: 'base64' });
    expect(out).toEqual(texts(5).map((t) => expected(t, 'passage: ')));
  });

  it('sends dimensions when spec.params.requestDimensions is true and checks the shortened length', async () => {
    const { server, embedder } = await setup({}, {}, { dimension: 4, params: { requestDimensions: true } });
    const [vector] = await embedder.embed(['short'], { inputType: 'query' });
    expect(server.requests[0]?.body).toMatchObject({ dimensions: 4 });
    expect(vector).toHaveLength(4);
    expect(Math.hypot(...(vector as Float32Array))).toBeCloseTo(1, 5);
  });

  it('keeps raw vectors when normalization is none, and truncates input by the spec (prefix kept)', async () => {
    const { server, embedder } = await setup(
      {},
      {},
      { normalization: 'none', truncation: { maxTokens: 3, side: 'end' } },
    );
    const [vector] = await embedder.embed(['one two three four five'], { inputType: 'document' });
    expect(server.requests[0]?.inputs).toEqual(['passage: one two three']);
    expect(vector).toEqual(toy('passage: one two three'));
  });

  it('returns [] for no texts without a request, and counts requests, inputs and tokens', async () => {
    const { server, embedder } = await setup({}, { maxBatchSize: 3 });
    expect(await embedder.embed([], { inputType: 'query' })).toEqual([]);
    expect(server.requests).toHaveLength(0);
    await embedder.embed(texts(7), { inputType: 'document' });
    const stats = embedder.stats();
    expect(stats).toMatchObject({ requests: 3, retries: 0, failures: 0, inputs: 7, inFlight: 0 });
    const estimated = texts(7).reduce((s, t) => s + embedder.countTokens(`passage: ${t}`), 0);
    expect(stats.tokens).toBe(estimated);
    expect(stats.providerTokens).toBe(7 * 4); // the test server reports whitespace words
  });

  it('speaks the Azure dialect: deployment path, api-version query, api-key header', async () => {
    const server = await startServer({ embed: (t) => toy(t), apiKey: KEY });
    const space = remoteSpace(
      'azure-v1',
      { provider: 'azure-openai', model: 'text-embedding-3-small' },
      { baseUrl: server.origin, deployment: 'emb-prod', apiKey: '$env:AZ_KEY', apiVersion: '2024-10-21' },
    );
    const embedder = createOpenAICompatibleEmbedder(space, { env: { AZ_KEY: KEY } });
    await embedder.embed(['hello'], { inputType: 'query' });
    const [request] = server.requests;
    expect(request).toMatchObject({
      path: '/openai/deployments/emb-prod/embeddings',
      query: { 'api-version': '2024-10-21' },
      auth: 'api-key',
      authorized: true,
      deployment: 'emb-prod',
    });
  });

  it('passes extra headers ($env: resolved), query parameters and body fields', async () => {
    const { server, embedder } = await setup(
      {},
      {
        headers: { 'x-tenant': 'acme', 'x-api-key': '$env:OTHER' },
        query: { tag: 'a' },
        body: { truncate: true },
      },
      {},
      { env: { TEST_EMBED_KEY: KEY, OTHER: 'other-secret' } },
    );
    await embedder.embed(['hi'], { inputType: 'query' });
    const [request] = server.requests;
    expect(request?.headers['x-tenant']).toBe('acme');
    expect(request?.headers['x-api-key']).toBe('[redacted]'); // present, and the server never records it
    expect(request?.query).toEqual({ tag: 'a' });
    expect(request?.body).toMatchObject({ truncate: true, model: 'toy-embed' });
  });
});

describe('OpenAI-compatible embedder: batching and concurrency', () => {
  it('splits by estimated tokens as well as by count', async () => {
    const { server, embedder } = await setup({}, { maxBatchSize: 100, maxBatchTokens: 30 });
    const input = Array.from({ length: 6 }, (_, i) => `w${i} alpha beta gamma delta epsilon zeta eta theta`);
    const perText = embedder.countTokens(`passage: ${input[0]}`);
    expect(perText).toBe(15); // 58 characters / 4, rounded up: two texts fit in 30 tokens, three do not
    const out = await embedder.embed(input, { inputType: 'document' });
    expect(server.requests.map((r) => r.inputs.length)).toEqual([2, 2, 2]);
    expect(out).toEqual(input.map((t) => expected(t, 'passage: ')));
  });

  it('never has more than `concurrency` requests in flight, across concurrent embed calls', async () => {
    const { server, embedder } = await setup({ latencyMs: 40 }, { maxBatchSize: 1, concurrency: 3 });
    const [a, b] = await Promise.all([
      embedder.embed(texts(8), { inputType: 'document' }),
      embedder.embed(texts(4), { inputType: 'query' }),
    ]);
    expect(server.requests).toHaveLength(12);
    expect(server.maxInFlight).toBe(3);
    expect(a).toEqual(texts(8).map((t) => expected(t, 'passage: ')));
    expect(b).toEqual(texts(4).map((t) => expected(t, 'query: ')));
    expect(embedder.stats().inFlight).toBe(0);
  });
});

describe('OpenAI-compatible embedder: configuration and secrets', () => {
  it('refuses a literal API key without echoing it', () => {
    const space = remoteSpace(
      'lit',
      { model: 'm' },
      { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-live-abc123xyz' },
    );
    let error: unknown;
    try {
      createOpenAICompatibleEmbedder(space);
    } catch (e) {
      error = e;
    }
    expect(isReembedError(error, 'INVALID_SPEC')).toBe(true);
    expect((error as Error).message).toContain('$env:');
    expect(JSON.stringify((error as ReembedError).toJSON())).not.toContain('sk-live-abc123xyz');
  });

  it('refuses literal credential headers, unknown options and reserved body fields', () => {
    const make = (options: Record<string, unknown>) => () =>
      createOpenAICompatibleEmbedder(
        remoteSpace('cfg', { model: 'm' }, { baseUrl: 'http://127.0.0.1:9/v1', ...options }),
      );
    expect(make({ headers: { Authorization: 'Bearer sk-zzz' } })).toThrow(/credential/);
    expect(make({ maxRetry: 3 })).toThrow(/maxRetry/);
    expect(make({ body: { input: 'x' } })).toThrow(/input/);
    expect(make({ api: 'azure' })).toThrow(/deployment/);
  });

  it('resolves the key at call time: a missing variable is INVALID_SPEC with no request; rotation is picked up', async () => {
    const env: Record<string, string | undefined> = {};
    const { server, embedder } = await setup({}, {}, {}, { env });
    const error = await rejection(embedder.embed(['x'], { inputType: 'query' }));
    expect(error.code).toBe('INVALID_SPEC');
    expect(error.message).toContain('TEST_EMBED_KEY');
    expect(server.requests).toHaveLength(0);
    env.TEST_EMBED_KEY = 'sk-wrong-key-000';
    expect((await rejection(embedder.embed(['x'], { inputType: 'query' }))).details.status).toBe(401);
    env.TEST_EMBED_KEY = KEY;
    expect(await embedder.embed(['x'], { inputType: 'query' })).toHaveLength(1);
  });
});

describe('OpenAI-compatible embedder: abort and close', () => {
  it('aborts an in-flight request promptly', async () => {
    const { server, embedder } = await setup({ latencyMs: 5_000 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(embedder.embed(['x'], { inputType: 'query', signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(server.requests).toHaveLength(1);
  });

  it('aborts during a Retry-After wait, and refuses an already-aborted signal without a request', async () => {
    const { server, embedder } = await setup(
      {
        faults: {
          rate: {
            probability: 1,
            faults: [{ kind: 'status', status: 429, headers: { 'retry-after': '30' } }],
          },
        },
      },
      {},
      {},
      { clock: undefined },
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(embedder.embed(['x'], { inputType: 'query', signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(server.requests).toHaveLength(1);
    const again = await rejection(embedder.embed(['x'], { inputType: 'query', signal: controller.signal }));
    expect(again.code).toBe('ABORTED');
    expect(server.requests).toHaveLength(1);
  });

  it('refuses calls after close', async () => {
    const { embedder } = await setup();
    await embedder.close?.();
    expect((await rejection(embedder.embed(['x'], { inputType: 'query' }))).code).toBe('INVALID_STATE');
  });
});
