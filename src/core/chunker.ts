import { ReembedError } from './errors.js';
import type { ChunkerSpec } from './space.js';

/**
 * Splits a (preprocessed) document into the chunks that get embedded. The chunker and its parameters are
 * part of the space fingerprint, so for a given spec the output must never change.
 *
 * - `none`: the whole text is one chunk.
 * - `tokens`: windows of `size` whitespace-separated tokens; consecutive windows share `overlap` tokens.
 * - `chars`: windows of at most `size` characters; a window ends at the last whitespace in its second half
 *   when there is one (so words stay whole), else it is cut hard (never inside a surrogate pair).
 *   The next window starts `overlap` characters before the previous end, moved forward to a word start
 *   when that keeps it within the previous window; consecutive windows never overlap by more than
 *   `overlap` characters and never leave a non-whitespace character uncovered.
 *
 * Every text yields at least one chunk: a text without content (empty, or whitespace only for the window
 * kinds) yields one empty chunk, so every source document has a record in every namespace (local
 * embedders give it the zero vector, which scores 0).
 */
export interface TextChunk {
  readonly index: number;
  readonly text: string;
  /** UTF-16 offsets of the chunk in the chunked text (end exclusive), for highlighting. */
  readonly start: number;
  readonly end: number;
}

/** `chunkText('a b c d e', { kind: 'tokens', size: 3, overlap: 1 })` → `'a b c'`, `'c d e'`. */
export function chunkText(text: string, spec: ChunkerSpec): TextChunk[] {
  switch (spec.kind) {
    case 'none':
      return [chunk(text, 0, 0, text.length)];
    case 'tokens': {
      const { size, overlap } = windowOf(spec);
      return tokenWindows(text, size, overlap);
    }
    case 'chars': {
      const { size, overlap } = windowOf(spec);
      return charWindows(text, size, overlap);
    }
    default:
      throw new ReembedError(
        'INVALID_SPEC',
        `Unknown chunker kind "${(spec as { kind: string }).kind}". Use "none", "tokens" or "chars".`,
        { details: { field: 'chunker.kind' } },
      );
  }
}

function windowOf(spec: ChunkerSpec): { size: number; overlap: number } {
  const size = spec.size;
  const overlap = spec.overlap ?? 0;
  if (size === undefined || !Number.isInteger(size) || size < 1) {
    throw new ReembedError(
      'INVALID_SPEC',
      `chunker.size must be a positive integer for kind "${spec.kind}".`,
      {
        details: { field: 'chunker.size', value: size },
      },
    );
  }
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new ReembedError('INVALID_SPEC', 'chunker.overlap must be an integer from 0 to chunker.size - 1.', {
      details: { field: 'chunker.overlap', value: overlap, size },
    });
  }
  return { size, overlap };
}

function chunk(text: string, index: number, start: number, end: number): TextChunk {
  return Object.freeze({ index, text: text.slice(start, end), start, end });
}

function isSpace(c: number): boolean {
  // The JavaScript `\s` set, spelled out so the hot loop avoids a regex per character.
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

function tokenWindows(text: string, size: number, overlap: number): TextChunk[] {
  const starts: number[] = [];
  const ends: number[] = [];
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inToken) starts.push(i);
    else if (space && inToken) ends.push(i);
    inToken = !space;
  }
  if (inToken) ends.push(text.length);
  const n = starts.length;
  if (n === 0) return [chunk(text, 0, 0, 0)];
  const out: TextChunk[] = [];
  const step = size - overlap;
  for (let first = 0; ; first += step) {
    const last = Math.min(first + size, n) - 1;
    out.push(chunk(text, out.length, starts[first] as number, ends[last] as number));
    if (last === n - 1) return out;
  }
}

function charWindows(text: string, size: number, overlap: number): TextChunk[] {
  const len = text.length;
  let start = 0;
  while (start < len && isSpace(text.charCodeAt(start))) start++;
  if (start >= len) return [chunk(text, 0, 0, 0)];
  const out: TextChunk[] = [];
  for (;;) {
    if (start + size >= len) {
      out.push(chunk(text, out.length, start, len));
      return out;
    }
    const end = windowEnd(text, start, size);
    out.push(chunk(text, out.length, start, end));
    let next = Math.max(end - overlap, start + 1);
    if (next < end && !isSpace(text.charCodeAt(next - 1))) {
      // Mid-word: move to the next word start if it is still inside this window.
      let j = next;
      while (j < end && !isSpace(text.charCodeAt(j))) j++;
      if (j < end) next = j;
    }
    if (isLowSurrogate(text.charCodeAt(next)) && next < end) next++;
    while (next < len && isSpace(text.charCodeAt(next))) next++;
    if (next >= len) return out;
    start = next;
  }
}

/** End of a window starting at `start` (exclusive), preferring a break at whitespace in its second half. */
function windowEnd(text: string, start: number, size: number): number {
  const hard = start + size;
  const floor = start + Math.max(1, Math.floor(size / 2));
  for (let w = hard; w >= floor; w--) {
    if (isSpace(text.charCodeAt(w))) return w;
  }
  // A hard cut must not split a surrogate pair.
  return isLowSurrogate(text.charCodeAt(hard)) && hard - 1 > start ? hard - 1 : hard;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
