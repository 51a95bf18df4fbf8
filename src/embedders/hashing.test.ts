import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isReembedError } from '../core/errors.js';
import { defineSpace } from '../core/space.js';
import { tokenize } from '../core/tokenize.js';
import { createHashingEmbedder, HashingEncoder, hashingSpace } from './hashing.js';

// The documented hash, written the slow obvious way: FNV-1a over seed bytes + UTF-8 token bytes, fmix32.
function referenceVector(
  text: string,
  dim: number,
  seed: number,
  ngrams: 1 | 2,
  sublinear: boolean,
): Float32Array {
  const utf8 = new TextEncoder();
  const hash = (token: string): number => {
    let h = 0x811c9dc5;
    const bytes = [
      seed & 0xff,
      (seed >>> 8) & 0xff,
      (seed >>> 16) & 0xff,
      seed >>> 24,
      ...utf8.encode(token),
    ];
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  };
  const tokens = tokenize(text);
  const features = [...tokens];
  if (ngrams === 2) for (let i = 1; i < tokens.length; i++) features.push(`${tokens[i - 1]} ${tokens[i]}`);
  const counts = new Map<number, number>();
  for (const f of features) counts.set(hash(f), (counts.get(hash(f)) ?? 0) + 1);
  const out = new Float64Array(dim);
  for (const [h, count] of counts) {
    const weight = sublinear ? 1 + Math.log(count) : count;
    const index = (h & 0x7fffffff) % dim;
    out[index] = (out[index] as number) + (h < 0 ? -weight : weight);
  }
  const norm = Math.hypot(...out);
  return Float32Array.from(out, (v) => (norm > 0 ? v / norm : 0));
}

describe('hashing embedder', () => {
  it('matches the documented hash for any text (unicode, astral, bigrams, sublinear)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.constantFrom(...(['uni', 'bi'] as const)),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffffffff }),
        (text, kind, sublinear, seed) => {
          const ngrams = kind === 'bi' ? 2 : 1;
          const actual = new HashingEncoder(32, { seed, ngrams, sublinear }, true).encode(text);
          const expected = referenceVector(text, 32, seed, ngrams, sublinear);
          for (let i = 0; i < 32; i++) expect(actual[i]).toBeCloseTo(expected[i] as number, 5);
        },
      ),
      { numRuns: 200 },
    );
    const words = 'Rock rock ROCK and roll: müsli, 東京 𝐀𝐁 and roll';
    const actual = new HashingEncoder(64, { seed: 7, ngrams: 2, sublinear: true }, true).encode(words);
    const expected = referenceVector(words, 64, 7, 2, true);
    expect(actual.filter((v) => v !== 0).length).toBeGreaterThan(8);
    for (let i = 0; i < 64; i++) expect(actual[i]).toBeCloseTo(expected[i] as number, 6);
  });

  it('is deterministic, has the space dimension and unit norm; seeds change the vectors', async () => {
    const space = hashingSpace('h1', { dimension: 384 });
    const embedder = createHashingEmbedder(space);
    const texts = ['The quick brown fox', 'jumps over the lazy dog', ''];
    const a = await embedder.embed(texts, { inputType: 'document' });
    const b = await createHashingEmbedder(space).embed(texts, { inputType: 'document' });
    expect(a).toEqual(b);
    expect(a.map((v) => v.length)).toEqual([384, 384, 384]);
    expect(Math.hypot(...(a[0] as Float32Array))).toBeCloseTo(1, 5);
    expect(Array.from(a[2] as Float32Array).every((v) => v === 0)).toBe(true); // no tokens: zero vector
    const seeded = await createHashingEmbedder(hashingSpace('h2', { dimension: 384, seed: 1 })).embed(texts, {
      inputType: 'document',
    });
    expect(Array.from(seeded[0] as Float32Array)).not.toEqual(Array.from(a[0] as Float32Array));
    expect(hashingSpace('h2', { dimension: 384, seed: 1 }).fingerprint).not.toBe(space.fingerprint);
  });

  it('leaves vectors unnormalised when normalization is none (raw signed counts)', async () => {
    const space = hashingSpace('raw', { dimension: 16, normalization: 'none' });
    const [v] = await createHashingEmbedder(space).embed(['word word word'], { inputType: 'query' });
    const nonZero = Array.from(v as Float32Array).filter((x) => x !== 0);
    expect(nonZero.map(Math.abs)).toEqual([3]);
  });

  it('applies input-type prefixes and truncation', async () => {
    const space = hashingSpace('prefixed', {
      dimension: 64,
      inputType: { query: 'query: ', document: '' },
      truncation: { maxTokens: 2, side: 'end' },
    });
    const embedder = createHashingEmbedder(space);
    const [q, d] = [
      (await embedder.embed(['alpha beta gamma'], { inputType: 'query' }))[0],
      (await embedder.embed(['alpha beta'], { inputType: 'document' }))[0],
    ];
    const encoder = new HashingEncoder(64, { seed: 0, ngrams: 1, sublinear: false }, true);
    expect(q).toEqual(encoder.encode('query: alpha beta'));
    expect(d).toEqual(encoder.encode('alpha beta'));
    expect(embedder.countTokens('one, two three')).toBe(3);
    expect(embedder.maxBatchSize).toBeGreaterThan(0);
  });

  it('refuses bad params with INVALID_SPEC and honours an aborted signal', async () => {
    for (const params of [{ seed: -1 }, { seed: 1.5 }, { ngrams: 3 }, { sublinear: 'yes' }, { ngram: 2 }]) {
      const space = defineSpace('bad', { provider: 'hashing', model: 'fnv1a-signed', dimension: 8, params });
      expect(() => createHashingEmbedder(space)).toThrow(expect.objectContaining({ code: 'INVALID_SPEC' }));
    }
    const embedder = createHashingEmbedder(hashingSpace('h', { dimension: 8 }));
    const controller = new AbortController();
    controller.abort();
    await expect(embedder.embed(['x'], { inputType: 'query', signal: controller.signal })).rejects.toSatisfy(
      (e: unknown) => isReembedError(e, 'ABORTED'),
    );
  });

  it('encodes 120-word documents at well over 60k docs/s at 384 dimensions', () => {
    const vocabulary =
      'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi'.split(' ');
    const docs = Array.from({ length: 2000 }, (_, d) =>
      Array.from({ length: 120 }, (_, w) => vocabulary[(d * 7 + w * 13) % vocabulary.length]).join(' '),
    );
    const encoder = new HashingEncoder(384, { seed: 0, ngrams: 1, sublinear: false }, true);
    let perSecond = 0; // best of five rounds: the first warms the JIT, others may share the CPU
    for (let round = 0; round < 5; round++) {
      const start = performance.now();
      for (const doc of docs) encoder.encode(doc);
      perSecond = Math.max(perSecond, docs.length / ((performance.now() - start) / 1000));
    }
    console.log(`hashing-384: ${Math.round(perSecond)} docs/s (120 words each)`);
    // Loose bound: the machine is shared; the real target is checked by the benchmark.
    expect(perSecond).toBeGreaterThan(20_000);
  });
});
