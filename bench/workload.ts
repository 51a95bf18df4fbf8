import { createHash } from 'node:crypto';

/**
 * The deterministic workload of the LangChain.js `index()` peer benchmark (../shared/peers/langchain-index,
 * README "Workload"): a seeded mulberry32 PRNG, a 5,000-word syllable vocabulary sampled by Zipf(1.0),
 * 96–144 words per document, 8 tenants, and a mutation plan (1% changed, 0.5% deleted). Rebuilt here from
 * that specification so both pipelines index byte-identical input; `sha256` must equal the peer's
 * `corpus_sha256` (20k → 1e97fa19d2347601…).
 */
export interface WorkloadDoc {
  readonly id: string;
  readonly tenant: string;
  readonly text: string;
}

export interface Workload {
  readonly docs: WorkloadDoc[];
  readonly changes: { id: string; text: string }[];
  readonly deletes: string[];
  readonly sha256: string;
}

export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vocabulary(size: number, rng: () => number): string[] {
  const consonants = 'bcdfghjklmnprstvwz';
  const vowels = 'aeiou';
  const seen = new Set<string>();
  const words: string[] = [];
  while (words.length < size) {
    const syllables = 2 + Math.floor(rng() * 3);
    let w = '';
    for (let i = 0; i < syllables; i++) {
      w += consonants[Math.floor(rng() * consonants.length)];
      w += vowels[Math.floor(rng() * vowels.length)];
    }
    if (rng() < 0.3) w += consonants[Math.floor(rng() * consonants.length)];
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return words;
}

function zipfSampler(size: number, s: number): (u: number) => number {
  const cdf = new Float64Array(size);
  let acc = 0;
  for (let r = 1; r <= size; r++) {
    acc += 1 / r ** s;
    cdf[r - 1] = acc;
  }
  for (let i = 0; i < size; i++) cdf[i] = (cdf[i] as number) / acc;
  return (u) => {
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** The text generator of a workload: `makeText(rng)` draws one document's words from the seeded vocabulary. */
function textMaker(seed: number, words: number): (rng: () => number) => string {
  const vocab = vocabulary(5000, mulberry32(seed ^ 0x9e3779b9));
  const zipf = zipfSampler(5000, 1.0);
  const lo = Math.max(1, Math.round(words * 0.8));
  const hi = Math.max(lo, Math.round(words * 1.2));
  return (rng) => {
    const len = lo + Math.floor(rng() * (hi - lo + 1));
    const out = new Array<string>(len);
    for (let i = 0; i < len; i++) out[i] = vocab[zipf(rng())] as string;
    return out.join(' ');
  };
}

/**
 * The workload's documents in order, `chunk` at a time: the same documents as `buildWorkload(n, seed, words)`
 * (the same PRNG draws), without holding every text in memory — 1,000,000 documents of ~120 words are about
 * 1 GB of strings, which would swamp the memory figure of a benchmark that ingests them.
 */
export function* workloadChunks(n: number, chunk: number, seed = 42, words = 120): Generator<WorkloadDoc[]> {
  const makeText = textMaker(seed, words);
  const rng = mulberry32(seed);
  let docs: WorkloadDoc[] = [];
  for (let i = 0; i < n; i++) {
    const id = `doc-${String(i).padStart(6, '0')}`;
    const tenant = `tenant-${Math.floor(rng() * 8)}`;
    docs.push({ id, tenant, text: makeText(rng) });
    if (docs.length === chunk) {
      yield docs;
      docs = [];
    }
  }
  if (docs.length > 0) yield docs;
}

export function buildWorkload(n: number, seed = 42, words = 120): Workload {
  const makeText = textMaker(seed, words);
  const docs: WorkloadDoc[] = [];
  for (const chunk of workloadChunks(n, 10_000, seed, words)) for (const d of chunk) docs.push(d);
  const mrng = mulberry32(seed + 1);
  const perm = Array.from({ length: n }, (_, i) => i);
  const nChange = Math.round(n * 0.01);
  const nDelete = Math.round(n * 0.005);
  for (let i = 0; i < nChange + nDelete; i++) {
    const j = i + Math.floor(mrng() * (n - i));
    [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
  }
  const trng = mulberry32(seed + 2);
  const changes = perm
    .slice(0, nChange)
    .sort((a, b) => a - b)
    .map((i) => ({ id: (docs[i] as WorkloadDoc).id, text: makeText(trng) }));
  const deletes = perm
    .slice(nChange, nChange + nDelete)
    .sort((a, b) => a - b)
    .map((i) => (docs[i] as WorkloadDoc).id);
  const h = createHash('sha256');
  for (const d of docs) h.update(`${d.id}\t${d.tenant}\t${d.text}\n`);
  for (const c of changes) h.update(`C\t${c.id}\t${c.text}\n`);
  for (const id of deletes) h.update(`D\t${id}\n`);
  return { docs, changes, deletes, sha256: h.digest('hex') };
}
