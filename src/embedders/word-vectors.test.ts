import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../core/canonical.js';
import { sharedData } from '../testing/shared.js';
import { loadWordVectors, parseWordVectors } from './word-vector-table.js';
import { createWordVectorEmbedder, WordVectorEncoder, wordVectorSpace } from './word-vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'reembed-wv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REAL_DATA = ['word2vec-googlenews-300d-8k', 'glove-twitter-25d-12k'].map((name) =>
  sharedData(`models/${name}`, 'vectors.vec'),
);
const REAL = REAL_DATA.map((d) => join(d.path, 'vectors.vec'));

describe('word vector tables', () => {
  it('reads word2vec text with a header and GloVe text without one (CRLF, tabs, exponents)', () => {
    const w2v = parseWordVectors(Buffer.from('3 2\nthe 0.5 -1\nCat 1e-1 2.5E+1\ncat -0 3\n'));
    expect(w2v.dimension).toBe(2);
    expect(w2v.words).toEqual(['the', 'Cat', 'cat']);
    expect(Array.from(w2v.vectors)).toEqual([0.5, -1, Math.fround(0.1), 25, -0, 3]);
    expect(w2v.index.get('cat')).toBe(1); // the earlier row wins when lowercasing merges words
    const glove = parseWordVectors(Buffer.from('the 0.5 -1 2\r\ndog\t1 2 3\r\n'));
    expect(glove.dimension).toBe(3);
    expect(glove.words).toEqual(['the', 'dog']);
    expect(Array.from(glove.vectors)).toEqual([0.5, -1, 2, 1, 2, 3]);
  });

  it('parses numbers exactly as Number() does', () => {
    const values = [
      '0.070312',
      '-0.108887',
      '1.8429',
      '-6.3371',
      '0.0019506',
      '123456789012345678',
      '1e-30',
      '7',
    ];
    const table = parseWordVectors(Buffer.from(`w ${values.join(' ')}\n`));
    expect(Array.from(table.vectors)).toEqual(values.map((v) => Math.fround(Number(v))));
  });

  it('refuses malformed files naming the line', () => {
    expect(() => parseWordVectors(Buffer.from('2 2\na 1 2\nb 1\n'), 'f.vec')).toThrow(/f\.vec:3/);
    expect(() => parseWordVectors(Buffer.from('a 1 2\nb 1 x\n'))).toThrow(/not a finite number/);
    expect(() => parseWordVectors(Buffer.from('3 2\na 1 2\n'))).toThrow(/announces 3/);
    expect(() => parseWordVectors(Buffer.from('a 1 2 3\nb 1 2 3 4\n'))).toThrow(/more than 3/);
  });

  it('averages known words with SIF or mean weights; all-OOV text is the zero vector', () => {
    const table = parseWordVectors(Buffer.from('the 1 0\ncat 0 1\ndog 0 -1\n'));
    const mean = new WordVectorEncoder(table, { weighting: 'mean', sifA: 1e-3 }, false);
    expect(Array.from(mean.encode('The cat, the DOG!'))).toEqual([0.5, 0]);
    expect(Array.from(mean.encode('zebra'))).toEqual([0, 0]);
    const sif = new WordVectorEncoder(table, { weighting: 'sif', sifA: 1e-3 }, true);
    const v = sif.encode('the cat');
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    expect(v[1] as number).toBeGreaterThan(v[0] as number); // the frequent word "the" weighs less
  });

  it('builds a space whose revision is the file hash, and embeds to its dimension', async () => {
    const path = join(dir, 'vectors.vec');
    writeFileSync(path, '2 3\nalpha 1 0 0\nbeta 0 1 0\n');
    const space = wordVectorSpace('wv-v1', path);
    expect(space.spec.revision).toBe(sha256Hex(Buffer.from('2 3\nalpha 1 0 0\nbeta 0 1 0\n')).slice(0, 16));
    expect(space.spec.dimension).toBe(3);
    expect(space.spec.params).toEqual({ weighting: 'sif', sifA: 1e-3 });
    const embedder = createWordVectorEmbedder(space, loadWordVectors(path));
    const [a, b] = await embedder.embed(['alpha', 'gamma'], { inputType: 'document' });
    expect(Array.from(a as Float32Array)).toEqual([1, 0, 0]);
    expect(Array.from(b as Float32Array)).toEqual([0, 0, 0]);
    expect(wordVectorSpace('wv-mean', path, { weighting: 'mean' }).fingerprint).not.toBe(space.fingerprint);
  });

  const missing = REAL_DATA.find((d) => !d.present);
  const title = 'loads both real vector files quickly (and from cache the second time)';
  it.skipIf(missing !== undefined)(missing?.label(title) ?? title, async () => {
    for (const path of REAL) {
      const start = performance.now();
      const table = loadWordVectors(path);
      const ms = performance.now() - start;
      console.log(`${path}: ${table.words.length} words × ${table.dimension} in ${Math.round(ms)} ms`);
      expect(ms).toBeLessThan(1500 * 3); // 1.5 s target; slack for a shared CPU
      expect(loadWordVectors(path)).toBe(table);
      const space = wordVectorSpace(path.includes('glove') ? 'glove' : 'w2v', path);
      const embedder = createWordVectorEmbedder(space, table);
      const [v] = await embedder.embed(['the cat sat on the mat'], { inputType: 'document' });
      expect(v).toHaveLength(table.dimension);
      expect(Math.hypot(...(v as Float32Array))).toBeCloseTo(1, 5);
    }
    const w2v = loadWordVectors(REAL[0] as string);
    expect(w2v.dimension).toBe(300);
    expect(w2v.words).toHaveLength(8000);
    expect(w2v.vectors[0]).toBe(Math.fround(0.070312)); // first row "in 0.070312 ..."
    const glove = loadWordVectors(REAL[1] as string);
    expect([glove.words.length, glove.dimension]).toEqual([11925, 25]);
    expect(glove.words[0]).toBe('the');
  });
});
