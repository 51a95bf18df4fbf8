import type { StoredRecord, VectorReader } from '../../ports/vector-reader.js';
import { STORED_RECORD_COLUMNS, type StoredRecordRow, storedRecordOf } from '../shared/stored-records.js';
import { type PgPoolLike, run } from './pool.js';
import { namespaceTable, qualified } from './sql.js';

type RecordRow = StoredRecordRow<Record<string, unknown>, string>;

const COLUMNS = `${STORED_RECORD_COLUMNS}, embedding::text AS vector`;

/** Stored vectors of a PostgreSQL namespace table, read back for fitting adapters and mapping namespaces. */
export class PgVectorReader implements VectorReader {
  readonly #pool: PgPoolLike;
  readonly #schema: string;

  constructor(pool: PgPoolLike, schema: string) {
    this.#pool = pool;
    this.#schema = schema;
  }

  async read(namespace: string, sourceIds: readonly string[]): Promise<StoredRecord[]> {
    const rows = await run<RecordRow>(
      this.#pool,
      'read stored vectors',
      `SELECT ${COLUMNS} FROM ${this.#table(namespace)} WHERE source_id = ANY($1::text[]) ORDER BY source_id, chunk_index`,
      [[...new Set(sourceIds)]],
    );
    return rows.map(recordOf);
  }

  async scan(namespace: string, options: { afterId?: string; limit: number }): Promise<StoredRecord[]> {
    const table = this.#table(namespace);
    const rows = await run<RecordRow>(
      this.#pool,
      'scan stored vectors',
      `WITH page AS (
         SELECT DISTINCT source_id FROM ${table} WHERE source_id > $1 ORDER BY source_id LIMIT $2
       )
       SELECT ${COLUMNS} FROM ${table} WHERE source_id IN (SELECT source_id FROM page) ORDER BY source_id, chunk_index`,
      [options.afterId ?? '', Math.max(1, options.limit)],
    );
    return rows.map(recordOf);
  }

  #table(namespace: string): string {
    return qualified(this.#schema, namespaceTable(namespace));
  }
}

/** pgvector's text form `[0.1,0.2,...]` to float32. */
export function parsePgVector(text: string): Float32Array {
  const body = text.slice(1, -1);
  if (body.length === 0) return new Float32Array(0);
  const parts = body.split(',');
  const out = new Float32Array(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = Number(parts[i]);
  return out;
}

function recordOf(row: RecordRow): StoredRecord {
  return storedRecordOf(row, row.metadata, parsePgVector(row.vector));
}
