/**
 * Provider-bound speed (issue 16 item 6): a backfill against the local OpenAI-compatible server enforcing
 * a tokens-per-window limit (429 + Retry-After past it, OpenAI's x-ratelimit-* headers on every response)
 * with a realistic latency (200 ms + 0.01 ms per token, ±30%). The window is scaled down from a minute
 * (`--window`, default 6 s = 1/10) so a run takes seconds; the limit is scaled with it (`--tpw` tokens per
 * window; 60 000 per 6 s = 600 000 tokens/min).
 *
 * - one: a `BackfillRunner` on the embedded store (SQLite) with DEFAULT settings, embedding through the
 *   app's OpenAI-compatible embedder (nothing tuned: its concurrency and pacing adapt by themselves);
 * - two: two workers sharing the key: two embedders (each with its own pacer and adaptive concurrency,
 *   as two worker processes have) whose requests also take from the PostgreSQL bucket the distributed
 *   workers share (`LearnedPgLimiter`), fed the way the backfill feeds them (4 calls of 128 texts each).
 *   Both run in one process here, so the PostgreSQL path is real but graphile-worker is not involved.
 *
 * Figures: tokens admitted after the first window ÷ what the limit refills over that time ("steady
 * throughput ÷ limit"), and the share of requests answered 429 after the first window.
 * Run: npx tsx bench/provider-rate.ts [--part=one,two --n=12000 --window=6000 --tpw=60000 --runs=3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedSources } from '../src/app/embed-sources.js';
import { openReembed } from '../src/app/open.js';
import { defineSpace } from '../src/core/space.js';
import { createOpenAICompatibleEmbedder } from '../src/embedders/openai.js';
import { estimateTokens } from '../src/embedders/openai-tokens.js';
import { BackfillRunner } from '../src/jobs/backfill.js';
import { LearnedPgLimiter } from '../src/queue/global-rate.js';
import { type OpenAICompatibleServer, startOpenAICompatibleServer } from '../src/testing/openai-server.js';
import { driveRateLimited, type RateRunResult } from '../src/testing/rate-drive.js';
import { benchArgs, fmt, median, report } from './lib.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({ part: 'one,two', n: 12_000, window: 6000, tpw: 60_000, runs: 3, words: 60 });
const parts = String(args.part).split(',');
const n = Number(args.n);
const windowMs = Number(args.window);
const tokensPerWindow = Number(args.tpw);
const DIM = 64;

function vectorOf(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    v[(h >>> 0) % DIM] = (v[(h >>> 0) % DIM] as number) + 1;
  }
  v[0] = (v[0] as number) + 1;
  return v;
}

function startServer(): Promise<OpenAICompatibleServer> {
  return startOpenAICompatibleServer({
    embed: vectorOf,
    rateLimits: { tokensPerWindow, requestsPerWindow: 100_000, windowMs },
    latency: { baseMs: 200, perTokenMs: 0.01, jitter: 0.3 },
  });
}

function targetSpace(url: string) {
  return defineSpace(
    'remote-v2',
    { provider: 'openai', model: 'toy-embed-2', dimension: DIM },
    { options: { baseUrl: url } },
  );
}

function summary(result: RateRunResult) {
  return {
    seconds: Number((result.ms / 1000).toFixed(2)),
    steady_ratio: Number(result.steadyRatio.toFixed(4)),
    overall_ratio: Number(result.overallRatio.toFixed(4)),
    share_429_after_first_window: Number(result.share429AfterFirstWindow.toFixed(4)),
    requests: result.requests,
    refused: result.refused,
  };
}

/** One backfill runner with default settings on SQLite. */
async function one(): Promise<ReturnType<typeof summary> & { concurrency: number }> {
  const server = await startServer();
  const dir = mkdtempSync(join(tmpdir(), 'reembed-rate-'));
  try {
    const app = await openReembed({ db: join(dir, 'bench.db'), actor: 'bench' });
    const v1 = defineSpace('local-v1', { provider: 'hashing', model: 'hashing', dimension: 32 });
    const v2 = targetSpace(server.url);
    await app.addSpace(v1);
    await app.addSpace(v2);
    await app.createCollection('bench', 'local-v1');
    const docs = buildWorkload(n, 42, Number(args.words)).docs;
    for (let i = 0; i < n; i += 5000) await app.ingest('bench', docs.slice(i, i + 5000));
    await app.createNamespace('bench', v2, 'building');
    const embedder = await app.embedders.get(v2);
    const before = server.requests.length;
    const t0 = Date.now();
    const runner = new BackfillRunner(
      {
        store: app.backend.store,
        sources: app.backend.sources,
        jobs: app.backend.jobs as never,
        embedder,
        encode: embedSources,
      },
      { collection: 'bench', namespace: 'bench@remote-v2' },
    );
    const result = await runner.run();
    if (result.status !== 'done')
      throw new Error(`backfill ${result.status}: ${JSON.stringify(result.error)}`);
    if (result.written !== n) throw new Error(`backfill wrote ${result.written} of ${n}`);
    const stats = (embedder as unknown as { stats(): { concurrency: number } }).stats();
    const out = measure(server, before, t0, Date.now());
    await app.close();
    return { ...summary(out), concurrency: stats.concurrency };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function measure(server: OpenAICompatibleServer, before: number, t0: number, end: number): RateRunResult {
  const seen = server.requests.slice(before);
  const ok = (r: (typeof seen)[number]) => r.status >= 200 && r.status < 300;
  const tokens = (r: (typeof seen)[number]) => r.inputs.reduce((s, t) => s + estimateTokens(t), 0);
  const late = seen.filter((r) => r.receivedAt - t0 >= windowMs);
  const ms = end - t0;
  return {
    ms,
    requests: seen.length,
    refused: seen.filter((r) => r.status === 429).length,
    steadyRatio:
      late.filter(ok).reduce((s, r) => s + tokens(r), 0) /
      ((Math.max(1, ms - windowMs) / windowMs) * tokensPerWindow),
    overallRatio:
      seen.filter(ok).reduce((s, r) => s + tokens(r), 0) / (tokensPerWindow * (1 + ms / windowMs)),
    share429AfterFirstWindow: late.length ? late.filter((r) => r.status === 429).length / late.length : 0,
  };
}

/** Two workers sharing the key through the PostgreSQL bucket. */
async function two(): Promise<ReturnType<typeof summary> | null> {
  const url = process.env.REEMBED_PG_URL;
  if (!url) {
    console.error('provider-rate part two skipped: set REEMBED_PG_URL');
    return null;
  }
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const schema = `bench_rate_${process.pid}_${Date.now()}`;
  const server = await startServer();
  try {
    await pool.query(`CREATE SCHEMA ${schema}`);
    // The queue's bucket table (src/queue/sql.ts queueDdl), alone: graphile-worker is not needed here.
    await pool.query(`CREATE TABLE ${schema}.queue_rate_buckets (
      name text PRIMARY KEY, per_minute double precision NOT NULL CHECK (per_minute > 0),
      capacity double precision NOT NULL CHECK (capacity > 0), level double precision NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    const space = targetSpace(server.url);
    const embedders = [0, 1].map(() => {
      const embedder = createOpenAICompatibleEmbedder(space);
      embedder.shareRateLimit?.(
        new LearnedPgLimiter(pool as never, schema, 'plan', () => embedder.rateLimits?.() ?? null),
      );
      return embedder;
    });
    const texts = buildWorkload(n, 42, Number(args.words)).docs.map((d) => d.text);
    const result = await driveRateLimited({ server, embedders, texts, tokensPerWindow, windowMs });
    return summary(result);
  } finally {
    await server.close();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

const out: Record<string, unknown> = {
  window_ms: windowMs,
  tokens_per_window: tokensPerWindow,
  tokens_per_minute_equivalent: (tokensPerWindow * 60_000) / windowMs,
  latency: '200 ms + 0.01 ms/token, ±30%',
  n,
};
for (const part of parts) {
  const runs: Record<string, unknown>[] = [];
  for (let run = 0; run < Number(args.runs); run++) {
    const r = part === 'one' ? await one() : await two();
    if (!r) break;
    runs.push(r);
    console.error(
      `${part} run ${run + 1}: ${fmt(r.seconds, 1)} s, ${fmt(r.overall_ratio * 100, 1)}% of what the limit allows (after the first window ${fmt(r.steady_ratio * 100, 1)}% of its refill), ${fmt(r.share_429_after_first_window * 100, 2)}% 429 after the first window`,
    );
  }
  if (runs.length === 0) continue;
  const col = (k: string) => runs.map((r) => r[k] as number);
  out[part] = {
    runs,
    steady_ratio: col('steady_ratio'),
    overall_ratio: col('overall_ratio'),
    overall_ratio_median: median(col('overall_ratio')),
    share_429: col('share_429_after_first_window'),
    steady_ratio_median: median(col('steady_ratio')),
    share_429_median: median(col('share_429_after_first_window')),
  };
}
report('provider-rate', out);
