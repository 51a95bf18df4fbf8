import { MINILM_MAX_TOKENS } from './pinned.js';

/**
 * The model's tokenizer as the stored vectors used it (MANIFEST `text_rules.tokenisation`): the shipped
 * tokenizer.json through `@huggingface/tokenizers` without special tokens, then `[CLS]` + the first
 * `maxTokens - 2` tokens + `[SEP]`. The tokenizer's own 128-token truncation is not applied.
 */
export interface WordPiece {
  /** Input ids of `text`, specials included, at most `maxTokens` long. */
  ids(text: string): Int32Array;
  /** How many tokens the model sees for `text` (specials included, after truncation). */
  count(text: string): number;
}

interface TokenizerLike {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  token_to_id(token: string): number | undefined;
}

const decoder = new TextDecoder();

/** Loads the tokenizer from the (already verified) tokenizer.json and tokenizer_config.json bytes. */
export async function loadWordPiece(
  tokenizerJson: Uint8Array,
  tokenizerConfig: Uint8Array,
  maxTokens = MINILM_MAX_TOKENS,
): Promise<WordPiece> {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  const tokenizer = new Tokenizer(
    JSON.parse(decoder.decode(tokenizerJson)),
    JSON.parse(decoder.decode(tokenizerConfig)),
  ) as unknown as TokenizerLike;
  const cls = tokenizer.token_to_id('[CLS]');
  const sep = tokenizer.token_to_id('[SEP]');
  if (cls === undefined || sep === undefined) throw new Error('tokenizer.json has no [CLS] / [SEP] token');
  const body = maxTokens - 2;
  return Object.freeze({
    ids(text: string): Int32Array {
      const pieces = tokenizer.encode(text, { add_special_tokens: false }).ids;
      const n = Math.min(pieces.length, body);
      const out = new Int32Array(n + 2);
      out[0] = cls;
      for (let i = 0; i < n; i++) out[i + 1] = pieces[i] as number;
      out[n + 1] = sep;
      return out;
    },
    count(text: string): number {
      return Math.min(tokenizer.encode(text, { add_special_tokens: false }).ids.length, body) + 2;
    },
  });
}
