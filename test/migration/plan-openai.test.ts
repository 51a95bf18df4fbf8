import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import { defineSpace } from '../../src/core/space.js';
import { tokenize } from '../../src/core/tokenize.js';
import { hashingSpace } from '../../src/embedders/factory.js';
import { createOpenAICompatibleFactory } from '../../src/embedders/openai-factory.js';
import { encodingOf, loadTokenCounter } from '../../src/embedders/openai-tokenizer.js';
import { type OpenAICompatibleServer, startOpenAICompatibleServer } from '../../src/testing/openai-server.js';
import { tempApp } from './helpers.js';

/**
 * A plan never needs the network unless it samples: `--cost-only` makes no request (no key needed), and
 * OpenAI's own embedding models are counted exactly (cl100k_base, shipped in gpt-tokenizer). The forecast
 * prints its sample's cost before any request and refuses a sample above its cost limit.
 */
const v1 = hashingSpace('v1', { dimension: 64 });
const remote = (baseUrl: string, provider = 'openai') =>
  defineSpace(
    'oa-small',
    { provider, model: 'text-embedding-3-small', dimension: 64 },
    { pricePerMillionTokens: 0.02, options: { baseUrl, apiKey: '$env:TEST_OPENAI_KEY', maxRetries: 0 } },
  );

const docs = Array.from({ length: 80 }, (_, i) => ({
  id: `d${i}`,
  text: `Document ${i} talks about topic ${i % 7}. It has a second sentence with detail ${i * 3}. A third sentence closes document ${i} about subject ${i % 5}.`,
}));

/** A deterministic toy model for the server: words hashed into 64 buckets. */
function bagOfWords(text: string): Float32Array {
  const v = new Float32Array(64);
  for (const w of tokenize(text)) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    const i = (h >>> 0) % 64;
    v[i] = (v[i] as number) + 1;
  }
  return v;
}

describe('offline plans and exact OpenAI token counts', () => {
  let server: OpenAICompatibleServer;
  let ctx: Awaited<ReturnType<typeof tempApp>>;
  beforeEach(async () => {
    server = await startOpenAICompatibleServer({ embed: bagOfWords });
    ctx = await tempApp();
  });
  afterEach(async () => {
    await ctx.cleanup();
    await server.close();
  });

  it('counts exactly for OpenAI models, estimates for other servers', async () => {
    expect(encodingOf(remote('http://127.0.0.1:9/v1'))).toBe('cl100k_base');
    expect(encodingOf(remote('http://127.0.0.1:9/v1', 'openai-compatible'))).toBeNull();
    expect(encodingOf(remote('https://api.openai.com/v1', 'openai-compatible'))).toBe('cl100k_base');
    const count = await loadTokenCounter('cl100k_base');
    expect(count('Hello, world!')).toBe(4);
    expect(count('<|endoftext|>')).toBeGreaterThan(1); // ordinary text, not a special token (nor an error)
    const embedder = await createOpenAICompatibleFactory().create(remote(server.url));
    expect(embedder.tokenizer).toEqual({ name: 'cl100k_base', exact: true });
    const other = await createOpenAICompatibleFactory().create(remote(server.url, 'vllm'));
    expect(other.tokenizer?.exact).toBe(false);
  });

  it('--cost-only makes no request and needs no key; the forecast prints its cost first and has a limit', async () => {
    const { app } = ctx;
    await app.addSpace(v1);
    await app.addSpace(remote(server.url));
    await app.createCollection('docs', 'v1');
    await app.ingest('docs', docs);
    const service = new MigrationService(app);
    try {
      const offline = await service.plan(
        { alias: 'docs', to: 'oa-small', strategy: 'shadow' },
        { costOnly: true },
      );
      expect(server.requests).toHaveLength(0);
      expect(offline.tokenizer).toEqual({ name: 'cl100k_base', exact: true });
      const count = await loadTokenCounter('cl100k_base');
      expect(offline.estimate.tokens).toBe(docs.reduce((s, d) => s + count(d.text), 0));
      expect(offline.estimate.costUsd).toBeCloseTo((offline.estimate.tokens / 1e6) * 0.02, 12);

      // Without the key the sample cannot be embedded: the plan still answers, the forecast says why.
      const events: string[] = [];
      const noKey = await service.plan(
        { alias: 'docs', to: 'oa-small', strategy: 'shadow' },
        { onSampleCost: (c) => events.push(`cost ${c.new.tokens}`) },
      );
      expect(events).toHaveLength(1);
      expect(noKey.forecast?.verdict).toBe('inconclusive');
      expect(noKey.forecast?.reasons[0]).toMatch(/TEST_OPENAI_KEY .* --cost-only/);

      process.env.TEST_OPENAI_KEY = 'sk-test';
      const capped = await service.plan(
        { alias: 'docs', to: 'oa-small', strategy: 'shadow' },
        { maxSampleCostUsd: 0 },
      );
      expect(capped.forecast?.reasons[0]).toMatch(/above the limit/);
      expect(server.requests).toHaveLength(0);
      const sampled = await service.plan({ alias: 'docs', to: 'oa-small', strategy: 'shadow' });
      expect(server.requests.length).toBeGreaterThan(0);
      expect(sampled.forecast?.metrics?.['mrr@10']).toBeDefined();
      expect(sampled.forecast?.sample.new.tokens).toBeGreaterThan(0);
      expect(sampled.estimate.latencySource).toBe('measured');
    } finally {
      delete process.env.TEST_OPENAI_KEY;
      await service.close();
    }
  });
});
