import { isAbsolute, resolve } from 'node:path';
import { defineSpace, type Space } from '../../core/space.js';
import type { Embedder, EmbedderFactory } from '../../ports/embedder.js';
import { specError } from '../common.js';
import { createStoredVectorsEmbedder } from './embedder.js';

/** `runtime.options.fallback`: what a stored-vectors space does with a text it does not hold. */
export const STORED_FALLBACKS = ['none', 'live'] as const;
export type StoredFallback = (typeof STORED_FALLBACKS)[number];

export interface StoredVectorsFactoryOptions {
  /** Directory that relative `runtime.options.vectors` / `vectorsSource` resolve against. Default: cwd. */
  readonly baseDir?: string;
}

/**
 * Serves spaces whose `runtime.options.vectors` names a stored-vectors folder from that folder, and
 * hands every other space to `inner`. With `runtime.options.fallback = 'live'` (the default), texts the
 * folder does not hold are embedded by `inner`'s embedder of the same space (combined mode) when the
 * space has a live provider (`minilm`, or the provider of a manifest's `space`); `'none'` refuses them
 * with `NOT_HELD`. Runtime options are not part of the fingerprint: stored, live and combined are three
 * ways to compute one space.
 */
export function withStoredVectors(
  inner: EmbedderFactory,
  options: StoredVectorsFactoryOptions = {},
): EmbedderFactory {
  const baseDir = resolve(options.baseDir ?? process.cwd());
  return Object.freeze({
    async create(space: Space): Promise<Embedder> {
      const { vectors, vectorsSource, fallback = 'live', ...rest } = space.runtime.options;
      if (vectors === undefined) {
        if (space.spec.provider === 'stored-vectors') {
          throw specError(
            space,
            'runtime.options.vectors',
            'is required for provider "stored-vectors": set it to the folder holding MANIFEST.json.',
          );
        }
        return inner.create(space);
      }
      if (typeof vectors !== 'string' || vectors === '') {
        throw specError(space, 'runtime.options.vectors', 'must be a folder path.', vectors);
      }
      if (vectorsSource !== undefined && (typeof vectorsSource !== 'string' || vectorsSource === '')) {
        throw specError(space, 'runtime.options.vectorsSource', 'must be a folder path.', vectorsSource);
      }
      if (!(STORED_FALLBACKS as readonly unknown[]).includes(fallback)) {
        throw specError(
          space,
          'runtime.options.fallback',
          `must be one of ${STORED_FALLBACKS.join(', ')}.`,
          fallback,
        );
      }
      const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
      const { loadStoredVectors } = await import('./store.js');
      const stored = await loadStoredVectors(at(vectors), {
        ...(vectorsSource ? { sourceDir: at(vectorsSource as string) } : {}),
      });
      if (fallback === 'none' || space.spec.provider === 'stored-vectors') {
        return createStoredVectorsEmbedder(space, stored);
      }
      // Built on the first text the folder does not hold: a run it fully answers never loads the model.
      const liveSpace = defineSpace(space.name, space.spec, { ...space.runtime, options: rest });
      return createStoredVectorsEmbedder(space, stored, () => inner.create(liveSpace));
    },
  });
}
