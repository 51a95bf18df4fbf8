import type { Space } from '../core/space.js';
import type { TokenCounter } from './openai-tokens.js';

/**
 * Exact token counts for OpenAI's embedding models, from the BPE encodings `gpt-tokenizer` ships inside its
 * npm package (nothing is downloaded at run time). OpenAI prices embeddings per token, so a plan's cost
 * for these models is exact; other OpenAI-compatible servers tokenize with their own models, and their
 * counts stay estimates (`estimateTokens`).
 */
export const OPENAI_ENCODINGS = ['cl100k_base', 'o200k_base'] as const;
export type OpenAIEncoding = (typeof OPENAI_ENCODINGS)[number];

/** OpenAI's embedding models and the encoding each tokenizes with. */
const MODEL_ENCODINGS: Readonly<Record<string, OpenAIEncoding>> = {
  'text-embedding-3-small': 'cl100k_base',
  'text-embedding-3-large': 'cl100k_base',
  'text-embedding-ada-002': 'cl100k_base',
};

/**
 * The encoding a space's tokens are counted with: `runtime.options.tokenizer` when set (`estimate` turns
 * exact counting off), else the model's when it is one of OpenAI's and the endpoint is OpenAI's or
 * Azure OpenAI's (another server may serve a different model under the same name). Null: estimate.
 */
export function encodingOf(space: Space): OpenAIEncoding | null {
  const chosen = space.runtime.options.tokenizer;
  if (chosen === 'estimate') return null;
  if (typeof chosen === 'string' && (OPENAI_ENCODINGS as readonly string[]).includes(chosen))
    return chosen as OpenAIEncoding;
  const model =
    typeof space.runtime.options.model === 'string' ? space.runtime.options.model : space.spec.model;
  const encoding = MODEL_ENCODINGS[model];
  if (!encoding) return null;
  const provider = space.spec.provider;
  const base = String(space.runtime.options.baseUrl ?? '');
  const official =
    provider === 'openai' ||
    provider === 'azure-openai' ||
    /^https:\/\/([a-z0-9-]+\.)*(openai\.com|openai\.azure\.com)(\/|$)/i.test(base);
  return official ? encoding : null;
}

const loaded = new Map<OpenAIEncoding, Promise<TokenCounter>>();

/**
 * The exact counter of an encoding, loaded once per process (the encoding tables take ~0.5-1 s to load,
 * so they are imported only when an OpenAI space is used). Special-token text such as `<|endoftext|>`
 * is counted as ordinary text, as the embeddings endpoint treats it.
 */
export function loadTokenCounter(encoding: OpenAIEncoding): Promise<TokenCounter> {
  let counter = loaded.get(encoding);
  if (!counter) {
    counter = importEncoding(encoding).then((api) => {
      const options = { disallowedSpecial: new Set<string>() };
      return (text: string) => (text.length === 0 ? 0 : api.countTokens(text, options));
    });
    loaded.set(encoding, counter);
  }
  return counter;
}

interface EncodingApi {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

async function importEncoding(encoding: OpenAIEncoding): Promise<EncodingApi> {
  return encoding === 'cl100k_base'
    ? ((await import('gpt-tokenizer/encoding/cl100k_base')) as unknown as EncodingApi)
    : ((await import('gpt-tokenizer/encoding/o200k_base')) as unknown as EncodingApi);
}
