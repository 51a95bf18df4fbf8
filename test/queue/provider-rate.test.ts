import { afterEach, describe, expect, it } from 'vitest';
import { defineSpace } from '../../src/core/space.js';
import { createOpenAICompatibleEmbedder } from '../../src/embedders/openai.js';
import { LearnedPgLimiter } from '../../src/queue/global-rate.js';
import { ensureQueueSchema } from '../../src/queue/graphile.js';
import { type OpenAICompatibleServer, startOpenAICompatibleServer } from '../../src/testing/openai-server.js';
import { driveRateLimited } from '../../src/testing/rate-drive.js';
import { PG_URL, SKIP_LINE, usePgApp } from './helpers.js';

// Two workers on one provider key: each has its own embedder (its own pacer, as two processes would),
// and the limit they learn from the provider's headers is shared through the plan's PostgreSQL bucket,
// so together they stay under it. Window scaled down to 1 s.

const openApp = usePgApp();
let server: OpenAICompatibleServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const texts = (n: number) =>
  Array.from({ length: n }, (_, i) => `document ${i} ${'word '.repeat(10 + (i % 20))}`.trim());

if (!PG_URL) {
  console.warn(SKIP_LINE);
  it.skip(SKIP_LINE, () => undefined);
} else
  describe('two workers sharing a learned provider limit', () => {
    it('reach the limit together with no 429 after the first window', async () => {
      const ctx = await openApp();
      await ensureQueueSchema(ctx.backend.pool, ctx.url, ctx.schema);
      const windowMs = 1000;
      const tokensPerWindow = 8000;
      server = await startOpenAICompatibleServer({
        embed: (t) => [t.length % 5, 1, 0],
        rateLimits: { tokensPerWindow, windowMs },
        latency: { baseMs: 60, perTokenMs: 0.02, jitter: 0.3 },
      });
      const space = defineSpace(
        'limited-v1',
        { provider: 'openai', model: 'toy-embed', dimension: 3 },
        { options: { baseUrl: server.url } },
      );
      const embedders = [0, 1].map(() => {
        const embedder = createOpenAICompatibleEmbedder(space);
        embedder.shareRateLimit?.(
          new LearnedPgLimiter(ctx.backend.pool, ctx.schema, 'plan-1', () => embedder.rateLimits?.() ?? null),
        );
        return embedder;
      });
      const result = await driveRateLimited({
        server,
        embedders,
        texts: texts(1400),
        tokensPerWindow,
        windowMs,
      });
      expect(result.ms).toBeGreaterThan(3000);
      expect(result.steadyRatio).toBeGreaterThan(0.85);
      expect(result.share429AfterFirstWindow).toBeLessThan(0.02);
      const buckets = await ctx.backend.pool.query<{ name: string; per_minute: number }>(
        `SELECT name, per_minute FROM "${ctx.schema}".queue_rate_buckets ORDER BY name`,
      );
      const tokens = buckets.rows.find((b) => b.name === 'plan-1:learned:tokens');
      expect(Number(tokens?.per_minute)).toBeGreaterThan(tokensPerWindow * 60 * 0.9);
      expect(Number(tokens?.per_minute)).toBeLessThan(tokensPerWindow * 60);
    });
  });
