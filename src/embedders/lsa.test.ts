import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../core/canonical.js';
import { isReembedError } from '../core/errors.js';
import { defineSpace } from '../core/space.js';
import { createLsaEmbedder, fitLsa, LsaEncoder } from './lsa.js';
import { loadLsaModel, saveLsaModel } from './lsa-file.js';
import { lsaSpace } from './lsa-space.js';

const dir = mkdtempSync(join(tmpdir(), 'reembed-lsa-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOPICS = [
  'rocket orbit launch satellite planet astronaut gravity moon mars telescope',
  'flour oven bread butter sugar recipe bake dough yeast pastry',
  'stock market bond interest inflation bank investor dividend price trade',
  'goal match team league player coach score season referee stadium',
  'guitar melody chord concert song album drummer rhythm singer band',
].map((t) => t.split(' '));

/** 60 documents, 12 on each topic, each 10 words drawn from its topic plus two shared filler words. */
function corpus(): { text: string; topic: number }[] {
  let state = 12345;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  return Array.from({ length: 60 }, (_, i) => {
    const topic = i % TOPICS.length;
    const words = TOPICS[topic] as string[];
    const picked = Array.from({ length: 10 }, () => words[next(words.length)]);
    return { text: `${picked.join(' ')} the and`, topic };
  });
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

describe('LSA', () => {
  const docs = corpus();
  const texts = docs.map((d) => d.text);

  it('is deterministic for a seed, and saving/loading gives identical vectors and a stable revision', () => {
    const model = fitLsa(texts, { dimension: 8, seed: 3 });
    expect(fitLsa(texts, { dimension: 8, seed: 3 })).toEqual(model);
    const path = join(dir, 'model.bin');
    const revision = saveLsaModel(model, path);
    expect(revision).toBe(sha256Hex(readFileSync(path)).slice(0, 16));
    expect(saveLsaModel(model, join(dir, 'again.bin'))).toBe(revision);
    const loaded = loadLsaModel(path);
    expect(loaded.revision).toBe(revision);
    expect(loaded.model).toEqual(model);
    const before = new LsaEncoder(model, true);
    const after = new LsaEncoder(loaded.model, true);
    for (const text of [...texts.slice(0, 5), 'rocket bread', 'unknown words only']) {
      expect(after.encode(text)).toEqual(before.encode(text));
    }
  });

  it('retrieves a document from its own text (top-1) and a topic from its words', () => {
    const model = fitLsa(texts, { dimension: 20, seed: 1 });
    const encoder = new LsaEncoder(model, true);
    const vectors = texts.map((t) => encoder.encode(t));
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    const best = (query: Float32Array): number => {
      let top = -1;
      let topScore = -Infinity;
      vectors.forEach((v, i) => {
        const s = dot(query, v);
        if (s > topScore + 1e-9) [top, topScore] = [i, s];
      });
      return top;
    };
    for (const [i, text] of texts.entries()) expect(best(encoder.encode(text))).toBe(i);
    const small = new LsaEncoder(fitLsa(texts, { dimension: 5, seed: 1 }), true);
    const smallVectors = texts.map((t) => small.encode(t));
    TOPICS.forEach((words, topic) => {
      const q = small.encode(`${words[0]} ${words[1]}`);
      const ranked = smallVectors.map((v, i) => [dot(q, v), i] as const).sort((x, y) => y[0] - x[0]);
      expect(docs[(ranked[0] as readonly [number, number])[1]]?.topic).toBe(topic);
    });
    // A text with no known term is the zero vector.
    expect(Array.from(encoder.encode('zzz qqq')).every((x) => x === 0)).toBe(true);
  });

  it('keeps terms with df >= minDf, at most maxVocab of them', () => {
    const model = fitLsa([...texts, 'hapax legomenon'], { dimension: 4, maxVocab: 20, minDf: 2 });
    expect(model.terms.length).toBe(20);
    expect(model.terms).not.toContain('hapax');
    expect([...model.terms].sort()).toEqual(model.terms);
  });

  it('refuses a dimension the corpus cannot support', () => {
    expect(() => fitLsa(texts.slice(0, 3), { dimension: 8 })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('lsaSpace pins the file hash as revision; the embedder checks the dimension', async () => {
    const model = fitLsa(texts, { dimension: 6, seed: 2 });
    const path = join(dir, 'space.bin');
    const revision = saveLsaModel(model, path);
    const space = lsaSpace('lsa-v2', path, model);
    expect(space.spec.revision).toBe(revision);
    expect(space.spec.dimension).toBe(6);
    expect(space.runtime.options.modelPath).toBe(path);
    expect(lsaSpace('lsa-v2', path).fingerprint).toBe(space.fingerprint);
    const [v] = await createLsaEmbedder(space, model).embed(['rocket launch'], { inputType: 'query' });
    expect(v).toHaveLength(6);
    const other = fitLsa(texts, { dimension: 6, seed: 99, minDf: 3 });
    expect(() => lsaSpace('lsa-v2', path, other)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    const wrong = defineSpace('wrong', { provider: 'lsa', model: 'm', dimension: 7, revision });
    expect(() => createLsaEmbedder(wrong, model)).toThrow(expect.objectContaining({ code: 'INVALID_SPEC' }));
  });

  it('refuses a corrupt model file with INVALID_INPUT', () => {
    const path = join(dir, 'corrupt.bin');
    writeFileSync(path, 'not a model');
    try {
      loadLsaModel(path);
      expect.unreachable();
    } catch (error) {
      expect(isReembedError(error, 'INVALID_INPUT')).toBe(true);
    }
    saveLsaModel(fitLsa(texts, { dimension: 4 }), join(dir, 'good.bin'));
    const good = readFileSync(join(dir, 'good.bin'));
    writeFileSync(path, good.subarray(0, good.length - 4));
    expect(() => loadLsaModel(path)).toThrow(/size/);
  });
});
