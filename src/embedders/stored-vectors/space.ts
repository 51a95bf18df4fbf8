import { resolve } from 'node:path';
import { ReembedError } from '../../core/errors.js';
import { defineSpace, type Space } from '../../core/space.js';
import type { StoredFallback } from './factory.js';
import { loadStoredVectors } from './store.js';

export interface StoredVectorsSpaceOptions {
  /** Folder of the source corpus.jsonl / queries.jsonl (default: the vectors folder and its parents). */
  readonly sourceDir?: string;
  /**
   * `live` (default): texts the folder does not hold are embedded by the live model of the same space,
   * loaded on the first such text; `none`: they are refused with `NOT_HELD`. Vectors with no known live
   * model (provider `stored-vectors`) always refuse them.
   */
  readonly fallback?: StoredFallback;
  /**
   * Recorded as `runtime.options.vectors` instead of the absolute path of `dir` (e.g. a path relative to
   * the database's folder, which is what relative paths resolve against when the embedder is built).
   */
  readonly recordAs?: string;
  /** Extra runtime options (e.g. `threads` of the live model). Never part of the fingerprint. */
  readonly options?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * The space of a stored-vectors folder: loads and verifies it (checksums, rows, ids; `INTEGRITY_FAILED`
 * for a corrupted file), and defines a space whose spec — hence fingerprint — comes from its manifest.
 * Vectors of a model reembed runs live (all-MiniLM-L6-v2 via `minilm`) get that model's space, equal to
 * `minilmSpace()`'s; others get provider `stored-vectors`.
 *
 * @example
 * const space = await storedVectorsSpace('minilm', '../shared/datasets/scifact/embeddings/minilm-l6-v2', { fallback: 'live' });
 * await app.addSpace(space);
 */
export async function storedVectorsSpace(
  name: string,
  dir: string,
  options: StoredVectorsSpaceOptions = {},
): Promise<Space> {
  const stored = await loadStoredVectors(dir, options.sourceDir ? { sourceDir: options.sourceDir } : {});
  const fallback = options.fallback ?? (stored.manifest.liveProvider === undefined ? 'none' : 'live');
  if (fallback === 'live' && stored.manifest.liveProvider === undefined) {
    throw new ReembedError(
      'INVALID_INPUT',
      `No live model is known for the vectors in ${stored.dir} (model "${stored.manifest.manifest.model}"), so fallback "live" is not possible: ` +
        'texts the folder does not hold can only be refused. Use fallback "none".',
      { details: { dir: stored.dir } },
    );
  }
  return defineSpace(name, stored.manifest.spec, {
    options: {
      ...options.options,
      vectors: options.recordAs ?? resolve(dir),
      ...(options.sourceDir ? { vectorsSource: resolve(options.sourceDir) } : {}),
      fallback,
    },
  });
}
