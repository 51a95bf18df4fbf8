import { ReembedError } from '../../core/errors.js';
import type { SourceDocument, SourceInput } from '../../core/records.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type {
  HotDocument,
  HotPageOptions,
  ReaderThreads,
  SourceRepository,
  SourceScanOptions,
  UpsertOutcome,
} from '../../ports/sources.js';
import { parseJsonObject } from '../shared/json.js';
import { checkIds, checkLimit, checkPage, invalid, prepareSourceInputs } from '../shared/source-inputs.js';
import { openDatabase } from './driver.js';
import type { ThreadReaderRecipe, ThreadSourceReader } from './reader-protocol.js';
import type { SqliteDatabase } from './schema.js';
import { StatementCache } from './statements.js';

interface SourceRow {
  collection: string;
  id: string;
  text: string;
  metadata: string;
  tenant: string | null;
  content_hash: string;
  version: number;
  deleted: number;
  updated_at: string;
}

const UPSERT_SQL = `INSERT INTO sources (collection, id, text, metadata, tenant, content_hash, version, deleted, updated_at)
  VALUES (@collection, @id, @text, @metadata, @tenant, @content_hash, @version, 0, @updated_at)
  ON CONFLICT (collection, id) DO UPDATE SET text = excluded.text, metadata = excluded.metadata,
    tenant = excluded.tenant, content_hash = excluded.content_hash, version = excluded.version,
    deleted = 0, updated_at = excluded.updated_at`;

// Keyset scan in id order on the primary key (`+deleted` keeps the planner off the hottest index).
const SCAN_COLUMNS = 'id, text, metadata, tenant, content_hash, version, deleted, updated_at';
const SCAN_SQL = `SELECT ${SCAN_COLUMNS} FROM sources WHERE collection = ? AND id > ? ORDER BY id LIMIT ?`;
const SCAN_LIVE_SQL = `SELECT ${SCAN_COLUMNS} FROM sources WHERE collection = ? AND id > ? AND +deleted = 0
  ORDER BY id LIMIT ?`;
type ScanRow = [string, string, string, string | null, string, number, number, string];
/** Shared by every document without metadata (frozen, so sharing is invisible). */
const EMPTY_METADATA = Object.freeze({});

/**
 * Retained source documents in SQLite. Versions come from one counter per collection (a column of
 * `collections`) bumped in the same transaction as the rows, so they are monotonic across the whole
 * collection, tombstones included, and a failed batch consumes none.
 */
export class SqliteSourceRepository implements SourceRepository {
  readonly #sql: StatementCache;
  readonly #clock: Clock;
  readonly #threadsFor: ((recipe: ThreadReaderRecipe) => ReaderThreads) | null;
  #threads: ReaderThreads | null | undefined;

  /**
   * `threads` makes the repository offer reader threads (`readerThreadsFor`, passed in by the backend
   * so that the thread's own repository, which never offers them, does not load the pool's code).
   */
  constructor(
    sql: StatementCache,
    clock: Clock,
    options: { threads?: (recipe: ThreadReaderRecipe) => ReaderThreads } = {},
  ) {
    this.#sql = sql;
    this.#clock = clock;
    this.#threadsFor = options.threads ?? null;
  }

  /**
   * A document is unchanged when its live version has the same content hash (text + metadata) and the
   * same tenant — a tenant change alters filtering, so it takes a new version too.
   */
  async upsert(collection: string, docs: readonly SourceInput[]): Promise<UpsertOutcome> {
    const prepared = prepareSourceInputs(docs);
    return this.#sql.write('upsert source documents', () => {
      let version = this.#counter(collection);
      const now = this.#clock.now().toISOString();
      const changed: SourceDocument[] = [];
      const unchanged: string[] = [];
      for (const doc of prepared) {
        const current = this.#row(collection, doc.input.id);
        if (
          current &&
          !current.deleted &&
          current.content_hash === doc.hash &&
          current.tenant === doc.tenant
        ) {
          unchanged.push(doc.input.id);
          continue;
        }
        version += 1;
        const row: SourceRow = {
          collection,
          id: doc.input.id,
          text: doc.input.text,
          metadata: JSON.stringify(doc.metadata),
          tenant: doc.tenant,
          content_hash: doc.hash,
          version,
          deleted: 0,
          updated_at: now,
        };
        this.#sql.get(UPSERT_SQL).run(row);
        changed.push(documentFromRow(row));
      }
      this.#setCounter(collection, version);
      return { changed, unchanged };
    });
  }

  /** Tombstones keep id, hash and version; text and metadata are cleared, because a delete means delete. */
  async delete(collection: string, ids: readonly string[]): Promise<SourceDocument[]> {
    checkIds(ids);
    return this.#sql.write('delete source documents', () => {
      let version = this.#counter(collection);
      const now = this.#clock.now().toISOString();
      const tombstones: SourceDocument[] = [];
      for (const id of new Set(ids)) {
        const current = this.#row(collection, id);
        if (!current || current.deleted) continue;
        version += 1;
        this.#sql
          .get(
            `UPDATE sources SET deleted = 1, text = '', metadata = '{}', version = ?, updated_at = ?
             WHERE collection = ? AND id = ?`,
          )
          .run(version, now, collection, id);
        tombstones.push(
          documentFromRow({ ...current, text: '', metadata: '{}', version, deleted: 1, updated_at: now }),
        );
      }
      this.#setCounter(collection, version);
      return tombstones;
    });
  }

  async get(collection: string, id: string): Promise<SourceDocument | null> {
    const row = this.#row(collection, id);
    return row ? documentFromRow(row) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, SourceDocument>> {
    checkIds(ids);
    return this.#sql.read('read source documents', () => {
      const out = new Map<string, SourceDocument>();
      for (const id of ids) {
        const row = out.has(id) ? undefined : this.#row(collection, id);
        if (row) out.set(id, documentFromRow(row));
      }
      return out;
    });
  }

  /** Rows come as arrays (no per-row property names to create): a backfill scans every source. */
  async scan(collection: string, options: SourceScanOptions): Promise<SourceDocument[]> {
    checkLimit(options.limit);
    const rows = this.#sql
      .get(options.includeDeleted ? SCAN_SQL : SCAN_LIVE_SQL)
      .raw(true)
      .all(collection, options.afterId ?? '', options.limit) as ScanRow[];
    const out: SourceDocument[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const [id, text, metadata, tenant, hash, version, deleted, updatedAt] = rows[i] as ScanRow;
      out[i] = Object.freeze({
        collection,
        id,
        text,
        metadata: metadata === '{}' ? EMPTY_METADATA : Object.freeze(parseJsonObject(metadata)),
        tenant,
        contentHash: hash,
        version,
        deleted: deleted === 1,
        updatedAt,
      });
    }
    return out;
  }

  async purge(collection: string): Promise<number> {
    return this.#sql.write('purge source documents', () =>
      Number(this.#sql.get('DELETE FROM sources WHERE collection = ?').run(collection).changes),
    );
  }

  async count(collection: string): Promise<{ live: number; deleted: number }> {
    const row = this.#sql
      .get(
        `SELECT COALESCE(SUM(deleted = 0), 0) AS live, COALESCE(SUM(deleted = 1), 0) AS deleted
         FROM sources WHERE collection = ?`,
      )
      .get(collection) as { live: number; deleted: number };
    return { live: row.live, deleted: row.deleted };
  }

  /**
   * Reader threads that open the same file on their own connection (WAL lets them read while this
   * connection writes); null for an in-memory database, which no other connection can see.
   */
  readerThreads(): ReaderThreads | null {
    if (this.#threads === undefined) {
      const recipe = this.threadRecipe();
      this.#threads = recipe && this.#threadsFor ? this.#threadsFor(recipe) : null;
    }
    return this.#threads;
  }

  /** How a reader thread opens its view of this database (`openThreadSourceReader`); null in memory. */
  threadRecipe(): ThreadReaderRecipe | null {
    const db = this.#sql.db;
    if (db.memory || db.name === '' || db.name === ':memory:') return null;
    return Object.freeze({
      module: import.meta.url,
      exportName: openThreadSourceReader.name,
      args: Object.freeze({ path: db.name }),
    });
  }

  /** Each occurrence of an id counts once; unknown ids are ignored (a hit can race a delete). */
  async recordHits(collection: string, ids: readonly string[]): Promise<void> {
    checkIds(ids);
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    this.#sql.write('record hits', () => {
      const update = this.#sql.get('UPDATE sources SET hits = hits + ? WHERE collection = ? AND id = ?');
      for (const [id, n] of counts) update.run(n, collection, id);
    });
  }

  async hottest(collection: string, options: HotPageOptions): Promise<HotDocument[]> {
    const offset = checkPage(options);
    return this.#sql
      .get(
        `SELECT id, hits FROM sources WHERE collection = ? AND deleted = 0
         ORDER BY hits DESC, id LIMIT ? OFFSET ?`,
      )
      .all(collection, options.limit, offset) as { id: string; hits: number }[];
  }

  #row(collection: string, id: string): SourceRow | undefined {
    return this.#sql.get('SELECT * FROM sources WHERE collection = ? AND id = ?').get(collection, id) as
      | SourceRow
      | undefined;
  }

  #counter(collection: string): number {
    const row = this.#sql.get('SELECT source_version FROM collections WHERE name = ?').get(collection) as
      | { source_version: number }
      | undefined;
    if (!row) {
      throw new ReembedError(
        'NOT_FOUND',
        `Unknown collection "${collection}": create it before writing source documents (reembed collection create).`,
        { details: { collection } },
      );
    }
    return row.source_version;
  }

  #setCounter(collection: string, version: number): void {
    this.#sql.get('UPDATE collections SET source_version = ? WHERE name = ?').run(version, collection);
  }
}

/**
 * Opens `threadRecipe()`'s view of a database file: its own connection (so it can live in a worker
 * thread) that runs the repository's keyset scan and nothing else that writes rows. It may also
 * `checkpoint`: copying committed WAL frames into the database file there keeps the WAL short, so the
 * writing connection's automatic checkpoint — which stalls its thread for as long as it copies — finds
 * little or nothing left to do.
 */
export function openThreadSourceReader(args: unknown): ThreadSourceReader {
  const path = (args as { path?: unknown } | null)?.path;
  if (typeof path !== 'string' || path.length === 0) throw invalid('path', 'must name a database file');
  let db: SqliteDatabase;
  let writable = true;
  try {
    db = openDatabase(path, { fileMustExist: true });
  } catch {
    // A file this process may only read: scan without checkpointing.
    db = openDatabase(path, { readonly: true, fileMustExist: true });
    writable = false;
  }
  db.pragma('busy_timeout = 5000');
  const repository = new SqliteSourceRepository(new StatementCache(db), systemClock);
  const reader: ThreadSourceReader = {
    scan: (collection, options) => repository.scan(collection, options),
    close: () => db.close(),
  };
  if (!writable) return reader;
  db.pragma('synchronous = NORMAL');
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  return {
    ...reader,
    checkpoint: () => {
      // Another checkpoint in progress (SQLITE_BUSY) or nothing to copy: either way, done here.
      try {
        checkpoint.run();
      } catch {}
    },
  };
}

function documentFromRow(row: SourceRow): SourceDocument {
  return Object.freeze({
    collection: row.collection,
    id: row.id,
    text: row.text,
    metadata: Object.freeze(parseJsonObject(row.metadata)),
    tenant: row.tenant,
    contentHash: row.content_hash,
    version: row.version,
    deleted: row.deleted === 1,
    updatedAt: row.updated_at,
  });
}
