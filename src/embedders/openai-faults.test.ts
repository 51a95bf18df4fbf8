import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ReembedError } from '../core/errors.js';
import { fakeClock } from '../testing/fixtures.js';
import type { Fault } from '../testing/openai-server.js';
import { createOpenAICompatibleEmbedder, type OpenAIRetryEvent } from './openai.js';
import { rejection, remoteSpace, toy, useOpenAIServers } from './test-support.js';

// Faults over real HTTP on 127.0.0.1: retries (429/5xx/timeouts/resets), exhaustion, fatal statuses,
// validation of every response, and the API key never leaving in errors or events.

const KEY = 'sk-live-SECRET-4f1c9e2b7a';

const startServer = useOpenAIServers();

interface Setup {
  readonly script?: (Fault | null)[];
  readonly always?: Fault;
  readonly runtime?: Record<string, unknown>;
  readonly serverKey?: string;
  readonly leak?: boolean;
  /** Counts calls to the real global fetch (no mock: every call goes over the wire). */
  readonly fetchCalls?: { n: number };
}

async function setup({
  script,
  always,
  runtime = {},
  serverKey = KEY,
  leak = false,
  fetchCalls,
}: Setup = {}) {
  const server = await startServer({
    embed: (t) => toy(t),
    apiKey: serverKey,
    leakKeyInErrors: leak,
    faults: { script: script ?? [], ...(always ? { rate: { probability: 1, faults: [always] } } : {}) },
  });
  const space = remoteSpace(
    'remote-v1',
    {},
    {
      baseUrl: server.url,
      apiKey: '$env:K',
      retryBaseMs: 100,
      maxRetries: 3,
      ...runtime,
    },
  );
  const clock = fakeClock();
  const events: OpenAIRetryEvent[] = [];
  const embedder = createOpenAICompatibleEmbedder(space, {
    env: { K: KEY },
    clock,
    random: () => 0.5,
    onEvent: (e) => events.push(e),
    fetch: (input, init) => {
      if (fetchCalls) fetchCalls.n++;
      return fetch(input, init);
    },
  });
  return { server, embedder, clock, events };
}

const ok = (embedder: { embed: (t: string[], o: { inputType: 'query' }) => Promise<Float32Array[]> }) =>
  embedder.embed(['a', 'bb', 'ccc'], { inputType: 'query' });

describe('retries', () => {
  it('honours Retry-After in seconds, shared as a cooldown', async () => {
    const { embedder, clock, server, events } = await setup({
      script: [{ kind: 'status', status: 429, headers: { 'retry-after': '2' } }],
    });
    expect(await ok(embedder)).toHaveLength(3);
    expect(clock.sleeps).toEqual([2000]);
    expect(server.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(events).toMatchObject([
      { kind: 'retry', attempt: 1, delayMs: 2000, status: 429, retryAfterMs: 2000 },
    ]);
    expect(embedder.stats()).toMatchObject({ requests: 2, retries: 1, failures: 0 });
  });

  it('honours retry-after-ms over Retry-After, and an HTTP-date Retry-After against the clock', async () => {
    const { embedder, clock } = await setup({
      script: [
        { kind: 'status', status: 429, headers: { 'retry-after-ms': '150', 'retry-after': '9' } },
        {
          kind: 'status',
          status: 503,
          headers: { 'retry-after': new Date(Date.UTC(2030, 0, 1, 0, 0, 5)).toUTCString() },
        },
      ],
    });
    expect(await ok(embedder)).toHaveLength(3);
    // The date is 5 s after the clock's start; 150 ms of that already passed in the first wait.
    expect(clock.sleeps).toEqual([150, 4850]);
  });

  it('retries 500 and 503 with full-jitter exponential backoff, then succeeds', async () => {
    const { embedder, clock } = await setup({
      script: [
        { kind: 'status', status: 500 },
        { kind: 'status', status: 503 },
      ],
    });
    expect(await ok(embedder)).toHaveLength(3);
    expect(clock.sleeps).toEqual([50, 100]); // random() = 0.5 × 100 × 2^attempt
  });

  it('retries timeouts and connection resets', async () => {
    const { embedder, server } = await setup({
      runtime: { timeoutMs: 150 },
      script: [{ kind: 'delay', ms: 3_000 }, { kind: 'reset' }],
    });
    const started = Date.now();
    expect(await ok(embedder)).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(server.requests).toHaveLength(3);
    expect(embedder.stats().retries).toBe(2);
  });

  it('gives up with EMBEDDER_TRANSIENT after maxRetries, backing off exponentially (capped)', async () => {
    const { embedder, clock, server } = await setup({
      always: { kind: 'status', status: 503, message: 'overloaded' },
      runtime: { retryMaxDelayMs: 300 },
    });
    const error = await rejection(ok(embedder));
    expect(error.code).toBe('EMBEDDER_TRANSIENT');
    expect(error.details).toMatchObject({ attempts: 4, status: 503 });
    expect(error.message).toContain('overloaded');
    expect(clock.sleeps).toEqual([50, 100, 150]);
    expect(server.requests).toHaveLength(4);
    expect(embedder.stats()).toMatchObject({ requests: 4, retries: 3, failures: 1, inputs: 0 });
  });

  it('stops at once when Retry-After exceeds maxRetryAfterMs, reporting the wait', async () => {
    const { embedder, clock } = await setup({
      always: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } },
    });
    const error = await rejection(ok(embedder));
    expect(error.code).toBe('EMBEDDER_TRANSIENT');
    expect(error.details.retryAfterMs).toBe(3_600_000);
    expect(clock.sleeps).toEqual([]);
  });

  it('fails 400 and 413 at once with EMBEDDER_FAILED, the status and the provider message', async () => {
    const { embedder, server } = await setup({
      script: [{ kind: 'status', status: 400, message: "'input' is too long for this model" }],
    });
    const error = await rejection(ok(embedder));
    expect(error.code).toBe('EMBEDDER_FAILED');
    expect(error.details).toMatchObject({
      status: 400,
      providerMessage: "'input' is too long for this model",
    });
    expect(error.message).toContain("'input' is too long");
    expect(server.requests).toHaveLength(1);
  });

  it('maps a 413 (TEI batch limit) to EMBEDDER_FAILED with a hint, without a key configured', async () => {
    const server = await startServer({ embed: (t) => toy(t), maxBatchSize: 2 });
    const space = remoteSpace('tei', { provider: 'tei' }, { baseUrl: server.url });
    const error = await rejection(ok(createOpenAICompatibleEmbedder(space)));
    expect(error.code).toBe('EMBEDDER_FAILED');
    expect(error.details.status).toBe(413);
    expect(error.message).toContain('maxBatchSize');
    expect(server.requests[0]?.auth).toBe('none');
  });
});

describe('response validation: typed errors, nothing returned, no retry', () => {
  const cases: [string, Fault, string, RegExp][] = [
    ['malformed JSON', { kind: 'malformed' }, 'EMBEDDER_FAILED', /not valid JSON/],
    ['bare NaN token', { kind: 'non-finite', as: 'nan-literal' }, 'EMBEDDER_FAILED', /not valid JSON/],
    ['wrong dimension', { kind: 'wrong-dimension' }, 'DIMENSION_MISMATCH', /9 dimensions.*expects 8/],
    ['fewer dimensions', { kind: 'wrong-dimension', delta: -2 }, 'DIMENSION_MISMATCH', /6 dimensions/],
    ['null component', { kind: 'non-finite', as: 'null' }, 'INVALID_VECTOR', /component 0 is null/],
    ['1e999 component', { kind: 'non-finite', as: 'overflow' }, 'INVALID_VECTOR', /Infinity/],
    ['wrong count', { kind: 'wrong-count' }, 'EMBEDDER_FAILED', /2 embeddings for 3 inputs/],
    ['duplicate index', { kind: 'duplicate-index' }, 'EMBEDDER_FAILED', /more than once/],
  ];
  for (const [name, fault, code, message] of cases) {
    it(`${name} → ${code}`, async () => {
      const { embedder, server } = await setup({ script: [fault] });
      const error = await rejection(ok(embedder));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(server.requests).toHaveLength(1);
      expect(embedder.stats()).toMatchObject({ failures: 1, inputs: 0 });
    });
  }

  it('a real NaN in base64 → INVALID_VECTOR', async () => {
    const { embedder } = await setup({
      script: [{ kind: 'non-finite' }],
      runtime: { encodingFormat: 'base64' },
    });
    const error = await rejection(ok(embedder));
    expect(error.code).toBe('INVALID_VECTOR');
    expect(error.message).toMatch(/NaN/);
  });

  it('one bad batch fails the whole call and stops the batches not yet sent', async () => {
    const fetchCalls = { n: 0 };
    const { embedder, server } = await setup({
      script: [null, { kind: 'wrong-dimension' }],
      runtime: { maxBatchSize: 1, concurrency: 1 },
      fetchCalls,
    });
    const texts = Array.from({ length: 6 }, (_, i) => `t${i}`);
    const error = await rejection(embedder.embed(texts, { inputType: 'document' }));
    expect(error.code).toBe('DIMENSION_MISMATCH');
    expect(error.message).toContain('input 1');
    expect(server.requests).toHaveLength(2);
    expect(fetchCalls.n).toBe(2);
  });
});

describe('the API key never leaks', () => {
  const leaks = (error: ReembedError, events: unknown[]): boolean =>
    [
      error.message,
      JSON.stringify(error.toJSON()),
      inspect(error, { depth: 20 }),
      JSON.stringify(events),
    ].some((s) => s.includes(KEY));

  it('401 from a provider that echoes the key: EMBEDDER_FAILED, redacted', async () => {
    const { embedder } = await setup({ serverKey: 'sk-the-right-one', leak: true });
    const error = await rejection(ok(embedder));
    expect(error.code).toBe('EMBEDDER_FAILED');
    expect(error.details.status).toBe(401);
    expect(error.message).toContain('[REDACTED]');
    expect(error.message).toContain('$env:K');
    expect(leaks(error, [])).toBe(false);
  });

  it('transient errors and retry events quoting the key are redacted too', async () => {
    const { embedder, events } = await setup({
      always: { kind: 'status', status: 502, message: `upstream rejected Authorization: Bearer ${KEY}` },
    });
    const error = await rejection(ok(embedder));
    expect(error.code).toBe('EMBEDDER_TRANSIENT');
    expect(events).toHaveLength(3);
    expect(leaks(error, events)).toBe(false);
  });

  it('network errors carry no key', async () => {
    const { embedder, events, server } = await setup({ always: { kind: 'reset' } });
    const error = await rejection(ok(embedder));
    expect(error.code).toBe('EMBEDDER_TRANSIENT');
    expect(error.details.status).toBeNull();
    expect(String(error.details.reason)).toMatch(/network error/);
    expect(leaks(error, events)).toBe(false);
    expect(server.requests.every((r) => r.status === 0)).toBe(true);
  });
});
