/** One stored record with its vector, as a vector reader returns it. */
export interface StoredRecord {
  readonly sourceId: string;
  readonly chunkId: string;
  readonly chunkIndex: number;
  readonly fingerprint: string;
  readonly contentHash: string;
  readonly sourceVersion: number;
  readonly tenant: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly text: string;
  readonly vector: Float32Array;
}

/**
 * Reads stored vectors back: what an adapter is fitted on (the same documents in two namespaces) and what
 * a corpus bridge maps. Optional in a backend (absent: bridges are UNSUPPORTED there).
 */
export interface VectorReader {
  /** Records of the given sources (every chunk), in source-id then chunk order; absent sources are skipped. */
  read(namespace: string, sourceIds: readonly string[]): Promise<StoredRecord[]>;
  /** Records in source-id order after `afterId` (whole sources only: a page never splits a source). */
  scan(namespace: string, options: { afterId?: string; limit: number }): Promise<StoredRecord[]>;
}
