/**
 * Vectors for the bridge benchmark (bench/bridge-quality.ts): one BEIR collection embedded in the local
 * spaces (hashing-256, LSA-256 fitted on the collection, averaged word2vec-300) through reembed's own
 * embedders and text pipeline, and in all-MiniLM-L6-v2 from the stored vectors shipped with the dataset.
 * Local vectors are cached under the OS temp folder, keyed by the space's fingerprint.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentChunks } from '../src/core/pipeline.js';
import type { Space } from '../src/core/space.js';
import { hashingSpace, lsaSpace, wordVectorSpace } from '../src/embedders/factory.js';
import { fitLsa } from '../src/embedders/lsa.js';
import { saveLsaModel } from '../src/embedders/lsa-file.js';
import { loadStoredVectors } from '../src/embedders/stored-vectors/store.js';
import { type BeirCollection, embedAll, loadBeirCollection, type SpaceVectors } from './quality-data.js';

export const SPACE_NAMES = ['hashing-256', 'lsa-256', 'w2v-300', 'minilm'] as const;
export type SpaceName = (typeof SPACE_NAMES)[number];

export interface BridgeDataset {
  readonly collection: BeirCollection;
  readonly spaces: Readonly<Record<SpaceName, SpaceVectors>>;
}

const cacheDir = join(tmpdir(), 'reembed-bridge-cache');

export async function loadBridgeDataset(sharedDir: string, name: string): Promise<BridgeDataset> {
  const dir = join(sharedDir, 'datasets', name);
  const collection = loadBeirCollection(dir, name);
  mkdirSync(cacheDir, { recursive: true });
  const hashing = hashingSpace('hashing-256', { dimension: 256 });
  const lsa = lsaFor(collection, hashing);
  const w2v = wordVectorSpace(
    'w2v-300',
    join(sharedDir, 'models', 'word2vec-googlenews-300d-8k', 'vectors.vec'),
  );
  return {
    collection,
    spaces: {
      'hashing-256': await cached(collection, hashing),
      'lsa-256': await cached(collection, lsa),
      'w2v-300': await cached(collection, w2v),
      minilm: await storedMinilm(collection, join(dir, 'embeddings', 'minilm-l6-v2')),
    },
  };
}

function lsaFor(collection: BeirCollection, hashing: Space): Space {
  const path = join(cacheDir, `${collection.name}-lsa-256.bin`);
  if (!existsSync(path)) {
    const texts = collection.docTexts.map(
      (text, i) => documentChunks(hashing.spec, collection.docIds[i] as string, text)[0]?.text ?? '',
    );
    saveLsaModel(fitLsa(texts, { dimension: 256, seed: 1 }), path);
  }
  return lsaSpace('lsa-256', path);
}

async function cached(collection: BeirCollection, space: Space): Promise<SpaceVectors> {
  const base = join(cacheDir, `${collection.name}-${space.fingerprint}`);
  const dimension = space.spec.dimension;
  if (existsSync(`${base}.docs.f32`) && existsSync(`${base}.queries.f32`)) {
    const read = (f: string): Float32Array => {
      const b = readFileSync(f);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    return { space, dimension, docs: read(`${base}.docs.f32`), queries: read(`${base}.queries.f32`) };
  }
  const vectors = await embedAll(collection, space);
  writeFileSync(`${base}.docs.f32`, Buffer.from(vectors.docs.buffer));
  writeFileSync(`${base}.queries.f32`, Buffer.from(vectors.queries.buffer));
  return vectors;
}

async function storedMinilm(collection: BeirCollection, dir: string): Promise<SpaceVectors> {
  const stored = await loadStoredVectors(dir);
  const dimension = stored.dimension;
  const pick = (set: 'corpus' | 'queries', ids: readonly string[]): Float32Array => {
    const vs = stored.sets[set];
    if (!vs) throw new Error(`${dir} holds no ${set} vectors`);
    const out = new Float32Array(ids.length * dimension);
    ids.forEach((id, i) => {
      const row = vs.rowOf.get(id);
      if (row === undefined) throw new Error(`${dir}: no ${set} vector for id ${id}`);
      out.set(vs.vectors.subarray(row * dimension, (row + 1) * dimension), i * dimension);
    });
    return out;
  };
  const { storedVectorsSpace } = await import('../src/embedders/stored-vectors/space.js');
  return {
    space: await storedVectorsSpace('minilm', dir),
    dimension,
    docs: pick('corpus', collection.docIds),
    queries: pick(
      'queries',
      collection.queries.map((q) => q.id),
    ),
  };
}
