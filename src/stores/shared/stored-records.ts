import type { StoredRecord } from '../../ports/vector-reader.js';

/**
 * A record row as both SQL stores name its columns; the vector and the metadata come in each driver's
 * own form (`V`, `M`) and are decoded by the store.
 */
export interface StoredRecordRow<M, V> {
  source_id: string;
  record_id: string;
  chunk_index: number;
  fingerprint: string;
  content_hash: string;
  /** A bigint column comes back from `pg` as a string. */
  source_version: string | number;
  tenant: string | null;
  metadata: M;
  text: string;
  vector: V;
}

/** The record columns a vector reader selects, before the store's vector column (`vector` in the row). */
export const STORED_RECORD_COLUMNS =
  'source_id, record_id, chunk_index, fingerprint, content_hash, source_version, tenant, metadata, text';

/** A frozen `StoredRecord` of a row whose metadata and vector the store has decoded. */
export function storedRecordOf<M, V>(
  row: StoredRecordRow<M, V>,
  metadata: Readonly<Record<string, unknown>>,
  vector: Float32Array,
): StoredRecord {
  return Object.freeze({
    sourceId: row.source_id,
    chunkId: row.record_id,
    chunkIndex: row.chunk_index,
    fingerprint: row.fingerprint,
    contentHash: row.content_hash,
    sourceVersion: Number(row.source_version),
    tenant: row.tenant,
    metadata,
    text: row.text,
    vector,
  });
}
