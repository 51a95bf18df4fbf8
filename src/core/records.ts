/**
 * Plain data shapes shared by the ports: source documents, per-namespace records, search hits.
 */

export type Metadata = Readonly<Record<string, unknown>>;

/** A retained source document (the source of truth every namespace is rebuilt from). */
export interface SourceDocument {
  readonly collection: string;
  readonly id: string;
  readonly text: string;
  readonly metadata: Metadata;
  readonly tenant: string | null;
  readonly contentHash: string;
  /** Monotonically increasing within the collection: every upsert or delete takes the next version. */
  readonly version: number;
  readonly deleted: boolean;
  readonly updatedAt: string;
}

/** What a caller hands to ingest. */
export interface SourceInput {
  readonly id: string;
  readonly text: string;
  readonly metadata?: Metadata;
  readonly tenant?: string | null;
}

/** One embedded chunk of a source document. */
export interface ChunkVector {
  /** `${sourceId}#${index}`; stable across re-embeds of the same version. */
  readonly chunkId: string;
  readonly index: number;
  readonly text: string;
  readonly vector: Float32Array;
}

/**
 * A versioned write of one source document into a namespace: replaces every record of the source
 * if, and only if, `sourceVersion` is newer than what the namespace holds (invariant 4).
 */
export interface SourceWrite {
  readonly sourceId: string;
  readonly sourceVersion: number;
  readonly contentHash: string;
  readonly tenant: string | null;
  readonly metadata: Metadata;
  readonly chunks: readonly ChunkVector[];
}

/** The write of `chunks` as the given version of a source document (the fields a namespace keeps per source). */
export function sourceWriteOf(
  doc: Pick<SourceDocument, 'id' | 'version' | 'contentHash' | 'tenant' | 'metadata'>,
  chunks: readonly ChunkVector[],
): SourceWrite {
  return {
    sourceId: doc.id,
    sourceVersion: doc.version,
    contentHash: doc.contentHash,
    tenant: doc.tenant,
    metadata: doc.metadata,
    chunks,
  };
}

/** A delete of one source document at a version: leaves a tombstone so older writes cannot resurrect it. */
export interface SourceDelete {
  readonly sourceId: string;
  readonly sourceVersion: number;
}

/** Provenance carried by every record (and returned with every hit). */
export interface Provenance {
  readonly fingerprint: string;
  readonly sourceId: string;
  readonly chunkId: string;
  readonly contentHash: string;
  readonly sourceVersion: number;
  readonly embeddedAt: string;
}

export interface SearchHit {
  readonly sourceId: string;
  readonly chunkId: string;
  readonly score: number;
  readonly text: string;
  readonly metadata: Metadata;
  readonly tenant: string | null;
  readonly provenance: Provenance;
}

/**
 * Filters: `tenant` matches exactly; `metadata` is an AND of equality (or `$in` lists) on top-level keys.
 * Every store must support both (they are part of the conformance suite).
 */
export interface SearchFilter {
  readonly tenant?: string;
  readonly metadata?: Readonly<
    Record<string, string | number | boolean | { $in: readonly (string | number | boolean)[] }>
  >;
}

/** What a namespace holds for one source: its newest version, and whether that version is a delete. */
export interface SourceHead {
  readonly sourceId: string;
  readonly sourceVersion: number;
  readonly contentHash: string | null;
  readonly deleted: boolean;
}

export interface WriteResult {
  /** Sources whose records were replaced. */
  readonly written: number;
  /** Sources skipped because the namespace already holds that version or a newer one. */
  readonly skipped: number;
  readonly records: number;
}

export interface NamespaceStats {
  readonly records: number;
  /** Live sources (with at least one record, not tombstoned). */
  readonly sources: number;
  readonly tombstones: number;
  /** Count of records by fingerprint: must be exactly one key equal to the namespace's (invariant 1). */
  readonly fingerprints: Readonly<Record<string, number>>;
  /** Count of stored vectors by length; more than one key, or a key other than the space's dimension, is corruption. */
  readonly dimensions: Readonly<Record<string, number>>;
}
