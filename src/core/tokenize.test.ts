import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countWordTokens, estimateTokens, forEachTokenSpan, tokenize } from './tokenize.js';

describe('tokenize', () => {
  it('lowercases and splits on anything that is not a letter, digit or mark', () => {
    expect(tokenize("Héllo, WÖRLD 42! it's e-mail_x")).toEqual([
      'héllo',
      'wörld',
      '42',
      'it',
      's',
      'e',
      'mail',
      'x',
    ]);
    expect(tokenize('  ...  ')).toEqual([]);
    expect(tokenize('')).toEqual([]);
  });

  it('is unicode aware: CJK, Cyrillic, combining marks and astral letters are word characters', () => {
    expect(tokenize('Привет мир')).toEqual(['привет', 'мир']);
    expect(tokenize('東京タワー, 2024')).toEqual(['東京タワー', '2024']);
    expect(tokenize('cafe\u0301 ok')).toEqual(['cafe\u0301', 'ok']);
    expect(tokenize('𝐀𝐁 x')).toEqual(['𝐀𝐁', 'x']); // mathematical bold letters (astral plane)
    expect(tokenize('a😀b')).toEqual(['a', 'b']); // an emoji separates
  });

  it('countWordTokens and forEachTokenSpan agree with tokenize', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        expect(countWordTokens(text)).toBe(tokenize(text).length);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 60 }), (text) => {
        const spans: string[] = [];
        forEachTokenSpan(text, (start, end) => spans.push(text.slice(start, end).toLowerCase()));
        expect(spans).toEqual(tokenize(text));
      }),
    );
  });
});

describe('estimateTokens', () => {
  it('is at least the word count and at least a quarter of the characters', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('a b c d e f')).toBe(6);
    expect(estimateTokens('x'.repeat(400))).toBe(100);
    expect(estimateTokens('Hello, world!')).toBe(4);
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const estimate = estimateTokens(text);
        expect(estimate).toBeGreaterThanOrEqual(countWordTokens(text));
        expect(estimate).toBeGreaterThanOrEqual(Math.ceil(text.length / 4));
      }),
    );
  });
});
