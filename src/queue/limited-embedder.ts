import type { Embedder } from '../ports/embedder.js';
import type { Limiter } from './global-rate.js';

/**
 * Wraps an embedder so every provider call first takes one request (and its tokens) from each limiter —
 * this worker's own limits and the plan's global limits shared through PostgreSQL. Counting at the call
 * is exact: one `embed` is one HTTP request, whatever the batching above it.
 */
export function rateLimitedEmbedder(base: Embedder, limiters: readonly Limiter[]): Embedder {
  if (limiters.length === 0) return base;
  const countsTokens = limiters.some((l) => l.countsTokens);
  return {
    space: base.space,
    maxBatchSize: base.maxBatchSize,
    countTokens: (text) => base.countTokens(text),
    async embed(texts, options) {
      let tokens = 0;
      if (countsTokens) for (const t of texts) tokens += base.countTokens(t);
      for (const limiter of limiters) await limiter.acquire(1, tokens, options.signal);
      return base.embed(texts, options);
    },
    ...(base.rateLimits ? { rateLimits: base.rateLimits.bind(base) } : {}),
    ...(base.shareRateLimit ? { shareRateLimit: base.shareRateLimit.bind(base) } : {}),
    ...(base.close ? { close: () => (base.close as () => Promise<void>)() } : {}),
  };
}
