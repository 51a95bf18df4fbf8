import { ReembedError } from '../../core/errors.js';
import type { ChunkVector, SourceDelete, SourceWrite } from '../../core/records.js';
import { METRICS } from '../../core/space.js';
import { toFloat32, validateVector } from '../../core/vector.js';
import type { CheckpointWrite, NamespaceDescriptor } from '../../ports/vector-store.js';

/**
 * Pure checks a store runs before it opens a transaction, so a bad item refuses the whole call and
 * nothing is written (invariant 1 and the "nothing partial" rule).
 */
export function checkDescriptor(descriptor: NamespaceDescriptor, maxDimension: number): void {
  const d = descriptor as Partial<NamespaceDescriptor>;
  const fail = (field: string, problem: string): never => {
    throw new ReembedError('INVALID_INPUT', `Namespace descriptor: ${field} ${problem}.`, {
      details: { field },
    });
  };
  if (typeof d.name !== 'string' || d.name.length === 0) fail('name', 'must be a non-empty string');
  if (typeof d.fingerprint !== 'string' || d.fingerprint.length === 0)
    fail('fingerprint', 'must be a non-empty string');
  if (typeof d.spaceName !== 'string' || d.spaceName.length === 0)
    fail('spaceName', 'must be a non-empty string');
  if (
    !Number.isInteger(d.dimension) ||
    (d.dimension as number) < 1 ||
    (d.dimension as number) > maxDimension
  ) {
    fail('dimension', `must be an integer between 1 and ${maxDimension}`);
  }
  if (!(METRICS as readonly string[]).includes(d.metric as string))
    fail('metric', `must be one of ${METRICS.join(', ')}`);
}

/** A write whose vectors are validated and converted to Float32Array. */
export interface CheckedWrite {
  readonly write: SourceWrite;
  readonly vectors: readonly Float32Array[];
}

/**
 * Checks a write call's items and returns their vectors as Float32Array. With `prevalidated` (the caller
 * validated every vector's values, see `WriteOptions`), each vector must still be a Float32Array of the
 * namespace's dimension, but its components are not read again.
 */
export function checkWrites(
  namespace: string,
  writes: readonly SourceWrite[],
  dimension: number,
  options: { readonly prevalidated?: boolean } = {},
): CheckedWrite[] {
  if (!Array.isArray(writes)) throw itemError(namespace, -1, 'writes', 'must be an array');
  const prevalidated = options.prevalidated === true;
  /** chunkId → sourceId: record ids are unique per namespace, so two sources may not share one. */
  const owners = new Map<string, string>();
  return writes.map((write, i) => {
    checkSourceRef(namespace, i, write);
    if (typeof write.contentHash !== 'string' || write.contentHash.length === 0) {
      throw itemError(namespace, i, 'contentHash', 'must be a non-empty string');
    }
    if (write.tenant !== null && typeof write.tenant !== 'string') {
      throw itemError(namespace, i, 'tenant', 'must be a string or null');
    }
    const m = write.metadata as unknown;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      throw itemError(namespace, i, 'metadata', 'must be an object');
    }
    const chunks: readonly ChunkVector[] = write.chunks;
    if (!Array.isArray(chunks)) throw itemError(namespace, i, 'chunks', 'must be an array');
    // Chunk ids seen in this item (only needed when it has several chunks).
    const own = chunks.length > 1 ? new Set<string>() : null;
    const vectors = chunks.map((chunk, j) => {
      if (typeof chunk.chunkId !== 'string' || chunk.chunkId.length === 0) {
        throw itemError(namespace, i, `chunks[${j}].chunkId`, 'must be a non-empty string');
      }
      const owner = owners.get(chunk.chunkId);
      if (own?.has(chunk.chunkId) || (owner !== undefined && owner !== write.sourceId)) {
        throw itemError(
          namespace,
          i,
          `chunks[${j}].chunkId`,
          `"${chunk.chunkId}" is used twice; chunk ids must be unique`,
        );
      }
      own?.add(chunk.chunkId);
      owners.set(chunk.chunkId, write.sourceId);
      if (!Number.isInteger(chunk.index) || chunk.index < 0) {
        throw itemError(namespace, i, `chunks[${j}].index`, 'must be a non-negative integer');
      }
      if (typeof chunk.text !== 'string')
        throw itemError(namespace, i, `chunks[${j}].text`, 'must be a string');
      if (!chunk.vector || typeof chunk.vector.length !== 'number') {
        throw itemError(namespace, i, `chunks[${j}].vector`, 'must be a Float32Array');
      }
      if (prevalidated && chunk.vector instanceof Float32Array && chunk.vector.length === dimension) {
        return chunk.vector;
      }
      validateVector(
        chunk.vector,
        dimension,
        `write to ${namespace}: source ${i} ("${write.sourceId}") chunk ${j}`,
      );
      return toFloat32(chunk.vector);
    });
    return { write, vectors };
  });
}

export function checkDeletes(namespace: string, deletes: readonly SourceDelete[]): void {
  if (!Array.isArray(deletes)) throw itemError(namespace, -1, 'deletes', 'must be an array');
  deletes.forEach((d, i) => {
    checkSourceRef(namespace, i, d);
  });
}

function checkSourceRef(
  namespace: string,
  i: number,
  ref: { sourceId: unknown; sourceVersion: unknown },
): void {
  if (ref === null || typeof ref !== 'object') throw itemError(namespace, i, 'item', 'must be an object');
  if (typeof ref.sourceId !== 'string' || ref.sourceId.length === 0) {
    throw itemError(namespace, i, 'sourceId', 'must be a non-empty string');
  }
  if (!Number.isSafeInteger(ref.sourceVersion) || (ref.sourceVersion as number) < 1) {
    throw itemError(namespace, i, 'sourceVersion', 'must be a positive integer (the source version)');
  }
}

function itemError(namespace: string, index: number, field: string, problem: string): ReembedError {
  const where = index >= 0 ? `item ${index}` : 'request';
  return new ReembedError('INVALID_INPUT', `Write to ${namespace}, ${where}: ${field} ${problem}.`, {
    details: { namespace, index, field },
  });
}

/** A backfill checkpoint written with a batch: a job id, a cursor and a processed count. */
export function checkCheckpoint(checkpoint: CheckpointWrite | undefined): void {
  if (checkpoint === undefined) return;
  const ok =
    typeof checkpoint.jobId === 'string' &&
    checkpoint.jobId.length > 0 &&
    typeof checkpoint.cursor === 'string' &&
    Number.isSafeInteger(checkpoint.processed) &&
    checkpoint.processed >= 0;
  if (!ok) {
    throw new ReembedError(
      'INVALID_INPUT',
      'Checkpoint needs a non-empty jobId, a string cursor and a non-negative integer processed count.',
      { details: { field: 'checkpoint' } },
    );
  }
}

/** Invariants 1 and 2: names both spaces (the incoming one by name when the catalog knows it). */
export function spaceMismatch(
  meta: { readonly name: string; readonly fingerprint: string; readonly space_name: string },
  fingerprint: string,
  incomingName: string | null | undefined,
  action: string,
): ReembedError {
  const incoming = incomingName ? `space ${incomingName} (${fingerprint})` : `space ${fingerprint}`;
  return new ReembedError(
    'SPACE_MISMATCH',
    `Refusing to ${action} namespace ${meta.name}: the vectors are from ${incoming} but the namespace holds space ${meta.space_name} (${meta.fingerprint}). Vectors of different spaces are not comparable, even at equal dimension; embed with the namespace's own space.`,
    {
      details: {
        namespace: meta.name,
        expected: meta.fingerprint,
        expectedSpace: meta.space_name,
        actual: fingerprint,
        actualSpace: incomingName ?? null,
      },
    },
  );
}
