import { contentHash } from '../../core/canonical.js';
import { ReembedError } from '../../core/errors.js';
import type { SourceDelete } from '../../core/records.js';
import { normalizeInPlace } from '../../core/vector.js';
import type { CheckpointWrite } from '../../ports/vector-store.js';
import type { CheckedWrite } from '../shared/write-validation.js';
import { encodeIntArray, encodeTextArray, encodeVectorArray, INT4_OID, INT8_OID } from './codec.js';

/**
 * Pure preparation of a versioned write: the batch is split into rounds with unique source ids (the same
 * source twice in one call is applied in call order, like sequential writes), sorted by source id so
 * concurrent writers lock heads in one order and cannot deadlock, and turned into the parallel arrays the
 * `unnest` statements take.
 */
export function rounds<T extends { readonly sourceId: string }>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const round = seen.get(item.sourceId) ?? 0;
    seen.set(item.sourceId, round + 1);
    let bucket = out[round];
    if (!bucket) {
      bucket = [];
      out[round] = bucket;
    }
    bucket.push(item);
  }
  for (const bucket of out) bucket.sort((a, b) => compare(a.sourceId, b.sourceId));
  return out;
}

/** Any total order works for deadlock avoidance, as long as every writer uses the same one. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Heads gate parameters: $1 ids, $2 versions, $3 hashes (NULL = tombstone), $4 deleted flags. */
export function headParams(
  items: readonly { sourceId: string; sourceVersion: number; contentHash: string | null }[],
) {
  return [
    encodeTextArray(items.map((i) => i.sourceId)),
    encodeIntArray(
      items.map((i) => i.sourceVersion),
      INT8_OID,
    ),
    encodeTextArray(items.map((i) => i.contentHash)),
    items.map((i) => i.contentHash === null),
  ];
}

export interface RoundWrite {
  readonly sourceId: string;
  readonly sourceVersion: number;
  readonly contentHash: string;
  readonly checked: CheckedWrite;
}

export function roundWrites(checked: readonly CheckedWrite[]): RoundWrite[][] {
  return rounds(
    checked.map((c) => ({
      sourceId: c.write.sourceId,
      sourceVersion: c.write.sourceVersion,
      contentHash: c.write.contentHash,
      checked: c,
    })),
  );
}

export function roundDeletes(deletes: readonly SourceDelete[]) {
  return rounds(
    deletes.map((d) => ({ sourceId: d.sourceId, sourceVersion: d.sourceVersion, contentHash: null })),
  );
}

/**
 * Parameters of `insertRecordsSql` for the winning writes, or null when they hold no chunks.
 * `records` is how many rows the statement inserts.
 */
export function recordParams(
  winners: readonly RoundWrite[],
  fingerprint: string,
  embeddedAt: string,
  vectorOid: number,
  normalize: boolean,
): { params: unknown[]; records: number } | null {
  let records = 0;
  for (const w of winners) records += w.checked.write.chunks.length;
  if (records === 0) return null;
  return { params: [...chunkParams(winners, vectorOid, normalize), fingerprint, embeddedAt], records };
}

/**
 * The per-chunk parameters, in the order of `insertRecordsSql` and of `writeSql`'s chunk arrays: source
 * ids, chunk indexes, record ids, content hashes, versions, tenants, metadata JSON, texts, vectors — text
 * and integer arrays and vectors in binary. A source's values repeat for each of its chunks (its metadata
 * serialised once). With `perSource` (the gate's encoded ids, versions and hashes) and one chunk per
 * source, those columns are the per-source ones, not encoded again. With `textOfSource` (a collection),
 * the text of a write whose `textOfSource` names it is NULL: `writeSql` copies it from the source row.
 */
function chunkParams(
  writes: readonly RoundWrite[],
  vectorOid: number,
  normalize: boolean,
  perSource?: { readonly ids: Buffer; readonly versions: Buffer; readonly hashes: Buffer },
  textOfSource?: TextOfSource,
): unknown[] {
  const sourceIds: string[] = [];
  const indexes: number[] = [];
  const recordIds: string[] = [];
  const hashes: string[] = [];
  const versions: number[] = [];
  const tenants: (string | null)[] = [];
  const metadata: string[] = [];
  const texts: (string | null)[] = [];
  const vectors: Float32Array[] = [];
  let oneChunkEach = true;
  for (const w of writes) {
    const { write, vectors: checkedVectors } = w.checked;
    if (write.chunks.length !== 1) oneChunkEach = false;
    const meta = JSON.stringify(write.metadata);
    const fromSource = textOfSource?.writes.has(w) === true;
    write.chunks.forEach((chunk, j) => {
      sourceIds.push(write.sourceId);
      indexes.push(chunk.index);
      recordIds.push(chunk.chunkId);
      hashes.push(write.contentHash);
      versions.push(write.sourceVersion);
      tenants.push(write.tenant);
      metadata.push(meta);
      texts.push(fromSource ? null : chunk.text);
      vectors.push(checkedVectors[j] as Float32Array);
    });
  }
  const reuse = oneChunkEach ? perSource : undefined;
  return [
    reuse?.ids ?? encodeTextArray(sourceIds),
    encodeIntArray(indexes, INT4_OID),
    encodeTextArray(recordIds),
    reuse?.hashes ?? encodeTextArray(hashes),
    reuse?.versions ?? encodeIntArray(versions, INT8_OID),
    encodeTextArray(tenants),
    encodeTextArray(metadata),
    encodeTextArray(texts),
    encodeVectorArray(vectors, vectorOid, { normalize }),
  ];
}

/** What `writeSql` needs besides the writes: the guard's expected descriptor and the record provenance. */
export interface WriteStatementContext {
  readonly namespace: string;
  readonly fingerprint: string;
  readonly dimension: number;
  readonly embeddedAt: string;
  readonly vectorOid: number;
  /** Cosine namespaces store unit vectors. */
  readonly normalize: boolean;
  readonly checkpoint?: CheckpointWrite;
  /** Writes whose text is copied from their source rows in a collection (see `writeSql`, `textOfSourceOf`). */
  readonly textOfSource?: TextOfSource;
}

/** Writes of a round whose one chunk is their source document's text, and the collection of those sources. */
export interface TextOfSource {
  readonly collection: string;
  readonly writes: ReadonlySet<RoundWrite>;
}

/**
 * Parameters of `writeSql` for one round (unique source ids, sorted), in the order it documents: the
 * gate's per-source ids, versions and hashes, the per-chunk arrays (`chunkParams`), then the context; the
 * checkpoint parameters only with a checkpoint.
 */
export function writeStatementParams(
  round: readonly RoundWrite[],
  context: WriteStatementContext,
): unknown[] {
  const { namespace, fingerprint, dimension, embeddedAt, vectorOid, normalize, checkpoint, textOfSource } =
    context;
  const perSource = {
    ids: encodeTextArray(round.map((w) => w.sourceId)),
    versions: encodeIntArray(
      round.map((w) => w.sourceVersion),
      INT8_OID,
    ),
    hashes: encodeTextArray(round.map((w) => w.contentHash)),
  };
  const params: unknown[] = [
    perSource.ids,
    perSource.versions,
    perSource.hashes,
    ...chunkParams(round, vectorOid, normalize, perSource, textOfSource),
    namespace,
    fingerprint,
    dimension,
    embeddedAt,
  ];
  if (checkpoint) params.push(checkpoint.jobId, checkpoint.cursor, checkpoint.processed);
  if (textOfSource !== undefined) params.push(textOfSource.collection);
  return params;
}

/**
 * The writes of a round whose text this backend need not send (`writeSql` copies it from the source row):
 * one chunk whose text is the source document's own text at the written version, recognised by its content
 * hash (`contentHash(text, metadata)` equals the write's), so no caller has to mark it. The sources are
 * those of the namespace's collection (`<collection>@<space>`). Undefined when no write qualifies: every
 * text is then sent, the plain path. A source row that moved on since is detected by `writeSql`, and the
 * texts are sent instead.
 */
export function textOfSourceOf(namespace: string, round: readonly RoundWrite[]): TextOfSource | undefined {
  const at = namespace.indexOf('@');
  if (at <= 0) return undefined;
  const writes = new Set<RoundWrite>();
  for (const w of round) {
    const { write } = w.checked;
    const [chunk] = write.chunks;
    if (write.chunks.length === 1 && chunk && contentHash(chunk.text, write.metadata) === write.contentHash)
      writes.add(w);
  }
  return writes.size > 0 ? { collection: namespace.slice(0, at), writes } : undefined;
}

/** A normalised copy (the caller's vector is never modified); a zero vector stays zero. */
export function unitCopy(vector: Float32Array): Float32Array {
  return normalizeInPlace(Float32Array.from(vector));
}

/** Refuses what PostgreSQL cannot store before a transaction opens: NUL characters and repeated chunk indexes. */
export function checkStorable(namespace: string, checked: readonly CheckedWrite[]): void {
  checked.forEach(({ write }, i) => {
    // Only a source of several chunks can repeat an index.
    const indexes = write.chunks.length > 1 ? new Set<number>() : null;
    write.chunks.forEach((chunk, j) => {
      if (indexes?.has(chunk.index)) {
        throw storable(
          namespace,
          i,
          `chunks[${j}].index`,
          `${chunk.index} is used twice in source "${write.sourceId}"`,
        );
      }
      indexes?.add(chunk.index);
      if (chunk.text.includes('\u0000') || chunk.chunkId.includes('\u0000')) {
        throw storable(
          namespace,
          i,
          `chunks[${j}].text`,
          'contains a NUL character, which PostgreSQL text cannot store',
        );
      }
    });
    if (write.sourceId.includes('\u0000') || JSON.stringify(write.metadata).includes('\\u0000')) {
      throw storable(
        namespace,
        i,
        'sourceId',
        'or metadata contains a NUL character, which PostgreSQL cannot store',
      );
    }
  });
}

function storable(namespace: string, index: number, field: string, problem: string): ReembedError {
  return new ReembedError('INVALID_INPUT', `Write to ${namespace}, item ${index}: ${field} ${problem}.`, {
    details: { namespace, index, field },
  });
}
