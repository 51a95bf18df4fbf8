import { defineSpace, type Space, type SpaceSpecInput } from '../core/space.js';
import { isWordCodePoint, isWordCodeUnit } from '../core/tokenize.js';
import type { Embedder } from '../ports/embedder.js';
import { assertKnownParams, localEmbedder, specError } from './common.js';

/**
 * Signed feature hashing ("the hashing trick"): every word token (and, with `ngrams: 2`, every pair of
 * adjacent tokens) is hashed to a dimension and a sign, and the counts are summed. No fitting, no model
 * file, fully deterministic — the fastest local space, and a fair lexical baseline.
 *
 * Hash: 32-bit FNV-1a over the 4 little-endian bytes of `seed` followed by the UTF-8 bytes of the token
 * (a bigram hashes as `token1 + ' ' + token2`), then the murmur3 `fmix32` finaliser, because FNV-1a's
 * low bits mix poorly and the dimension is taken from them. Index `(h & 0x7fffffff) % dimension`, sign
 * negative when bit 31 is set. Tokens are those of `core/tokenize.ts`, found while scanning characters,
 * so no token strings are allocated.
 *
 * Params (all in the fingerprint): `seed` (uint32, default 0), `ngrams` (1 | 2, default 1),
 * `sublinear` (weight `1 + ln(tf)` instead of `tf`, default false).
 */
export const HASHING_PARAMS = ['seed', 'ngrams', 'sublinear'] as const;

export interface HashingParams {
  readonly seed: number;
  readonly ngrams: 1 | 2;
  readonly sublinear: boolean;
}

const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function hashingParamsOf(space: Space): HashingParams {
  assertKnownParams(space, HASHING_PARAMS);
  const { seed = 0, ngrams = 1, sublinear = false } = space.spec.params;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw specError(space, 'params.seed', 'must be an integer from 0 to 4294967295.', seed);
  }
  if (ngrams !== 1 && ngrams !== 2) throw specError(space, 'params.ngrams', 'must be 1 or 2.', ngrams);
  if (typeof sublinear !== 'boolean')
    throw specError(space, 'params.sublinear', 'must be a boolean.', sublinear);
  return { seed, ngrams, sublinear };
}

/**
 * Encodes texts into hashed vectors. Not re-entrant (it reuses its term-count table), which is fine: an
 * `encode` call never yields.
 */
export class HashingEncoder {
  readonly #dimension: number;
  readonly #normalize: boolean;
  readonly #bigrams: boolean;
  readonly #sublinear: boolean;
  readonly #basis: number;
  // Sublinear tf needs counts per distinct feature: an open-addressing table keyed by the 32-bit hash,
  // cleared in O(1) by bumping a generation stamp.
  #keys = new Int32Array(1024);
  #counts = new Int32Array(1024);
  #stamps = new Int32Array(1024);
  #used = new Int32Array(1024);
  #usedCount = 0;
  #generation = 0;

  constructor(dimension: number, params: HashingParams, normalize: boolean) {
    this.#dimension = dimension;
    this.#normalize = normalize;
    this.#bigrams = params.ngrams === 2;
    this.#sublinear = params.sublinear;
    let h = FNV_BASIS;
    for (let b = 0; b < 4; b++) h = Math.imul(h ^ ((params.seed >>> (8 * b)) & 0xff), FNV_PRIME);
    this.#basis = h;
  }

  encode(text: string): Float32Array {
    const out = new Float32Array(this.#dimension);
    const s = text.toLowerCase();
    if (this.#sublinear) this.#reset(s.length);
    const basis = this.#basis;
    const bigrams = this.#bigrams;
    let h = basis;
    let bh = 0;
    let prev = 0;
    let hasPrev = false;
    let inToken = false;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      let cp = s.charCodeAt(i);
      let word: boolean;
      if (cp < 128) {
        word = (cp >= 97 && cp <= 122) || (cp >= 48 && cp <= 57);
      } else if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        cp = ((cp - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00) + 0x10000;
        word = isWordCodePoint(cp);
        i++;
      } else {
        word = isWordCodeUnit(cp);
      }
      if (word) {
        if (!inToken) {
          inToken = true;
          h = basis;
          if (bigrams && hasPrev) bh = Math.imul(prev ^ 0x20, FNV_PRIME);
        }
        if (cp < 0x80) {
          h = Math.imul(h ^ cp, FNV_PRIME);
          if (bigrams) bh = Math.imul(bh ^ cp, FNV_PRIME);
        } else {
          h = fnvCodePoint(h, cp);
          if (bigrams) bh = fnvCodePoint(bh, cp);
        }
      } else if (inToken) {
        inToken = false;
        this.#add(out, h);
        if (bigrams && hasPrev) this.#add(out, bh);
        prev = h;
        hasPrev = true;
      }
    }
    if (inToken) {
      this.#add(out, h);
      if (bigrams && hasPrev) this.#add(out, bh);
    }
    if (this.#sublinear) this.#flushSublinear(out);
    if (this.#normalize) normalize(out);
    return out;
  }

  #add(out: Float32Array, raw: number): void {
    const f = fmix32(raw);
    if (this.#sublinear) {
      this.#count(f);
      return;
    }
    const index = (f & 0x7fffffff) % this.#dimension;
    out[index] = (out[index] as number) + (f < 0 ? -1 : 1);
  }

  #reset(length: number): void {
    // Distinct features <= unigrams + bigrams <= length + 1; keep the table at most half full.
    let capacity = this.#keys.length;
    while (capacity < 2 * (length + 2)) capacity *= 2;
    if (capacity !== this.#keys.length) {
      this.#keys = new Int32Array(capacity);
      this.#counts = new Int32Array(capacity);
      this.#stamps = new Int32Array(capacity);
      this.#used = new Int32Array(capacity);
      this.#generation = 0;
    }
    this.#generation = (this.#generation + 1) | 0;
    if (this.#generation === 0) {
      this.#stamps.fill(0);
      this.#generation = 1;
    }
    this.#usedCount = 0;
  }

  #count(f: number): void {
    const mask = this.#keys.length - 1;
    const gen = this.#generation;
    let slot = f & mask;
    while (this.#stamps[slot] === gen) {
      if (this.#keys[slot] === f) {
        this.#counts[slot] = (this.#counts[slot] as number) + 1;
        return;
      }
      slot = (slot + 1) & mask;
    }
    this.#stamps[slot] = gen;
    this.#keys[slot] = f;
    this.#counts[slot] = 1;
    this.#used[this.#usedCount++] = slot;
  }

  #flushSublinear(out: Float32Array): void {
    for (let u = 0; u < this.#usedCount; u++) {
      const slot = this.#used[u] as number;
      const f = this.#keys[slot] as number;
      const weight = 1 + Math.log(this.#counts[slot] as number);
      const index = (f & 0x7fffffff) % this.#dimension;
      out[index] = (out[index] as number) + (f < 0 ? -weight : weight);
    }
  }
}

function fnvCodePoint(h: number, cp: number): number {
  if (cp < 0x800) {
    h = Math.imul(h ^ (0xc0 | (cp >> 6)), FNV_PRIME);
  } else {
    if (cp < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (cp >> 12)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
    }
    h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
  }
  return Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
}

/** murmur3's 32-bit finaliser; returns a signed 32-bit integer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function normalize(v: Float32Array): void {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += (v[i] as number) * (v[i] as number);
  if (sum === 0) return;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * inv;
}

/** The hashing `Embedder` of a space whose provider is `hashing`. */
export function createHashingEmbedder(space: Space): Embedder {
  const encoder = new HashingEncoder(
    space.spec.dimension,
    hashingParamsOf(space),
    space.spec.normalization === 'l2',
  );
  return localEmbedder(space, (text) => encoder.encode(text));
}

export interface HashingSpaceOptions
  extends Partial<Omit<SpaceSpecInput, 'provider' | 'model' | 'dimension' | 'params'>> {
  readonly dimension: number;
  readonly seed?: number;
  readonly ngrams?: 1 | 2;
  readonly sublinear?: boolean;
}

/**
 * A hashing space with every param spelled out (so the fingerprint shows them).
 *
 * @example
 * const v1 = hashingSpace('hashing-v1', { dimension: 384 });
 * const v2 = hashingSpace('hashing-v2', { dimension: 384, ngrams: 2, sublinear: true });
 */
export function hashingSpace(name: string, options: HashingSpaceOptions): Space {
  const { seed = 0, ngrams = 1, sublinear = false, ...rest } = options;
  return defineSpace(name, {
    revision: '1',
    ...rest,
    provider: 'hashing',
    model: 'fnv1a-signed',
    params: { seed, ngrams, sublinear },
  });
}
