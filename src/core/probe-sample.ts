import { ReembedError } from './errors.js';
import {
  MIN_PROBE_DOCUMENTS,
  MIN_PROBE_QUERIES,
  type ProbeDocument,
  type ProbeParams,
  type ProbeQuery,
  type ProbeSet,
  type ProbeSkipReason,
  probeQueryOf,
  probeSetValue,
} from './probe.js';
import { isContentWord, tokenPieces } from './probe-text.js';

/**
 * Draws a probe's documents from a stream of live documents in one pass and bounded memory: every document
 * gets a key from a hash of (seed, id), and the documents with the smallest keys are the sample. The
 * sample therefore depends on the seed and the collection only — not on scan order or page size — and
 * a collection that changed a little keeps most of its probe. Stratified by tenant: each tenant's share
 * of the queries follows its share of the documents, and every tenant with documents gets at least one
 * query while there are no more tenants than queries.
 *
 * @example
 * const sampler = new ProbeSampler(resolveProbeParams({ seed: 7 }));
 * for (const doc of docs) sampler.add(doc);
 * const probe = sampler.build('docs', 'docs');
 */
export class ProbeSampler {
  readonly #params: ProbeParams;
  readonly #pool: KeyedHeap;
  readonly #tenants = new Map<string, { live: number; best: KeyedHeap }>();
  #live = 0;

  constructor(params: ProbeParams) {
    this.#params = params;
    // Twice the size plus slack: some documents give no query (too short, no sentence) and are replaced.
    this.#pool = new KeyedHeap(params.size * 2 + 50);
  }

  get live(): number {
    return this.#live;
  }

  add(doc: ProbeDocument): void {
    this.#live++;
    const key = keyOf(this.#params.seed, doc.id);
    this.#pool.offer(key, doc);
    const tenant = doc.tenant ?? '';
    let t = this.#tenants.get(tenant);
    if (!t) {
      t = { live: 0, best: new KeyedHeap(3) };
      this.#tenants.set(tenant, t);
    }
    t.live++;
    t.best.offer(key, doc);
  }

  /**
   * Turns the sample into queries. `PROBE_UNAVAILABLE` when the collection is too small for a known-item
   * probe to mean anything, or when too few documents give a query (with the reasons counted).
   */
  build(name: string, collection: string): ProbeSet {
    const params = this.#params;
    if (this.#live < MIN_PROBE_DOCUMENTS) {
      throw new ReembedError(
        'PROBE_UNAVAILABLE',
        `Collection "${collection}" has ${this.#live} live document(s); a probe needs at least ${MIN_PROBE_DOCUMENTS} ` +
          '(with fewer, every space finds every document and a known-item probe measures nothing). ' +
          'Evaluate this collection with a judged golden set (--golden DIR|FILE|NAME).',
        {
          details: { collection, live: this.#live, needed: MIN_PROBE_DOCUMENTS, reason: 'too-few-documents' },
        },
      );
    }
    const candidates = new Map<string, { key: number; doc: ProbeDocument }>();
    for (const entry of this.#pool.entries()) candidates.set(entry.doc.id, entry);
    for (const t of this.#tenants.values())
      for (const entry of t.best.entries()) candidates.set(entry.doc.id, entry);
    const ordered = [...candidates.values()].sort((a, b) => a.key - b.key || (a.doc.id < b.doc.id ? -1 : 1));
    const idf = idfOf(ordered.map((c) => c.doc.text));
    const quota = quotas(
      params.size,
      [...this.#tenants].map(([tenant, t]) => [tenant, t.live]),
    );

    const picked: Omit<ProbeQuery, 'id'>[] = [];
    const used = new Set<string>();
    const skipped: Partial<Record<ProbeSkipReason, number>> = {};
    const cut = new Map<string, Omit<ProbeQuery, 'id'> | null>();
    const queryOf = (doc: ProbeDocument): Omit<ProbeQuery, 'id'> | null => {
      if (cut.has(doc.id)) return cut.get(doc.id) ?? null;
      const result = probeQueryOf(doc, params, drawOf(params.seed, doc.id), idf);
      const query = 'skipped' in result ? null : result;
      if ('skipped' in result) skipped[result.skipped] = (skipped[result.skipped] ?? 0) + 1;
      cut.set(doc.id, query);
      return query;
    };
    // First within each tenant's quota, then (if a tenant ran out of usable documents) from anyone.
    for (const pass of ['quota', 'fill'] as const) {
      for (const { doc } of ordered) {
        if (picked.length >= params.size) break;
        if (used.has(doc.id)) continue;
        const tenant = doc.tenant ?? '';
        if (pass === 'quota' && (quota.get(tenant) ?? 0) <= 0) continue;
        const query = queryOf(doc);
        if (!query) continue;
        used.add(doc.id);
        quota.set(tenant, (quota.get(tenant) ?? 0) - 1);
        picked.push(query);
      }
    }
    if (picked.length < MIN_PROBE_QUERIES) {
      const reasons = Object.entries(skipped)
        .map(([r, n]) => `${n} ${r}`)
        .join(', ');
      throw new ReembedError(
        'PROBE_UNAVAILABLE',
        `Only ${picked.length} of the sampled documents of "${collection}" gave a probe query (skipped: ${reasons || 'none'}); ` +
          `a probe needs at least ${MIN_PROBE_QUERIES}. Probe queries are cut from sentences of ${params.minWords}-${params.maxWords} words ` +
          `or spans of ${params.spanWords} content words, so very short documents give none. Evaluate this collection with a judged golden set (--golden).`,
        {
          details: {
            collection,
            queries: picked.length,
            needed: MIN_PROBE_QUERIES,
            skipped,
            reason: 'too-few-queries',
          },
        },
      );
    }
    const queries = picked.map((q, i) => Object.freeze({ id: `p${String(i + 1).padStart(4, '0')}`, ...q }));
    const tenants: Record<string, { live: number; queries: number }> = {};
    for (const [tenant, t] of [...this.#tenants].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      tenants[tenant] = { live: t.live, queries: 0 };
    for (const q of queries) (tenants[q.tenant ?? ''] as { queries: number }).queries++;
    return probeSetValue({
      name,
      collection,
      params,
      queries,
      population: { live: this.#live, tenants },
      skipped,
    });
  }
}

/**
 * Queries per tenant: proportional to its documents (largest remainders), at least one for every tenant
 * that has documents as long as tenants do not outnumber the queries, never more than `size` in total.
 */
export function quotas(size: number, tenants: readonly (readonly [string, number])[]): Map<string, number> {
  const live = tenants.reduce((s, [, n]) => s + n, 0);
  const out = new Map<string, number>();
  if (live === 0) return out;
  // Sorted by name first, and ties broken by name: the allocation must not depend on arrival order.
  const sorted = [...tenants].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const shares = sorted.map(([tenant, n]) => {
    const exact = (size * n) / live;
    return { tenant, n, base: Math.floor(exact), rest: exact - Math.floor(exact) };
  });
  let left = size - shares.reduce((s, x) => s + x.base, 0);
  for (const s of [...shares].sort(
    (a, b) => b.rest - a.rest || b.n - a.n || (a.tenant < b.tenant ? -1 : 1),
  )) {
    if (left <= 0) break;
    s.base++;
    left--;
  }
  if (sorted.length <= size) {
    // Lift every empty tenant to one query, taken from the tenants that hold the most.
    for (const s of shares.filter((x) => x.base === 0 && x.n > 0)) {
      const donor = shares.reduce((a, b) => (b.base > a.base ? b : a));
      if (donor.base <= 1) break;
      donor.base--;
      s.base = 1;
    }
  }
  for (const s of shares) out.set(s.tenant, Math.min(s.base, s.n));
  return out;
}

/** Inverse document frequency over the candidate documents, smoothed: `ln((n + 1) / (df + 1))`. */
function idfOf(texts: readonly string[]): (word: string) => number {
  const df = new Map<string, number>();
  for (const text of texts) {
    const seen = new Set<string>();
    for (const t of tokenPieces(text)) if (isContentWord(t.text)) seen.add(t.text);
    for (const w of seen) df.set(w, (df.get(w) ?? 0) + 1);
  }
  const n = texts.length;
  return (word) => Math.log((n + 1) / ((df.get(word) ?? 0) + 1));
}

/** 53-bit string hash (cyrb53): fast, well mixed, stable across platforms. */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

function keyOf(seed: number, id: string): number {
  return hash53(id, seed) / 2 ** 53;
}

/** The document's own random source: its query does not depend on which other documents were drawn. */
function drawOf(seed: number, id: string): () => number {
  let state = hash53(`draw\0${id}`, seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `capacity` entries with the smallest keys seen so far (a max-heap on key). */
class KeyedHeap {
  readonly #capacity: number;
  readonly #items: { key: number; doc: ProbeDocument }[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  offer(key: number, doc: ProbeDocument): void {
    const items = this.#items;
    if (items.length < this.#capacity) {
      items.push({ key, doc });
      this.#up(items.length - 1);
    } else if (items.length > 0 && key < (items[0] as { key: number }).key) {
      items[0] = { key, doc };
      this.#down(0);
    }
  }

  entries(): readonly { key: number; doc: ProbeDocument }[] {
    return this.#items;
  }

  #up(i: number): void {
    const items = this.#items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as { key: number }).key >= (items[i] as { key: number }).key) break;
      [items[parent], items[i]] = [
        items[i] as (typeof items)[number],
        items[parent] as (typeof items)[number],
      ];
      i = parent;
    }
  }

  #down(i: number): void {
    const items = this.#items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < items.length && (items[l] as { key: number }).key > (items[top] as { key: number }).key)
        top = l;
      if (r < items.length && (items[r] as { key: number }).key > (items[top] as { key: number }).key)
        top = r;
      if (top === i) return;
      [items[top], items[i]] = [items[i] as (typeof items)[number], items[top] as (typeof items)[number]];
      i = top;
    }
  }
}
