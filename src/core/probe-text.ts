import { forEachTokenSpan } from './tokenize.js';

/**
 * The text side of probe queries: sentences, a document's title, content-word spans, and the document with
 * the query cut out of it. Pure and deterministic; the randomness comes from the caller's seeded draw.
 */

/** A piece of a document: its text and where it sits (UTF-16 offsets, end exclusive). */
export interface TextPiece {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

// A sentence ends at . ! ? (and their CJK / Arabic forms) followed by whitespace, or at a CJK full stop.
const SENTENCE_END = /[.!?؟]+["'”’)\]]*(?=\s)|[。！？]+/gu;
// Unified CJK ideographs, kana and hangul: scripts written without spaces between words.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;

/**
 * Splits text into sentences at sentence punctuation followed by whitespace (or a CJK full stop). Cheap
 * and language-neutral on purpose: an abbreviation that splits a sentence only makes a shorter probe.
 */
export function splitSentences(text: string): TextPiece[] {
  const out: TextPiece[] = [];
  let start = 0;
  const push = (end: number): void => {
    const raw = text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    if (trimmed !== '') out.push({ text: trimmed, start: start + lead, end: start + lead + trimmed.length });
  };
  SENTENCE_END.lastIndex = 0;
  for (let m = SENTENCE_END.exec(text); m !== null; m = SENTENCE_END.exec(text)) {
    const end = m.index + m[0].length;
    push(end);
    start = end;
  }
  push(text.length);
  return out;
}

/**
 * Length of a text in words, where a word is a token of `core/tokenize.ts` and every CJK character counts
 * as one (those scripts put no spaces between words, so a whole sentence would otherwise be one token).
 */
export function wordLength(text: string): number {
  let words = 0;
  forEachTokenSpan(text, (start, end) => {
    const unspaced = text.slice(start, end).match(UNSPACED)?.length ?? 0;
    words += unspaced === 0 ? 1 : unspaced;
  });
  return words;
}

/** Word tokens with their offsets in the original text (case kept), for spans and removal. */
export function tokenPieces(text: string): TextPiece[] {
  const out: TextPiece[] = [];
  forEachTokenSpan(text, (start, end) => {
    out.push({ text: text.slice(start, end).toLowerCase(), start, end });
  });
  return out;
}

/**
 * Function words of English (and numbers, handled by the caller) that carry no topic. A span of content
 * words skips them: "the effect of the" is not a query anyone types. Other languages keep their function
 * words (the span still works, it is just less sharp), which is why the list stays short.
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an the of in on at to for from by with and or but nor is are was were be been being this that these ' +
    'those it its as into than then there their them they we our you your i he she his her him us which who ' +
    'whom whose what when where how why not no can may might will would should could do does did done has ' +
    'have had having also such both between within without over under after before during about above ' +
    'below more most less least very other some any each all per via et al vs using used use based ' +
    'however thus therefore here among while whether if so only same further'
  ).split(' '),
);

/** Whether a token carries content: not a stopword, not a bare number, at least two characters. */
export function isContentWord(token: string): boolean {
  return token.length >= 2 && !STOPWORDS.has(token) && !/^\p{N}+$/u.test(token);
}

/**
 * The document with every occurrence of each piece removed (whitespace collapsed), so a known-item probe
 * cannot be answered by matching its own words back: what remains of the document must carry the topic.
 * Ranges may overlap; they are merged first.
 */
export function removeRanges(text: string, ranges: readonly { start: number; end: number }[]): string {
  const sorted = [...ranges].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const r of sorted) {
    if (r.end <= at) continue;
    out += `${text.slice(at, Math.max(at, r.start))} `;
    at = Math.max(at, r.end);
  }
  out += text.slice(at);
  return out.replace(/\s+/g, ' ').trim();
}

/** Every occurrence of `needle` in `text` (non-overlapping), as ranges. */
export function occurrences(text: string, needle: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  if (needle === '') return out;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) {
    out.push({ start: i, end: i + needle.length });
  }
  return out;
}

/** Word-set Jaccard at or above which two documents count as near-duplicates of each other. */
export const NEAR_DUPLICATE_JACCARD = 0.8;

/** The distinct lowercase words of a text (what near-duplicate detection compares). */
export function wordSet(text: string): Set<string> {
  return new Set(tokenPieces(text).map((t) => t.text));
}

/**
 * Whether two documents are near-duplicates: the same words, give or take a fifth (word-set Jaccard
 * ≥ 0.8). A probe must not count finding a copy of its document as a miss.
 */
export function isNearDuplicate(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size === 0 || b.size === 0) return false;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  if (small.size / large.size < NEAR_DUPLICATE_JACCARD) return false;
  let common = 0;
  for (const w of small) if (large.has(w)) common++;
  return common / (a.size + b.size - common) >= NEAR_DUPLICATE_JACCARD;
}
