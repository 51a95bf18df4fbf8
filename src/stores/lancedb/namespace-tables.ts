import type { Table as ArrowTable, Schema } from 'apache-arrow';
import type { NamespaceDescriptor } from '../../ports/vector-store.js';
import { namespaceMissing } from '../shared/namespace-checks.js';
import { rowsToArrow } from './batch.js';
import type { ResolvedLanceDbConfig } from './config.js';
import type { DescriptorTable, StoredDescriptor } from './descriptors.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { ArrowModule, LanceConnectionLike, LanceModuleLike, LanceTableLike } from './lance-types.js';
import type { PlannedRow } from './plan.js';
import { ensurePrimaryKey } from './primary-key.js';
import { BITMAP_COLUMNS, BTREE_COLUMNS, newTableName, recordsSchema, tablePrefixFor } from './schema.js';
import { kindIs } from './sql.js';

/** What a LanceDB store runs on: its configuration, the loaded modules, the connection and its descriptor table. */
export interface LanceEngine {
  readonly config: ResolvedLanceDbConfig;
  readonly lancedb: LanceModuleLike;
  readonly arrow: ArrowModule;
  readonly connection: LanceConnectionLike;
  readonly descriptors: DescriptorTable;
}

/**
 * The physical side of namespaces: creating and dropping records tables in the crash-safe order
 * described on `DescriptorTable`, a per-namespace lock for writers of this process, cached table
 * handles (keyed by physical table name, so a dropped and re-created namespace never reuses a stale
 * handle), and periodic compaction.
 */
export class NamespaceTables {
  readonly #config: ResolvedLanceDbConfig;
  readonly #lancedb: LanceModuleLike;
  readonly #arrow: ArrowModule;
  readonly #connection: LanceConnectionLike;
  readonly #descriptors: DescriptorTable;
  readonly #mutex = new KeyedMutex();
  readonly #handles = new Map<string, Promise<LanceTableLike>>();
  readonly #commits = new Map<string, number>();
  readonly #schemas = new Map<number, Schema>();

  constructor(engine: LanceEngine) {
    this.#config = engine.config;
    this.#lancedb = engine.lancedb;
    this.#arrow = engine.arrow;
    this.#connection = engine.connection;
    this.#descriptors = engine.descriptors;
  }

  locked<T>(namespace: string, fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(namespace, fn);
  }

  describe(namespace: string): Promise<StoredDescriptor | null> {
    return this.#descriptors.get(namespace);
  }

  async open(namespace: string): Promise<{ stored: StoredDescriptor; table: LanceTableLike }> {
    const stored = await this.#descriptors.get(namespace);
    if (!stored) throw namespaceMissing(namespace);
    let handle = this.#handles.get(stored.tableName);
    if (!handle) {
      handle = this.#connection.openTable(stored.tableName);
      this.#handles.set(stored.tableName, handle);
      handle.catch(() => this.#handles.delete(stored.tableName));
    }
    return { stored, table: await handle };
  }

  /** Creates the namespace unless it exists; returns the descriptor held afterwards (the caller compares). */
  create(descriptor: NamespaceDescriptor, createdAt: string): Promise<NamespaceDescriptor> {
    return this.locked(descriptor.name, async () => {
      const existing = await this.#descriptors.get(descriptor.name);
      if (existing) return existing.descriptor;
      const tableName = newTableName(descriptor.name);
      const table = await this.#connection.createEmptyTable(tableName, this.#schema(descriptor.dimension), {
        mode: 'create',
      });
      await ensurePrimaryKey(table, 'key');
      for (const column of BTREE_COLUMNS)
        await table.createIndex(column, { config: this.#lancedb.Index.btree() });
      for (const column of BITMAP_COLUMNS)
        await table.createIndex(column, { config: this.#lancedb.Index.bitmap() });
      this.#handles.set(tableName, Promise.resolve(table));
      const copy = Object.freeze({
        name: descriptor.name,
        fingerprint: descriptor.fingerprint,
        spaceName: descriptor.spaceName,
        dimension: descriptor.dimension,
        metric: descriptor.metric,
      });
      const held = await this.#descriptors.insert({ descriptor: copy, tableName }, createdAt);
      if (!held) throw new Error(`descriptor of ${descriptor.name} vanished right after it was inserted`);
      if (held.tableName !== tableName) await this.#dropTable(tableName);
      return held.descriptor;
    });
  }

  drop(namespace: string): Promise<void> {
    return this.locked(namespace, async () => {
      const stored = await this.#descriptors.get(namespace);
      if (stored) {
        await this.#descriptors.remove(namespace);
        await this.#dropTable(stored.tableName);
      }
      await this.#sweepOrphans(namespace);
    });
  }

  optimize(namespace: string): Promise<void> {
    return this.locked(namespace, async () => {
      const { stored, table } = await this.open(namespace);
      this.#commits.set(stored.tableName, 0);
      await this.#compact(table);
    });
  }

  /** Counts a commit; every `optimizeEvery` commits compacts the table. Runs inside the namespace lock. */
  async afterCommit(tableName: string, table: LanceTableLike): Promise<void> {
    const n = (this.#commits.get(tableName) ?? 0) + 1;
    this.#commits.set(tableName, n);
    if (n < this.#config.optimizeEvery) return;
    this.#commits.set(tableName, 0);
    await this.#compact(table);
  }

  toArrow(dimension: number, rows: readonly PlannedRow[]): ArrowTable {
    return rowsToArrow(this.#arrow, this.#schema(dimension), dimension, rows);
  }

  close(): void {
    for (const handle of this.#handles.values()) handle.then((t) => t.close()).catch(() => undefined);
    this.#handles.clear();
    this.#descriptors.close();
    this.#connection.close();
  }

  /**
   * Sweeps retired rows a crash left behind (see `commitPlan`), creates the scalar indexes if missing
   * (here rather than at create: rows appended after an index is built are scanned unindexed until the
   * next optimize anyway), then compacts and brings the indexes up to date.
   */
  async #compact(table: LanceTableLike): Promise<void> {
    await table.delete(kindIs('retired'));
    const indexed = new Set((await table.listIndices()).flatMap((i) => i.columns));
    const { btree, bitmap } = this.#lancedb.Index;
    for (const column of BTREE_COLUMNS)
      if (!indexed.has(column)) await table.createIndex(column, { config: btree() });
    for (const column of BITMAP_COLUMNS)
      if (!indexed.has(column)) await table.createIndex(column, { config: bitmap() });
    const cleanupOlderThan = new Date(
      this.#config.clock.now().getTime() - this.#config.retainVersionsSeconds * 1000,
    );
    await table.optimize({ cleanupOlderThan });
  }

  #schema(dimension: number): Schema {
    let schema = this.#schemas.get(dimension);
    if (!schema) {
      schema = recordsSchema(this.#arrow, dimension);
      this.#schemas.set(dimension, schema);
    }
    return schema;
  }

  async #dropTable(tableName: string): Promise<void> {
    const handle = this.#handles.get(tableName);
    this.#handles.delete(tableName);
    this.#commits.delete(tableName);
    if (handle) await handle.then((t) => t.close()).catch(() => undefined);
    try {
      await this.#connection.dropTable(tableName);
    } catch (error) {
      if ((await this.#allTableNames()).includes(tableName)) throw error;
    }
  }

  /**
   * Drops tables of this namespace name that no descriptor references (left by a crash mid-create or
   * mid-drop). Run on drop only: on create it could remove the table a concurrent creator in another
   * process made but has not registered yet.
   */
  async #sweepOrphans(namespace: string): Promise<void> {
    const prefix = tablePrefixFor(namespace);
    const referenced = await this.#descriptors.tableNames();
    for (const name of await this.#allTableNames()) {
      if (name.startsWith(prefix) && !referenced.has(name)) await this.#dropTable(name);
    }
  }

  async #allTableNames(): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const page = await this.#connection.tableNames({ startAfter: out[out.length - 1], limit: 1000 });
      out.push(...page);
      if (page.length < 1000) return out;
    }
  }
}
