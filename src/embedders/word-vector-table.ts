import { resolve } from 'node:path';
import { ReembedError } from '../core/errors.js';
import { bytesRevision, readModelFile } from './common.js';

/**
 * A table of pretrained word vectors read from the word2vec/GloVe TEXT format: one `word v1 … vd` line
 * per word, optionally preceded by a `count dim` header line (word2vec writes one, GloVe does not).
 * Rows keep file order, which for published vector sets is frequency order (used for SIF weights).
 *
 * Tables are cached per absolute path in-process (checked against the file's hash), so many embedders of
 * one space share one copy.
 */
export interface WordVectorTable {
  readonly path: string;
  /** sha256 of the file, first 16 hex digits: the space's `revision`. */
  readonly revision: string;
  readonly dimension: number;
  readonly words: readonly string[];
  /** words × dimension, row-major. */
  readonly vectors: Float32Array;
  /** Lowercased word → row. When several rows lowercase alike (`US`, `us`), the earliest row wins. */
  readonly index: ReadonlyMap<string, number>;
}

const cache = new Map<string, WordVectorTable>();

/**
 * Loads (or returns the cached) table of a vectors file. The file is re-read and re-hashed on every call
 * (tens of milliseconds) so a file replaced in place is never served from a stale cache; only parsing is
 * skipped when the hash is unchanged. Throws `NOT_FOUND` / `INVALID_INPUT`.
 */
export function loadWordVectors(path: string): WordVectorTable {
  const absolute = resolve(path);
  const bytes = readModelFile(absolute, (reason) => `Cannot read word vectors file ${absolute}: ${reason}.`);
  const hit = cache.get(absolute);
  if (hit && hit.revision === bytesRevision(bytes)) return hit;
  const table = parseWordVectors(bytes, absolute);
  cache.set(absolute, table);
  return table;
}

/** Parses word2vec/GloVe text bytes. Every line must carry exactly `dimension` finite numbers. */
export function parseWordVectors(bytes: Buffer, path = '(bytes)'): WordVectorTable {
  const bad = (line: number, why: string): ReembedError =>
    new ReembedError('INVALID_INPUT', `${path}:${line}: ${why}. Expected word2vec/GloVe text format.`, {
      details: { path, line },
    });
  const n = bytes.length;
  let pos = 0;
  let lineNo = 1;
  const firstEnd = lineEnd(bytes, 0);
  const first = bytes.toString('utf8', 0, firstEnd).trim().split(/\s+/);
  let dimension: number;
  let expectedRows = -1;
  if (first.length === 2 && /^\d+$/.test(first[0] as string) && /^\d+$/.test(first[1] as string)) {
    expectedRows = Number(first[0]);
    dimension = Number(first[1]);
    pos = firstEnd + 1;
    lineNo = 2;
  } else {
    dimension = first.length - 1;
  }
  if (!(dimension > 0)) throw bad(1, 'no vector values on the first line');
  const words: string[] = [];
  let vectors = new Float32Array(dimension * Math.max(expectedRows, 1024));
  const parsed = { value: 0, next: 0 };
  for (; pos < n; lineNo++) {
    const end = lineEnd(bytes, pos);
    let wordEnd = pos;
    while (wordEnd < end && bytes[wordEnd] !== 32 && bytes[wordEnd] !== 9) wordEnd++;
    const contentEnd = end > pos && bytes[end - 1] === 13 ? end - 1 : end;
    if (contentEnd > pos) {
      const row = words.length;
      if ((row + 1) * dimension > vectors.length) {
        const grown = new Float32Array(vectors.length * 2);
        grown.set(vectors);
        vectors = grown;
      }
      let p = wordEnd;
      for (let d = 0; d < dimension; d++) {
        while (p < contentEnd && (bytes[p] === 32 || bytes[p] === 9)) p++;
        if (p >= contentEnd) throw bad(lineNo, `${d} values, expected ${dimension}`);
        if (!parseNumber(bytes, p, contentEnd, parsed))
          throw bad(lineNo, `value ${d + 1} is not a finite number`);
        vectors[row * dimension + d] = parsed.value;
        p = parsed.next;
      }
      while (p < contentEnd && (bytes[p] === 32 || bytes[p] === 9)) p++;
      if (p < contentEnd) throw bad(lineNo, `more than ${dimension} values`);
      words.push(bytes.toString('utf8', pos, wordEnd));
    }
    pos = end + 1;
  }
  if (expectedRows >= 0 && words.length !== expectedRows) {
    throw bad(lineNo, `the header announces ${expectedRows} words but the file has ${words.length}`);
  }
  const index = new Map<string, number>();
  words.forEach((word, row) => {
    const key = word.toLowerCase();
    if (!index.has(key)) index.set(key, row);
  });
  return Object.freeze({
    path,
    revision: bytesRevision(bytes),
    dimension,
    words: Object.freeze(words),
    vectors: vectors.slice(0, words.length * dimension),
    index,
  });
}

function lineEnd(bytes: Buffer, from: number): number {
  const i = bytes.indexOf(10, from);
  return i < 0 ? bytes.length : i;
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Parses a decimal number at `start` (up to whitespace or `end`) into `out`. Integer mantissa and
 * a power of ten up to 10^22 are exact doubles, so one multiplication or division is correctly rounded,
 * the same double `Number()` gives; anything longer falls back to `Number()`.
 */
function parseNumber(
  bytes: Buffer,
  start: number,
  end: number,
  out: { value: number; next: number },
): boolean {
  let p = start;
  let negative = false;
  if (bytes[p] === 45 || bytes[p] === 43) negative = bytes[p++] === 45;
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let c = bytes[p] as number;
  while (c >= 48 && c <= 57) {
    mantissa = mantissa * 10 + (c - 48);
    digits++;
    c = bytes[++p] as number;
  }
  if (c === 46) {
    c = bytes[++p] as number;
    while (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      scale--;
      c = bytes[++p] as number;
    }
  }
  if (digits === 0) return false;
  if (c === 101 || c === 69) {
    let q = p + 1;
    let expNegative = false;
    if (bytes[q] === 45 || bytes[q] === 43) expNegative = bytes[q++] === 45;
    let exponent = 0;
    let expDigits = 0;
    while (q < end && (bytes[q] as number) >= 48 && (bytes[q] as number) <= 57) {
      exponent = exponent * 10 + ((bytes[q] as number) - 48);
      expDigits++;
      q++;
    }
    if (expDigits === 0) return false;
    scale += expNegative ? -exponent : exponent;
    p = q;
  }
  if (p < end && bytes[p] !== 32 && bytes[p] !== 9) return false;
  let value: number;
  if (digits <= 15 && scale >= -22 && scale <= 22) {
    value = scale < 0 ? mantissa / (POW10[-scale] as number) : mantissa * (POW10[scale] as number);
  } else {
    value = Number(bytes.toString('latin1', start, p));
    if (!Number.isFinite(value)) return false;
    negative = false;
  }
  out.value = negative ? -value : value;
  out.next = p;
  return true;
}
