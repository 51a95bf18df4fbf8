/**
 * The peer's verification, for reembed: after a phase (untimed) the serving namespace holds exactly the
 * live documents, sampled documents retrieve themselves at rank 1 through the alias, and old versions of
 * changed documents and deleted documents are no longer returned verbatim.
 */
import type { Reembed } from '../src/app/reembed.js';
import { mulberry32 } from './workload.js';

export interface Probe {
  readonly id: string;
  readonly text: string;
  readonly kind?: string;
}

/** The peer's `pick`: k distinct elements by a seeded mulberry32, so both sides check the same documents. */
export function pick<T>(arr: readonly T[], k: number, seed: number): T[] {
  const rng = mulberry32(seed);
  const out: T[] = [];
  const used = new Set<number>();
  const want = Math.min(k, arr.length);
  while (out.length < want) {
    const i = Math.floor(rng() * arr.length);
    if (!used.has(i)) {
      used.add(i);
      out.push(arr[i] as T);
    }
  }
  return out;
}

export async function verify(app: Reembed, live: number, checks: readonly Probe[], absent: readonly Probe[]) {
  const alias = await app.backend.catalog.getAlias('docs');
  const serving = alias.routing.kind === 'single' ? alias.routing.namespace : alias.routing.primary;
  const stats = await app.backend.store.stats(serving);
  const sources = await app.backend.sources.count('docs');
  let hits = 0;
  const misses: unknown[] = [];
  for (const { id, text } of checks) {
    const got = (await app.search('docs', { text, k: 1 })).hits[0]?.sourceId ?? null;
    if (got === id) hits++;
    else misses.push({ want: id, got });
  }
  let stale = 0;
  const byKind: Record<string, { hits: number; of: number }> = {};
  for (const { id, text, kind = 'absent' } of absent) {
    const top = (await app.search('docs', { text, k: 1 })).hits[0];
    const entry = byKind[kind] ?? { hits: 0, of: 0 };
    byKind[kind] = entry;
    entry.of++;
    if (top && top.text === text) {
      stale++;
      entry.hits++;
      misses.push({ stale: id, kind });
    }
  }
  const countOk = stats.records === live && stats.sources === live && sources.live === live;
  const v: Record<string, unknown> = {
    namespace: serving,
    store_count: stats.records,
    record_count: sources.live,
    live_docs: live,
    tombstones: stats.tombstones,
    count_ok: countOk,
    rank1: `${hits}/${checks.length}`,
    stale_hits: `${stale}/${absent.length}`,
  };
  for (const [k, e] of Object.entries(byKind)) v[`stale_${k}`] = `${e.hits}/${e.of}`;
  if (misses.length) v.misses = misses.slice(0, 5);
  v.ok = countOk && hits === checks.length && stale === 0;
  return v;
}
