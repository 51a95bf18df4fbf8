/**
 * The word tokenizer shared by every local embedder, the token chunker's truncation and cost estimates.
 *
 * A token is a maximal run of Unicode letters, digits and combining marks (`[\p{L}\p{N}\p{M}]+`) in the
 * lowercased text; everything else separates tokens. Embedders that hash while scanning characters
 * (see `embedders/hashing.ts`) use `isWordCodeUnit`/`isWordCodePoint` so they see exactly these tokens.
 * Changing what a token is would silently change every local space, so this definition is frozen.
 */
const WORD_RE = /[\p{L}\p{N}\p{M}]+/gu;
const WORD_CHAR_RE = /^[\p{L}\p{N}\p{M}]$/u;

/** 1 = word character, 2 = separator, 0 = not yet classified (BMP code units are classified lazily). */
const BMP_CLASS = new Uint8Array(0x10000);
for (let c = 0; c < 128; c++) {
  const word = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  BMP_CLASS[c] = word ? 1 : 2;
}
const ASTRAL_CLASS = new Map<number, boolean>();

/** Splits text into lowercase word tokens. `tokenize('Héllo, wörld 42!')` → `['héllo', 'wörld', '42']`. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD_RE) ?? [];
}

/** Number of word tokens, without allocating them. */
export function countWordTokens(text: string): number {
  let count = 0;
  forEachTokenSpan(text, () => {
    count++;
  });
  return count;
}

/**
 * Whether a UTF-16 code unit outside the surrogate range is a word character. Surrogates (0xD800–0xDFFF)
 * return false here: callers combine pairs and ask `isWordCodePoint`.
 */
export function isWordCodeUnit(c: number): boolean {
  let cls = BMP_CLASS[c] as number;
  if (cls === 0) {
    cls = c >= 0xd800 && c <= 0xdfff ? 2 : WORD_CHAR_RE.test(String.fromCharCode(c)) ? 1 : 2;
    BMP_CLASS[c] = cls;
  }
  return cls === 1;
}

/** Whether a code point (any plane) is a word character. */
export function isWordCodePoint(cp: number): boolean {
  if (cp < 0x10000) return isWordCodeUnit(cp);
  let word = ASTRAL_CLASS.get(cp);
  if (word === undefined) {
    word = WORD_CHAR_RE.test(String.fromCodePoint(cp));
    ASTRAL_CLASS.set(cp, word);
  }
  return word;
}

/**
 * Calls `visit(start, end)` for every token span (UTF-16 offsets into `text`, end exclusive) without
 * allocating strings. Works on the original (not lowercased) text: case does not change word-ness.
 */
export function forEachTokenSpan(text: string, visit: (start: number, end: number) => void): void {
  const n = text.length;
  let start = -1;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    let width = 1;
    let word: boolean;
    if (c < 128) word = BMP_CLASS[c] === 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        width = 2;
        word = isWordCodePoint(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
      } else word = false;
    } else word = isWordCodeUnit(c);
    if (word) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      visit(start, i);
      start = -1;
    }
    i += width;
  }
  if (start >= 0) visit(start, n);
}

/**
 * A provider-neutral estimate of model (BPE) tokens, for cost estimates and token rate limits when the
 * provider's tokenizer is not available: the larger of "words plus punctuation marks" and "characters / 4"
 * (OpenAI's rule of thumb for English). It leans high, which is the safe side for budgets and limits.
 */
export function estimateTokens(text: string): number {
  let pieces = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
    const word = c < 128 ? BMP_CLASS[c] === 1 : !space;
    if (word) {
      if (!inWord) pieces++;
      inWord = true;
    } else {
      inWord = false;
      if (!space) pieces++;
    }
  }
  return Math.max(pieces, Math.ceil(text.length / 4));
}
