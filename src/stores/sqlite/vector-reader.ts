import { ReembedError } from '../../core/errors.js';
import { bytesToVector } from '../../core/vector.js';
import type { StoredRecord, VectorReader } from '../../ports/vector-reader.js';
import { STORED_RECORD_COLUMNS, type StoredRecordRow, storedRecordOf } from '../shared/stored-records.js';
import type { StatementCache } from './statements.js';

type RecordRow = StoredRecordRow<string, Buffer>;

const COLUMNS = `${STORED_RECORD_COLUMNS}, vector`;
/** Ids per lookup statement (bounds the JSON argument). */
const IDS_PER_STATEMENT = 1_000;

/** Stored vectors of the embedded store, read back for fitting adapters and mapping namespaces. */
export class SqliteVectorReader implements VectorReader {
  readonly #sql: StatementCache;

  constructor(sql: StatementCache) {
    this.#sql = sql;
  }

  async read(namespace: string, sourceIds: readonly string[]): Promise<StoredRecord[]> {
    return this.#sql.read('read stored vectors', () => {
      this.#exists(namespace);
      const out: StoredRecord[] = [];
      const ids = [...new Set(sourceIds)].sort(byteOrder);
      for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
        const rows = this.#sql
          .get(
            `SELECT ${COLUMNS} FROM records WHERE namespace = ? AND source_id IN (SELECT value FROM json_each(?))
             ORDER BY source_id, chunk_index`,
          )
          .all(namespace, JSON.stringify(ids.slice(i, i + IDS_PER_STATEMENT))) as RecordRow[];
        for (const row of rows) out.push(recordOf(row));
      }
      return out;
    });
  }

  async scan(namespace: string, options: { afterId?: string; limit: number }): Promise<StoredRecord[]> {
    return this.#sql.read('scan stored vectors', () => {
      this.#exists(namespace);
      // Whole sources: the page's sources are chosen first, then all their chunks are read.
      const ids = this.#sql
        .get(
          `SELECT DISTINCT source_id FROM records WHERE namespace = ? AND source_id > ? ORDER BY source_id LIMIT ?`,
        )
        .pluck()
        .all(namespace, options.afterId ?? '', Math.max(1, options.limit)) as string[];
      if (ids.length === 0) return [];
      const last = ids[ids.length - 1] as string;
      const rows = this.#sql
        .get(
          `SELECT ${COLUMNS} FROM records WHERE namespace = ? AND source_id > ? AND source_id <= ?
           ORDER BY source_id, chunk_index`,
        )
        .all(namespace, options.afterId ?? '', last) as RecordRow[];
      return rows.map(recordOf);
    });
  }

  #exists(namespace: string): void {
    const held = this.#sql.get('SELECT 1 FROM ns_meta WHERE name = ?').get(namespace);
    if (!held) {
      throw new ReembedError('NOT_FOUND', `The store holds no namespace ${namespace}.`, {
        details: { namespace },
      });
    }
  }
}

/** SQLite compares TEXT by bytes (BINARY collation): sort ids the same way. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function recordOf(row: RecordRow): StoredRecord {
  return storedRecordOf(row, JSON.parse(row.metadata) as Record<string, unknown>, bytesToVector(row.vector));
}
