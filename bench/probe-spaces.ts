import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Space } from '../src/core/space.js';
import { storedVectorsSpace } from '../src/embedders/stored-vectors/space.js';

/**
 * The real transformer all-MiniLM-L6-v2 in the probe validation: the collection's documents (and judged
 * queries) come from the vectors stored in ../shared/datasets/<set>/embeddings/minilm-l6-v2, and the texts
 * a probe makes — its queries and its held-out documents — from the live model of the same space
 * (`fallback: 'live'`, the TF.js graph on wasm). Left out, with a note, when the folder is absent.
 */
export async function extraSpaces(dataset: string, dir: string): Promise<Space[]> {
  const vectors = join(dir, 'embeddings', 'minilm-l6-v2');
  if (!existsSync(join(vectors, 'MANIFEST.json'))) {
    console.error(`${dataset}: no stored all-MiniLM-L6-v2 vectors at ${vectors}; validating without it`);
    return [];
  }
  return [await storedVectorsSpace('minilm-l6-v2', vectors, { fallback: 'live' })];
}
