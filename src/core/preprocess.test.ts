import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isReembedError } from './errors.js';
import { PREPROCESSING_VERSIONS, preprocess } from './preprocess.js';

describe('preprocess', () => {
  it('v1 applies NFKC, collapses whitespace runs and trims', () => {
    expect(preprocess('  Ｆｏｏ\n\t bar\u00a0 ﬁne  ', 'v1')).toBe('Foo bar fine');
    expect(preprocess('cafe\u0301', 'v1')).toBe('café');
    expect(preprocess('①②', 'v1')).toBe('12');
    expect(preprocess('plain ascii text', 'v1')).toBe('plain ascii text');
    expect(preprocess('\u3000x\u2003y\r\n', 'v1')).toBe('x y');
    expect(preprocess('', 'v1')).toBe('');
  });

  it('v1 equals the reference definition and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (text) => {
        const out = preprocess(text, 'v1');
        expect(out).toBe(text.normalize('NFKC').replace(/\s+/g, ' ').trim());
        expect(preprocess(out, 'v1')).toBe(out);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 80 }), (text) => {
        expect(preprocess(text, 'v1')).toBe(text.normalize('NFKC').replace(/\s+/g, ' ').trim());
      }),
    );
  });

  it('v1 takes its printable-ASCII fast path with the reference result', () => {
    const unit = fc.constantFrom(' ', ' ', 'a', 'Z', '~', '!', '\t', '\u00a0');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (text) => {
        expect(preprocess(text, 'v1')).toBe(text.normalize('NFKC').replace(/\s+/g, ' ').trim());
      }),
      { numRuns: 500 },
    );
    const clean = 'printable ascii, single spaces only.';
    expect(preprocess(clean, 'v1')).toBe(clean);
    expect(preprocess(' a  b ', 'v1')).toBe('a b');
  });

  it('raw leaves the text unchanged', () => {
    expect(preprocess('  Ｆｏｏ\n', 'raw')).toBe('  Ｆｏｏ\n');
  });

  it('refuses an unknown version with INVALID_SPEC naming the known ones', () => {
    let thrown: unknown;
    try {
      preprocess('x', 'v9');
    } catch (error) {
      thrown = error;
    }
    expect(isReembedError(thrown, 'INVALID_SPEC')).toBe(true);
    for (const version of PREPROCESSING_VERSIONS) expect((thrown as Error).message).toContain(version);
    expect((thrown as Error).message).toContain('"v9"');
  });
});
