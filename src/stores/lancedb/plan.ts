import type { SourceDelete, SourceHead } from '../../core/records.js';
import type { CheckedWrite } from '../shared/write-validation.js';
import { chunkKey, headKey, type RowKind } from './schema.js';
import { metadataTokens } from './sql.js';

/** One row of the records table as the store writes it (see `schema.ts` for the row kinds). */
export interface PlannedRow {
  readonly key: string;
  readonly kind: RowKind;
  readonly sourceId: string;
  readonly recordId: string | null;
  readonly chunkIndex: number | null;
  readonly fingerprint: string;
  readonly contentHash: string | null;
  readonly sourceVersion: number;
  readonly embeddedAt: string;
  readonly tenant: string | null;
  readonly metadata: string;
  readonly metaKv: readonly string[];
  readonly text: string;
  readonly deleted: boolean;
  readonly chunkCount: number;
  readonly vector: Float32Array | null;
}

/** What the namespace holds for one source before the call: its head and the keys of its chunk rows. */
export interface StoredSource {
  readonly head: SourceHead | null;
  readonly chunkKeys: readonly string[];
}

export type PlanItem =
  | { readonly op: 'write'; readonly checked: CheckedWrite }
  | { readonly op: 'delete'; readonly item: SourceDelete };

export interface WritePlan {
  /** Rows for one `mergeInsert`: per changed source its head, its new chunks and its retired chunks. */
  readonly rows: PlannedRow[];
  readonly written: number;
  readonly skipped: number;
  /** Writes: records written. Deletes: records removed. */
  readonly records: number;
  /** The version each changed source ends at: what a reconcile after a lost race checks. */
  readonly versions: ReadonlyMap<string, number>;
  readonly retired: number;
}

interface Current {
  version: number;
  chunks: number;
  last: PlanItem | null;
}

/**
 * Plans a versioned call as if its items ran one after another (the same source twice is applied in
 * call order): an item is applied only when its version is newer than what the namespace holds
 * (invariant 4) — a tombstone counts as held, so nothing older comes back (invariant 5). Only the last
 * applied item of each source is materialised, as rows a single conditional `mergeInsert` commits.
 */
export function planWrite(
  items: readonly PlanItem[],
  stored: ReadonlyMap<string, StoredSource>,
  fingerprint: string,
  embeddedAt: string,
): WritePlan {
  const current = new Map<string, Current>();
  let written = 0;
  let records = 0;
  for (const item of items) {
    const sourceId = item.op === 'write' ? item.checked.write.sourceId : item.item.sourceId;
    const version = item.op === 'write' ? item.checked.write.sourceVersion : item.item.sourceVersion;
    let state = current.get(sourceId);
    if (!state) {
      const s = stored.get(sourceId);
      state = { version: s?.head?.sourceVersion ?? 0, chunks: s?.chunkKeys.length ?? 0, last: null };
      current.set(sourceId, state);
    }
    if (version <= state.version) continue;
    written += 1;
    const chunks = item.op === 'write' ? item.checked.write.chunks.length : 0;
    records += item.op === 'write' ? chunks : state.chunks;
    state.version = version;
    state.chunks = chunks;
    state.last = item;
  }
  const rows: PlannedRow[] = [];
  const versions = new Map<string, number>();
  let retired = 0;
  for (const [sourceId, state] of current) {
    if (!state.last) continue;
    versions.set(sourceId, state.version);
    retired += materialise(state.last, stored.get(sourceId)?.chunkKeys ?? [], fingerprint, embeddedAt, rows);
  }
  return { rows, written, skipped: items.length - written, records, versions, retired };
}

/** One row; every row has the same shape (one hidden class), which keeps a batch of thousands cheap. */
function row(
  key: string,
  kind: RowKind,
  sourceId: string,
  sourceVersion: number,
  fingerprint: string,
  embeddedAt: string,
  fields: Partial<PlannedRow>,
): PlannedRow {
  return {
    key,
    kind,
    sourceId,
    recordId: fields.recordId ?? null,
    chunkIndex: fields.chunkIndex ?? null,
    fingerprint,
    contentHash: fields.contentHash ?? null,
    sourceVersion,
    embeddedAt,
    tenant: fields.tenant ?? null,
    metadata: fields.metadata ?? '{}',
    metaKv: fields.metaKv ?? [],
    text: fields.text ?? '',
    deleted: fields.deleted ?? false,
    chunkCount: fields.chunkCount ?? 0,
    vector: fields.vector ?? null,
  };
}

/** Appends a source's rows to `out`: its head, its chunks, and its stored chunks retired; returns how many retired. */
function materialise(
  item: PlanItem,
  storedKeys: readonly string[],
  fingerprint: string,
  embeddedAt: string,
  out: PlannedRow[],
): number {
  const isWrite = item.op === 'write';
  const sourceId = isWrite ? item.checked.write.sourceId : item.item.sourceId;
  const version = isWrite ? item.checked.write.sourceVersion : item.item.sourceVersion;
  const at = (key: string, kind: RowKind, fields: Partial<PlannedRow>): PlannedRow =>
    row(key, kind, sourceId, version, fingerprint, embeddedAt, fields);
  const kept = new Set<string>();
  if (isWrite) {
    const { write, vectors } = item.checked;
    const metadata = JSON.stringify(write.metadata);
    const metaKv = metadataTokens(write.metadata);
    const { contentHash, tenant } = write;
    out.push(
      at(headKey(sourceId), 'head', { contentHash, tenant, metadata, chunkCount: write.chunks.length }),
    );
    write.chunks.forEach((chunk, j) => {
      const key = chunkKey(sourceId, chunk.chunkId);
      kept.add(key);
      out.push(
        at(key, 'chunk', {
          recordId: chunk.chunkId,
          chunkIndex: chunk.index,
          contentHash,
          tenant,
          metadata,
          metaKv,
          text: chunk.text,
          vector: vectors[j] ?? null,
        }),
      );
    });
  } else {
    out.push(at(headKey(sourceId), 'head', { deleted: true }));
  }
  let retired = 0;
  for (const key of storedKeys) {
    if (kept.has(key)) continue;
    out.push(at(key, 'retired', {}));
    retired += 1;
  }
  return retired;
}
