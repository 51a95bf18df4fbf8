import type { SearchHit, SourceHead } from '../../core/records.js';
import type { Metric } from '../../core/space.js';
import type { NamespaceDescriptor } from '../../ports/vector-store.js';
import { parseJsonObject } from '../shared/json.js';

/** Row shapes of the vector store tables and their mapping to port values. */
export interface MetaRow {
  name: string;
  fingerprint: string;
  space_name: string;
  dimension: number;
  metric: Metric;
  generation: number;
  /** When the namespace was created: a dropped and re-created namespace restarts its generations. */
  created_at: string;
  /** Records removed by writes over the namespace's life (replaced or deleted). */
  removed: number;
}

export interface HeadRow {
  source_id: string;
  source_version: number;
  content_hash: string | null;
  deleted: number;
}

export interface DetailRow {
  namespace: string;
  record_id: string;
  source_id: string;
  fingerprint: string;
  content_hash: string;
  source_version: number;
  embedded_at: string;
  tenant: string | null;
  metadata: string;
  text: string;
}

export function descriptorOf(row: MetaRow): NamespaceDescriptor {
  return Object.freeze({
    name: row.name,
    fingerprint: row.fingerprint,
    spaceName: row.space_name,
    dimension: row.dimension,
    metric: row.metric,
  });
}

export function headOf(row: HeadRow): SourceHead {
  return Object.freeze({
    sourceId: row.source_id,
    sourceVersion: row.source_version,
    contentHash: row.content_hash,
    deleted: row.deleted === 1,
  });
}

export function hitOf(chunkId: string, score: number, row: DetailRow): SearchHit {
  return Object.freeze({
    sourceId: row.source_id,
    chunkId,
    score,
    text: row.text,
    metadata: Object.freeze(parseJsonObject(row.metadata)),
    tenant: row.tenant,
    provenance: Object.freeze({
      fingerprint: row.fingerprint,
      sourceId: row.source_id,
      chunkId,
      contentHash: row.content_hash,
      sourceVersion: row.source_version,
      embeddedAt: row.embedded_at,
    }),
  });
}
