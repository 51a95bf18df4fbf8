import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkText, type TextChunk } from './chunker.js';
import { isReembedError } from './errors.js';
import type { ChunkerSpec } from './space.js';

const isSpace = (ch: string): boolean => /\s/.test(ch);

// Texts made of words and whitespace runs (including non-ASCII letters, astral characters and odd spaces).
const wordsText = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((w) => !/\s/.test(w)),
      fc.constantFrom(' ', '  ', '\n', '\t ', '\u00a0', '\u3000'),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));
const anyText = fc.oneof(wordsText, fc.string({ unit: 'binary', maxLength: 120 }));
const windowSpec = (kind: 'tokens' | 'chars') =>
  fc
    .integer({ min: 1, max: 40 })
    .chain((size) => fc.record({ size: fc.constant(size), overlap: fc.integer({ min: 0, max: size - 1 }) }))
    .map(({ size, overlap }): ChunkerSpec => ({ kind, size, overlap }));

function assertWellFormed(text: string, chunks: TextChunk[]): void {
  expect(chunks.length).toBeGreaterThan(0);
  chunks.forEach((c, i) => {
    expect(c.index).toBe(i);
    expect(c.text).toBe(text.slice(c.start, c.end));
    if (i > 0) expect(c.start).toBeGreaterThan((chunks[i - 1] as TextChunk).start);
  });
  // Coverage: every non-whitespace character is in some chunk.
  for (let i = 0; i < text.length; i++) {
    if (isSpace(text[i] as string)) continue;
    expect(chunks.some((c) => c.start <= i && i < c.end)).toBe(true);
  }
  // Gaps between consecutive chunks hold whitespace only.
  for (let i = 1; i < chunks.length; i++) {
    const gap = text.slice((chunks[i - 1] as TextChunk).end, (chunks[i] as TextChunk).start);
    expect(gap.trim()).toBe('');
  }
}

const wsTokens = (s: string): string[] => s.split(/\s+/).filter((t) => t !== '');

/** Consecutive chunks as [previous, next]. */
const neighbours = (chunks: TextChunk[]): [TextChunk, TextChunk][] =>
  chunks.slice(1).map((next, i) => [chunks[i] as TextChunk, next]);

/**
 * Runs `check` on the chunks of random texts in random windows of `kind`, once they pass what every
 * chunking must: well formed (`assertWellFormed`) and deterministic.
 */
function forEveryWindow(
  kind: 'tokens' | 'chars',
  check: (text: string, spec: ChunkerSpec, chunks: TextChunk[]) => void,
): void {
  fc.assert(
    fc.property(anyText, windowSpec(kind), (text, spec) => {
      const chunks = chunkText(text, spec);
      assertWellFormed(text, chunks);
      expect(chunkText(text, spec)).toEqual(chunks);
      check(text, spec, chunks);
    }),
    { numRuns: 300 },
  );
}

describe('chunkText', () => {
  it('none: one chunk, even for an empty text', () => {
    expect(chunkText('a b c', { kind: 'none' })).toEqual([{ index: 0, text: 'a b c', start: 0, end: 5 }]);
    expect(chunkText('', { kind: 'none' })).toHaveLength(1);
    expect(chunkText('', { kind: 'tokens', size: 3 })).toHaveLength(1);
    expect(chunkText('   ', { kind: 'chars', size: 3 })).toHaveLength(1);
  });

  it('tokens: windows of size whitespace tokens sharing overlap tokens', () => {
    const chunks = chunkText('a b c d e f g', { kind: 'tokens', size: 3, overlap: 1 });
    expect(chunks.map((c) => c.text)).toEqual(['a b c', 'c d e', 'e f g']);
    expect(chunkText('a b c d', { kind: 'tokens', size: 3 }).map((c) => c.text)).toEqual(['a b c', 'd']);
  });

  it('chars: windows of at most size characters that break at whitespace when they can', () => {
    const text = 'the quick brown fox jumps over the lazy dog';
    const chunks = chunkText(text, { kind: 'chars', size: 12, overlap: 0 });
    expect(chunks.map((c) => c.text)).toEqual(['the quick', 'brown fox', 'jumps over', 'the lazy dog']);
    const overlapping = chunkText(text, { kind: 'chars', size: 16, overlap: 6 });
    expect(overlapping.map((c) => c.text)).toEqual([
      'the quick brown',
      'brown fox jumps',
      'jumps over the',
      'the lazy dog',
    ]);
    expect(chunkText('abcdefghij', { kind: 'chars', size: 4, overlap: 1 }).map((c) => c.text)).toEqual([
      'abcd',
      'defg',
      'ghij',
    ]);
  });

  it('tokens: property — coverage, at most size tokens, exactly overlap shared tokens, deterministic', () => {
    forEveryWindow('tokens', (text, spec, chunks) => {
      if (wsTokens(text).length === 0) return;
      for (const c of chunks) expect(wsTokens(c.text).length).toBeLessThanOrEqual(spec.size as number);
      for (const [prev, next] of neighbours(chunks)) {
        const shared = next.start < prev.end ? wsTokens(text.slice(next.start, prev.end)).length : 0;
        expect(shared).toBe(spec.overlap ?? 0);
      }
    });
  });

  it('chars: property — coverage, length <= size, overlap <= overlap, no split surrogate pairs, deterministic', () => {
    forEveryWindow('chars', (text, spec, chunks) => {
      const size = spec.size as number;
      for (const c of chunks) expect(c.end - c.start).toBeLessThanOrEqual(size);
      for (const [prev, next] of neighbours(chunks)) {
        expect(prev.end - next.start).toBeLessThanOrEqual(spec.overlap ?? 0);
      }
      if (size >= 2) {
        for (const c of chunks) {
          expect(/^[\udc00-\udfff]/.test(c.text) && /[\ud800-\udbff]$/.test(text.slice(0, c.start))).toBe(
            false,
          );
          expect(/[\ud800-\udbff]$/.test(c.text) && /^[\udc00-\udfff]/.test(text.slice(c.end))).toBe(false);
        }
      }
    });
  });

  it('refuses a window without size or with overlap >= size', () => {
    const attempt = (spec: ChunkerSpec) => () => chunkText('a b', spec);
    for (const spec of [
      { kind: 'tokens' },
      { kind: 'chars', size: 0 },
      { kind: 'chars', size: 3, overlap: 3 },
    ] as ChunkerSpec[]) {
      try {
        attempt(spec)();
        expect.unreachable();
      } catch (error) {
        expect(isReembedError(error, 'INVALID_SPEC')).toBe(true);
      }
    }
  });
});
