import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReembedError } from '../core/errors.js';
import { defineSpace } from '../core/space.js';
import { createLocalEmbedderFactory, hashingSpace, lsaSpace, wordVectorSpace } from './factory.js';
import { fitLsa } from './lsa.js';
import { saveLsaModel } from './lsa-file.js';

const dir = mkdtempSync(join(tmpdir(), 'reembed-factory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXTS = Array.from(
  { length: 30 },
  (_, i) => `doc ${i % 7} alpha${i % 5} beta${i % 3} gamma${(i * 7) % 11} delta${i % 4} common words here`,
);

async function failure(promise: Promise<unknown>): Promise<ReembedError> {
  try {
    await promise;
  } catch (error) {
    return error as ReembedError;
  }
  throw new Error('expected a failure');
}

describe('createLocalEmbedderFactory', () => {
  const factory = createLocalEmbedderFactory({ baseDir: dir });

  it('builds each local provider, resolving relative model paths against baseDir', async () => {
    const model = fitLsa(TEXTS, { dimension: 6, seed: 1 });
    saveLsaModel(model, join(dir, 'lsa.bin'));
    writeFileSync(join(dir, 'vectors.vec'), '2 3\nalpha0 1 0 0\ndoc 0 1 0\n');
    const spaces = [
      hashingSpace('hashing-v1', { dimension: 32 }),
      // lsaSpace/wordVectorSpace read the file at build time; the factory resolves the stored relative path.
      defineSpace('lsa-v1', lsaSpace('lsa-v1', join(dir, 'lsa.bin'), model).spec, {
        options: { modelPath: 'lsa.bin' },
      }),
      wordVectorSpace('wv-v1', join(dir, 'vectors.vec')),
    ];
    for (const space of spaces) {
      const embedder = await factory.create(space);
      expect(embedder.space).toBe(space);
      const vectors = await embedder.embed(['doc alpha0 beta1', 'another doc'], { inputType: 'query' });
      expect(vectors).toHaveLength(2);
      for (const v of vectors) expect(v).toHaveLength(space.spec.dimension);
      expect(embedder.countTokens('doc alpha0 beta1')).toBe(3);
    }
  });

  it('refuses an LSA model file that changed since the space was defined', async () => {
    const path = join(dir, 'lsa-changing.bin');
    const model = fitLsa(TEXTS, { dimension: 6, seed: 1 });
    saveLsaModel(model, path);
    const space = lsaSpace('lsa-v1', path, model);
    await factory.create(space);
    saveLsaModel(fitLsa(TEXTS, { dimension: 6, seed: 2 }), path); // refit in place
    const error = await failure(factory.create(space));
    expect(error.code).toBe('INVALID_SPEC');
    expect(error.message).toMatch(/model file changed.*different space/);
    copyFileSync(join(dir, 'lsa.bin'), path);
  });

  it('refuses a changed word-vector file, a missing modelPath and mismatched LSA params', async () => {
    const path = join(dir, 'wv.vec');
    writeFileSync(path, 'a 1 2\n');
    const space = wordVectorSpace('wv', path);
    writeFileSync(path, 'a 1 3\n');
    expect((await failure(factory.create(space))).code).toBe('INVALID_SPEC');
    const noPath = defineSpace('lsa-x', { provider: 'lsa', model: 'm', dimension: 6 });
    const error = await failure(factory.create(noPath));
    expect(error.code).toBe('INVALID_SPEC');
    expect(error.message).toContain('runtime.options.modelPath');
    const lsa = lsaSpace('lsa-p', join(dir, 'lsa.bin'));
    const tampered = defineSpace(
      'lsa-p',
      { ...lsa.spec, params: { ...lsa.spec.params, seed: 5 } },
      lsa.runtime,
    );
    expect((await failure(factory.create(tampered))).code).toBe('INVALID_SPEC');
  });

  it('refuses unknown providers with UNSUPPORTED naming the known ones, and unknown preprocessing', async () => {
    const remote = defineSpace('remote', {
      provider: 'openai',
      model: 'text-embedding-3-small',
      dimension: 1536,
    });
    const error = await failure(factory.create(remote));
    expect(error.code).toBe('UNSUPPORTED');
    for (const name of ['hashing', 'lsa', 'word-vectors']) expect(error.message).toContain(name);
    const badPre = defineSpace('pre', { provider: 'hashing', model: 'm', dimension: 8, preprocessing: 'v7' });
    expect((await failure(factory.create(badPre))).code).toBe('INVALID_SPEC');
  });
});
