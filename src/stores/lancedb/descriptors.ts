import type { Metric } from '../../core/space.js';
import type { NamespaceDescriptor } from '../../ports/vector-store.js';
import type { ArrowModule, LanceConnectionLike, LanceTableLike } from './lance-types.js';
import { ensurePrimaryKey } from './primary-key.js';
import { columnOf } from './read.js';
import { DESCRIPTOR_TABLE, descriptorsSchema } from './schema.js';
import { sqlString } from './sql.js';

/** A namespace descriptor plus the physical table that holds its rows. */
export interface StoredDescriptor {
  readonly descriptor: NamespaceDescriptor;
  readonly tableName: string;
}

/**
 * The small table of namespace descriptors. A namespace exists exactly when its row exists: create
 * makes the records table first and inserts the row last; drop deletes the row first and the table
 * after, so a crash in between leaves at worst an unreferenced table (removed by the next drop of
 * that name), never a descriptor without its table.
 */
export class DescriptorTable {
  readonly #table: LanceTableLike;
  readonly #arrow: ArrowModule;
  /**
   * Descriptors read at a version of the table: every search opens its namespace's descriptor, and a
   * query of this table costs far more than asking its version (BENCHMARKS.md "Figures behind code
   * choices"). Any commit — this
   * process's or, seen through the connection's read-consistency check, another's — moves the version
   * and empties the cache.
   */
  #cache: { version: number; rows: Map<string, StoredDescriptor | null> } | null = null;

  private constructor(table: LanceTableLike, arrow: ArrowModule) {
    this.#table = table;
    this.#arrow = arrow;
  }

  static async open(connection: LanceConnectionLike, arrow: ArrowModule): Promise<DescriptorTable> {
    const table = await openOrCreate(connection, arrow);
    await ensurePrimaryKey(table, 'name');
    return new DescriptorTable(table, arrow);
  }

  async get(name: string): Promise<StoredDescriptor | null> {
    const version = await this.#table.version();
    if (this.#cache?.version !== version) this.#cache = { version, rows: new Map() };
    const rows = this.#cache.rows;
    if (rows.has(name)) return rows.get(name) ?? null;
    const stored = await this.#read(name);
    // Cached only if no commit landed while reading (a stale read must not outlive its version).
    if ((await this.#table.version()) === version) rows.set(name, stored);
    return stored;
  }

  async #read(name: string): Promise<StoredDescriptor | null> {
    const result = await this.#table
      .query()
      .where(`name = ${sqlString(name)}`)
      .limit(1)
      .toArrow();
    if (result.numRows === 0) return null;
    const col = <T>(c: string) => columnOf<T>(result, c)[0] as T;
    return Object.freeze({
      descriptor: Object.freeze({
        name: col<string>('name'),
        fingerprint: col<string>('fingerprint'),
        spaceName: col<string>('space_name'),
        dimension: col<number>('dimension'),
        metric: col<Metric>('metric'),
      }),
      tableName: col<string>('table_name'),
    });
  }

  /** Table names every descriptor references: what an orphan sweep must keep. */
  async tableNames(): Promise<Set<string>> {
    const result = await this.#table.query().select(['table_name']).toArrow();
    return new Set(columnOf<string>(result, 'table_name'));
  }

  /** Inserts unless a row of that name exists (a concurrent creator won); returns what is stored after. */
  async insert(stored: StoredDescriptor, createdAt: string): Promise<StoredDescriptor | null> {
    const d = stored.descriptor;
    const { Utf8, Int32, vectorFromArray } = this.#arrow;
    const schema = descriptorsSchema(this.#arrow);
    const columns = [
      vectorFromArray([d.name], new Utf8()),
      vectorFromArray([d.fingerprint], new Utf8()),
      vectorFromArray([d.spaceName], new Utf8()),
      vectorFromArray([d.dimension], new Int32()),
      vectorFromArray([d.metric], new Utf8()),
      vectorFromArray([stored.tableName], new Utf8()),
      vectorFromArray([createdAt], new Utf8()),
    ];
    const data = this.#arrow.makeData({
      type: new this.#arrow.Struct(schema.fields),
      length: 1,
      nullCount: 0,
      children: columns.map((c) => c.data[0]) as never,
    });
    await this.#table
      .mergeInsert('name')
      .whenNotMatchedInsertAll()
      .execute(new this.#arrow.Table([new this.#arrow.RecordBatch(schema, data)]));
    return this.get(d.name);
  }

  async remove(name: string): Promise<void> {
    await this.#table.delete(`name = ${sqlString(name)}`);
  }

  close(): void {
    this.#table.close();
  }
}

/** Opens the descriptor table, creating it on first use (or opening the one a concurrent opener created). */
async function openOrCreate(connection: LanceConnectionLike, arrow: ArrowModule): Promise<LanceTableLike> {
  try {
    return await connection.openTable(DESCRIPTOR_TABLE);
  } catch {
    try {
      return await connection.createEmptyTable(DESCRIPTOR_TABLE, descriptorsSchema(arrow), {
        mode: 'create',
      });
    } catch (error) {
      return connection.openTable(DESCRIPTOR_TABLE).catch(() => Promise.reject(error));
    }
  }
}
