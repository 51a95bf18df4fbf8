import { ReembedError } from '../core/errors.js';
import type { EmbedderFactory } from '../ports/embedder.js';
import { createOpenAICompatibleEmbedder, type OpenAICompatibleEmbedderOptions } from './openai.js';

/** Providers served by the OpenAI-compatible client (the provider name is part of the space, for clarity). */
export const OPENAI_COMPATIBLE_PROVIDERS = [
  'openai-compatible',
  'openai',
  'azure-openai',
  'vllm',
  'tei',
  'ollama',
  'lmstudio',
] as const;

export function createOpenAICompatibleFactory(
  options: OpenAICompatibleEmbedderOptions = {},
): EmbedderFactory {
  return {
    async create(space) {
      if (!(OPENAI_COMPATIBLE_PROVIDERS as readonly string[]).includes(space.spec.provider)) {
        throw new ReembedError(
          'UNSUPPORTED',
          `Provider "${space.spec.provider}" is not OpenAI-compatible; known: ${OPENAI_COMPATIBLE_PROVIDERS.join(', ')}.`,
          { details: { provider: space.spec.provider } },
        );
      }
      if (options.countTokens) return createOpenAICompatibleEmbedder(space, options);
      const { encodingOf, loadTokenCounter } = await import('./openai-tokenizer.js');
      const encoding = encodingOf(space);
      if (!encoding) return createOpenAICompatibleEmbedder(space, options);
      const countTokens = await loadTokenCounter(encoding);
      return createOpenAICompatibleEmbedder(space, { ...options, countTokens, tokenizer: encoding });
    },
  };
}
