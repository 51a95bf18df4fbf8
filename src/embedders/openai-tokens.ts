/**
 * Token estimates and request planning for remote embedders. Remote models tokenize on the
 * server, so the client only needs a count that is close and errs high: it sizes requests under the
 * provider's per-request token limit and feeds cost estimates. A real tokenizer can be plugged in as a
 * `TokenCounter`.
 */
export type TokenCounter = (text: string) => number;

// CJK characters are usually one token or more each; other letters/digits group into words, and every
// other non-space character (punctuation, symbols, emoji) counts alone.
const PIECE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{M}\p{N}_]+|\S/gu;

/**
 * Estimate: the larger of `ceil(chars / 4)` (OpenAI's rule of thumb for English) and the number of
 * word/punctuation pieces, so short-word, punctuation-heavy and CJK text are not under-counted.
 *
 * @example estimateTokens('Hello, world!') // 4
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  let pieces = 0;
  PIECE.lastIndex = 0;
  while (PIECE.exec(text) !== null) pieces++;
  return Math.max(Math.ceil(text.length / 4), pieces);
}

export interface BatchLimits {
  readonly maxBatchSize: number;
  readonly maxBatchTokens: number;
}

/** A contiguous slice `[start, end)` of the input, sent as one request. */
export interface BatchPlan {
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
}

/**
 * Splits inputs into contiguous requests bounded by count and by estimated tokens. A single text above
 * `maxBatchTokens` goes alone (it cannot be split without changing its embedding; the provider decides).
 */
export function planBatches(tokenCounts: readonly number[], limits: BatchLimits): BatchPlan[] {
  const plans: BatchPlan[] = [];
  let start = 0;
  let tokens = 0;
  for (let i = 0; i < tokenCounts.length; i++) {
    const t = tokenCounts[i] as number;
    const size = i - start;
    if (size > 0 && (size >= limits.maxBatchSize || tokens + t > limits.maxBatchTokens)) {
      plans.push({ start, end: i, tokens });
      start = i;
      tokens = 0;
    }
    tokens += t;
  }
  if (tokenCounts.length > start) plans.push({ start, end: tokenCounts.length, tokens });
  return plans;
}
