import { afterEach, describe, expect, it } from 'vitest';
import { defineSpace } from '../../src/core/space.js';
import { estimateTokens } from '../../src/embedders/openai-tokens.js';
import { type OpenAICompatibleServer, startOpenAICompatibleServer } from '../../src/testing/openai-server.js';
import {
  assertNamespaceMatchesSource,
  corpus,
  exitWithin,
  hashing,
  openPgApp,
  PG_URL,
  type PgApp,
  SKIP_LINE,
  type SpawnedWorker,
  spawnCli,
} from './helpers.js';

/**
 * Two `reembed worker` processes (the real CLI entry) backfill one namespace whose space is a rate-limited
 * OpenAI-compatible server on 127.0.0.1 (tokens per window scaled down to 1 s). Each process has its own
 * embedder and pacer; what they learn of the provider's limit from its headers is shared through the
 * plan's PostgreSQL bucket (`queue/global-rate.ts`), so together they keep under it instead of each
 * spending the whole limit: after the first window almost nothing is refused, and the limit is still used.
 */
let ctx: PgApp | undefined;
let server: OpenAICompatibleServer | undefined;
let workers: SpawnedWorker[] = [];
afterEach(async (test) => {
  if (test.task.result?.state === 'fail')
    for (const w of workers)
      console.log(`--- worker ${w.child.pid}:\n${w.stdout()}${w.stderr().slice(-4000)}`);
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  workers = [];
  await server?.close();
  server = undefined;
  await ctx?.cleanup();
  ctx = undefined;
});

if (!PG_URL) {
  console.warn(SKIP_LINE);
  it.skip(SKIP_LINE, () => undefined);
} else
  describe('two worker processes on one rate-limited provider key', () => {
    it('share the limit they learn: few 429s after the first window, the limit still used', async () => {
      ctx = await openPgApp();
      const c = ctx;
      const windowMs = 1000;
      const tokensPerWindow = 6000;
      server = await startOpenAICompatibleServer({
        embed: (t) => [(t.length % 7) + 1, 1, 0.5],
        rateLimits: { tokensPerWindow, windowMs },
        latency: { baseMs: 40, perTokenMs: 0.02, jitter: 0.3 },
      });
      const v1 = hashing('v1', 1);
      const limited = defineSpace(
        'limited-v2',
        { provider: 'openai', model: 'toy-embed', dimension: 3 },
        { options: { baseUrl: server.url } },
      );
      await c.app.addSpace(v1);
      await c.app.addSpace(limited);
      await c.app.createCollection('docs', 'v1');
      const docs = corpus(1200);
      for (let i = 0; i < docs.length; i += 400) await c.app.ingest('docs', docs.slice(i, i + 400));
      await c.app.createNamespace('docs', limited, 'building', 'docs@v1');
      const target = 'docs@limited-v2';
      const tokens = docs.reduce((n, d) => n + estimateTokens(d.text), 0);

      const cli = (args: string[]) => spawnCli(c.url, c.schema, args, { entry: 'cli' });
      const planner = cli(['worker', 'plan', target, '--range-size', '100', '--batch-size', '32']);
      expect(await exitWithin(planner, 30_000), planner.stderr()).toBe(0);
      const before = server.requests.length;
      workers = [0, 1].map(() => cli(['worker', '--until-done', '--concurrency', '2', '--poll-ms', '200']));
      const codes = await Promise.all(workers.map((w) => exitWithin(w, 120_000)));
      expect(codes, workers.map((w) => w.stderr().slice(-2000)).join('\n')).toEqual([0, 0]);

      // Both processes did part of the work, and the namespace holds every document exactly once.
      const reports = workers.map(
        (w) => JSON.parse(w.stdout()) as { ranges: number; counters: { written: number } },
      );
      expect(reports.every((r) => r.ranges > 0)).toBe(true);
      expect(reports.reduce((n, r) => n + r.counters.written, 0)).toBe(docs.length);
      expect(await assertNamespaceMatchesSource(c.app, target)).toEqual([]);

      // From the server's own records: after the first window (each process's first requests learn the limit).
      const seen = server.requests.slice(before).filter((r) => r.path.endsWith('/embeddings'));
      const t0 = Math.min(...seen.map((r) => r.receivedAt));
      const t1 = Math.max(...seen.map((r) => r.receivedAt));
      const late = seen.filter((r) => r.receivedAt - t0 >= windowMs);
      const refusedLate = late.filter((r) => r.status === 429).length;
      expect(refusedLate / Math.max(1, late.length)).toBeLessThan(0.05);
      // The run took about as long as the limit allows, and not several times longer.
      const allowedMs = ((tokens - tokensPerWindow) / tokensPerWindow) * windowMs;
      console.log(
        `rate figures: ${seen.length} requests, ${refusedLate} of ${late.length} refused after the first window, ${t1 - t0} ms for ${tokens} tokens (allowance ${Math.round(allowedMs)} ms)`,
      );
      expect(t1 - t0).toBeGreaterThan(allowedMs * 0.8);
      expect(t1 - t0).toBeLessThan(allowedMs * 2.5 + 3000);
    }, 150_000);
  });
