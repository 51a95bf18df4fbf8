import type { SearchHit, SourceWrite } from '../core/records.js';
import { dot } from '../core/vector.js';
import type { Backend } from '../ports/backend.js';
import { embedSources } from './embed-sources.js';
import type { EmbedderCache } from './embedders.js';

/**
 * Sources the next namespace holds at least at the version the primary (always complete, it receives
 * every dual-write) holds: those are "migrated"; a stale record in the next namespace is not.
 */
export async function migratedSources(
  backend: Backend,
  primary: string,
  next: string,
  a: readonly SearchHit[],
  b: readonly SearchHit[],
): Promise<Set<string>> {
  const ids = [...new Set([...a, ...b].map((h) => h.sourceId))];
  const [primaryHeads, nextHeads] = await Promise.all([
    backend.store.heads(primary, ids),
    backend.store.heads(next, ids),
  ]);
  const migrated = new Set<string>();
  for (const id of ids) {
    const n = nextHeads.get(id);
    const p = primaryHeads.get(id);
    if (n && !n.deleted && (!p || n.sourceVersion >= p.sourceVersion)) migrated.add(id);
  }
  return migrated;
}

/**
 * Embed-on-read (lazy migrations): the primary's top hits that the next namespace does not hold yet are
 * embedded now in the next space and scored against the next-space query vector, so fusion can rank them
 * by the new model instead of by the old one. The writes are returned for observers (the lazy migration
 * writes them to the new namespace — re-embed on hit); the query path itself never writes, so an
 * evaluation (which has no observers) changes nothing.
 */
export async function embedOnRead(
  backend: Backend,
  embedders: EmbedderCache,
  collection: string,
  nextName: string,
  top: readonly SearchHit[],
  migrated: ReadonlySet<string>,
  queryVectors: ReadonlyMap<string, Float32Array>,
): Promise<{ hits: SearchHit[]; writes: SourceWrite[] } | null> {
  const ids = top.filter((h) => !migrated.has(h.sourceId)).map((h) => h.sourceId);
  if (ids.length === 0) return null;
  const ns = await backend.catalog.getNamespace(nextName);
  const query = queryVectors.get(ns.space.fingerprint);
  if (!query) return null;
  const docs = [...(await backend.sources.getMany(collection, ids)).values()].filter((d) => !d.deleted);
  const writes = await embedSources(await embedders.get(ns.space), docs);
  const l2 = ns.space.spec.metric === 'l2';
  const now = new Date().toISOString();
  const hits = writes.map((w): SearchHit => {
    let best = Number.NEGATIVE_INFINITY;
    let bestChunk = w.chunks[0];
    for (const c of w.chunks) {
      const score = l2 ? -squaredDistance(query, c.vector) : dot(query, c.vector);
      if (score > best) {
        best = score;
        bestChunk = c;
      }
    }
    const chunkId = bestChunk?.chunkId ?? `${w.sourceId}#0`;
    return {
      sourceId: w.sourceId,
      chunkId,
      score: best,
      text: bestChunk?.text ?? '',
      metadata: w.metadata,
      tenant: w.tenant,
      provenance: {
        fingerprint: ns.space.fingerprint,
        sourceId: w.sourceId,
        chunkId,
        contentHash: w.contentHash,
        sourceVersion: w.sourceVersion,
        embeddedAt: now,
      },
    };
  });
  return { hits, writes };
}

function squaredDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    sum += d * d;
  }
  return sum;
}
