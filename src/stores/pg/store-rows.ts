import type { SearchHit, SourceHead } from '../../core/records.js';
import type { Metric } from '../../core/space.js';
import type { NamespaceDescriptor } from '../../ports/vector-store.js';
import { iso, num } from './pool.js';

/** Row shapes of the vector-store tables as `pg` returns them, and their mapping to domain values. */
export interface MetaRow {
  name: string;
  table_name: string;
  fingerprint: string;
  space_name: string;
  dimension: number;
  metric: Metric;
  hnsw_m: number;
  hnsw_ef_construction: number;
}

export interface HeadRow {
  source_id: string;
  source_version: string | number;
  content_hash: string | null;
  deleted: boolean;
}

export interface HitRow {
  source_id: string;
  record_id: string;
  text: string;
  metadata: Record<string, unknown> | null;
  tenant: string | null;
  fingerprint: string;
  content_hash: string;
  source_version: string | number;
  embedded_at: Date | string;
  score: number;
}

export function descriptorOf(row: MetaRow): NamespaceDescriptor {
  return Object.freeze({
    name: row.name,
    fingerprint: row.fingerprint,
    spaceName: row.space_name,
    dimension: num(row.dimension),
    metric: row.metric,
  });
}

export function headOf(row: HeadRow): SourceHead {
  return Object.freeze({
    sourceId: row.source_id,
    sourceVersion: num(row.source_version),
    contentHash: row.content_hash,
    deleted: row.deleted,
  });
}

export function hitOf(row: HitRow): SearchHit {
  return Object.freeze({
    sourceId: row.source_id,
    chunkId: row.record_id,
    score: num(row.score),
    text: row.text,
    metadata: Object.freeze({ ...(row.metadata ?? {}) }),
    tenant: row.tenant,
    provenance: Object.freeze({
      fingerprint: row.fingerprint,
      sourceId: row.source_id,
      chunkId: row.record_id,
      contentHash: row.content_hash,
      sourceVersion: num(row.source_version),
      embeddedAt: iso(row.embedded_at),
    }),
  });
}

/**
 * Best first, equal scores by chunk id — the embedded store's order, so results do not depend on the
 * backend. (An index scan returns ties in index order; the set of hits is unchanged by this sort.)
 */
export function sortTies(hits: SearchHit[]): SearchHit[] {
  return hits.sort(
    (a, b) => b.score - a.score || (a.chunkId < b.chunkId ? -1 : a.chunkId > b.chunkId ? 1 : 0),
  );
}
