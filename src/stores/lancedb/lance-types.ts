import type { Table as ArrowTable, Schema } from 'apache-arrow';

/**
 * The subset of `@lancedb/lancedb` this adapter uses, typed structurally (STYLE.md #2): the SDK is
 * imported lazily by `openLanceDbStore`, so importing reembed never loads the native module, and the
 * store depends on these few methods rather than on the SDK's classes.
 */
export type LanceDistanceType = 'cosine' | 'dot' | 'l2';

export interface LanceQueryLike {
  where(predicate: string): LanceQueryLike;
  select(columns: string[]): LanceQueryLike;
  limit(limit: number): LanceQueryLike;
  orderBy(ordering: { columnName: string; ascending: boolean; nullsFirst: boolean }): LanceQueryLike;
  withRowId(): LanceQueryLike;
  toArrow(): Promise<ArrowTable>;
}

export interface LanceVectorQueryLike {
  column(column: string): LanceVectorQueryLike;
  distanceType(distanceType: LanceDistanceType): LanceVectorQueryLike;
  bypassVectorIndex(): LanceVectorQueryLike;
  where(predicate: string): LanceVectorQueryLike;
  select(columns: string[]): LanceVectorQueryLike;
  limit(limit: number): LanceVectorQueryLike;
  toArrow(): Promise<ArrowTable>;
}

export interface LanceMergeResultLike {
  readonly version: number;
  readonly numInsertedRows: number;
  readonly numUpdatedRows: number;
}

export interface LanceMergeBuilderLike {
  whenMatchedUpdateAll(options?: { where: string }): LanceMergeBuilderLike;
  whenNotMatchedInsertAll(): LanceMergeBuilderLike;
  execute(data: ArrowTable): Promise<LanceMergeResultLike>;
}

export interface LanceTableLike {
  mergeInsert(on: string): LanceMergeBuilderLike;
  add(data: ArrowTable): Promise<{ readonly version: number }>;
  delete(predicate: string): Promise<unknown>;
  countRows(filter?: string): Promise<number>;
  query(): LanceQueryLike;
  vectorSearch(vector: Float32Array): LanceVectorQueryLike;
  createIndex(column: string, options?: { config?: unknown; replace?: boolean }): Promise<void>;
  optimize(options?: { cleanupOlderThan?: Date }): Promise<unknown>;
  version(): Promise<number>;
  schema(): Promise<Schema>;
  listIndices(): Promise<{ columns: string[] }[]>;
  setUnenforcedPrimaryKey(column: string): Promise<void>;
  close(): void;
}

export interface LanceConnectionLike {
  tableNames(options?: { startAfter?: string; limit?: number }): Promise<string[]>;
  openTable(name: string): Promise<LanceTableLike>;
  createEmptyTable(
    name: string,
    schema: Schema,
    options?: { mode?: 'create' | 'overwrite'; existOk?: boolean },
  ): Promise<LanceTableLike>;
  dropTable(name: string): Promise<void>;
  close(): void;
}

/** What the store needs from the module itself: a connection and index factories. */
export interface LanceModuleLike {
  connect(
    uri: string,
    options: { readConsistencyInterval?: number; storageOptions?: Record<string, string> },
  ): Promise<LanceConnectionLike>;
  readonly Index: { btree(): unknown; bitmap(): unknown };
}

/** The `apache-arrow` module (lazily imported too: it is LanceDB's data format, not reembed's). */
export type ArrowModule = typeof import('apache-arrow');
