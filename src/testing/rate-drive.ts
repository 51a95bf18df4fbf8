import { estimateTokens } from '../embedders/openai-tokens.js';
import type { Embedder } from '../ports/embedder.js';
import type { OpenAICompatibleServer } from './openai-server.js';

/** How close a run came to a rate-limited server's limit, and how often it was refused. */
export interface RateRunResult {
  readonly ms: number;
  readonly requests: number;
  readonly refused: number;
  /** Tokens admitted after the first window ÷ what the limit refills over that time (the steady state). */
  readonly steadyRatio: number;
  /** Tokens admitted overall ÷ the limit's allowance (the full bucket at start plus its refill). */
  readonly overallRatio: number;
  /** Share of requests answered 429 among those received after the first window. */
  readonly share429AfterFirstWindow: number;
}

/**
 * Feeds `texts` through the embedders the way a backfill does (calls of `batch` texts, `callsPerEmbedder`
 * at once per embedder, each embedder standing for one worker) against a server limited to
 * `tokensPerWindow`, and measures the outcome from the server's own records.
 */
export async function driveRateLimited(options: {
  readonly server: OpenAICompatibleServer;
  readonly embedders: readonly Embedder[];
  readonly texts: readonly string[];
  readonly tokensPerWindow: number;
  readonly windowMs: number;
  readonly batch?: number;
  readonly callsPerEmbedder?: number;
  /** How the server counts tokens (default: its default, `estimateTokens`). */
  readonly countTokens?: (text: string) => number;
}): Promise<RateRunResult> {
  const { server, embedders, texts, tokensPerWindow, windowMs } = options;
  const estimate = options.countTokens ?? estimateTokens;
  const batch = options.batch ?? 128;
  const calls = options.callsPerEmbedder ?? 4;
  const chunks: string[][] = [];
  for (let i = 0; i < texts.length; i += batch) chunks.push(texts.slice(i, i + batch));
  const before = server.requests.length;
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    embedders.flatMap((embedder) =>
      Array.from({ length: calls }, async () => {
        for (let chunk = chunks[next++]; chunk; chunk = chunks[next++])
          await embedder.embed(chunk, { inputType: 'document' });
      }),
    ),
  );
  const end = Date.now();
  const ms = end - t0;
  const seen = server.requests.slice(before);
  const late = seen.filter((r) => r.receivedAt - t0 >= windowMs);
  const admittedLate = late.filter((r) => r.status >= 200 && r.status < 300);
  const tokensOf = (inputs: readonly string[]): number => inputs.reduce((n, t) => n + estimate(t), 0);
  const lateTokens = admittedLate.reduce((n, r) => n + tokensOf(r.inputs), 0);
  const allTokens = seen
    .filter((r) => r.status >= 200 && r.status < 300)
    .reduce((n, r) => n + tokensOf(r.inputs), 0);
  const lateMs = Math.max(1, ms - windowMs);
  return {
    ms,
    requests: seen.length,
    refused: seen.filter((r) => r.status === 429).length,
    steadyRatio: lateTokens / ((lateMs / windowMs) * tokensPerWindow),
    overallRatio: allTokens / (tokensPerWindow + (ms / windowMs) * tokensPerWindow),
    share429AfterFirstWindow:
      late.length === 0 ? 0 : late.filter((r) => r.status === 429).length / late.length,
  };
}
