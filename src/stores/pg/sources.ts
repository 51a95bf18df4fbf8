import { ReembedError } from '../../core/errors.js';
import type { SourceDocument, SourceInput } from '../../core/records.js';
import type { Clock } from '../../ports/clock.js';
import type {
  HotDocument,
  HotPageOptions,
  SourceRepository,
  SourceScanOptions,
  UpsertOutcome,
} from '../../ports/sources.js';
import { checkIds, checkLimit, checkPage, prepareSourceInputs } from '../shared/source-inputs.js';
import { isoText, num, type PgPoolLike, type PgQueryable, run, runArrays, withTransaction } from './pool.js';
import type { SourcesSql } from './sql-catalog.js';

/** A locked row of `current`: what decides whether an upsert or delete changes a source. */
interface CurrentRow {
  id: string;
  content_hash: string;
  tenant: string | null;
  deleted: boolean;
}

/**
 * Retained source documents in PostgreSQL. Versions come from one counter per collection (a column of
 * `collections`), row-locked and bumped in the same transaction as the rows: monotonic across the whole
 * collection, tombstones included, serialised between concurrent writers, and a failed batch consumes none.
 */
export class PgSourceRepository implements SourceRepository {
  readonly #pool: PgPoolLike;
  readonly #sql: SourcesSql;
  readonly #clock: Clock;

  /** When `ensureStatistics` last looked (performance.now()), and its run in flight. */
  #statisticsCheckedAt = Number.NEGATIVE_INFINITY;
  #statistics: Promise<void> | null = null;

  constructor(pool: PgPoolLike, sql: SourcesSql, clock: Clock) {
    this.#pool = pool;
    this.#sql = sql;
    this.#clock = clock;
  }

  /**
   * A document is unchanged when its live version has the same content hash (text + metadata) and the
   * same tenant — a tenant change alters filtering, so it takes a new version too. All-or-nothing.
   */
  async upsert(collection: string, docs: readonly SourceInput[]): Promise<UpsertOutcome> {
    const prepared = prepareSourceInputs(docs, { rejectNul: 'PostgreSQL text' });
    return withTransaction(this.#pool, 'upsert source documents', async (tx) => {
      let version = await this.#lockCounter(tx, collection);
      const ids = prepared.map((d) => d.input.id);
      const current = new Map(
        (await tx.query<CurrentRow>(this.#sql.current, [collection, ids])).rows.map((row) => [row.id, row]),
      );
      const now = this.#clock.now().toISOString();
      const changed: SourceDocument[] = [];
      const unchanged: string[] = [];
      for (const doc of prepared) {
        const row = current.get(doc.input.id);
        if (row && !row.deleted && row.content_hash === doc.hash && row.tenant === doc.tenant) {
          unchanged.push(doc.input.id);
          continue;
        }
        version += 1;
        changed.push(
          Object.freeze({
            collection,
            id: doc.input.id,
            text: doc.input.text,
            metadata: Object.freeze({ ...doc.metadata }),
            tenant: doc.tenant,
            contentHash: doc.hash,
            version,
            deleted: false,
            updatedAt: now,
          }),
        );
      }
      if (changed.length > 0) {
        await tx.query(this.#sql.upsert, [
          collection,
          changed.map((d) => d.id),
          changed.map((d) => d.text),
          changed.map((d) => JSON.stringify(d.metadata)),
          changed.map((d) => d.tenant),
          changed.map((d) => d.contentHash),
          changed.map((d) => d.version),
          now,
        ]);
        await tx.query(this.#sql.setCounter, [collection, version]);
      }
      return { changed, unchanged };
    });
  }

  /** Tombstones keep id, hash and version; text and metadata are cleared, because a delete means delete. */
  async delete(collection: string, ids: readonly string[]): Promise<SourceDocument[]> {
    checkIds(ids);
    return withTransaction(this.#pool, 'delete source documents', async (tx) => {
      let version = await this.#lockCounter(tx, collection);
      const unique = [...new Set(ids)];
      const live = new Set(
        (await tx.query<CurrentRow>(this.#sql.current, [collection, unique])).rows
          .filter((r) => !r.deleted)
          .map((r) => r.id),
      );
      const targets = unique.filter((id) => live.has(id));
      if (targets.length === 0) return [];
      const versions = targets.map(() => ++version);
      const now = this.#clock.now().toISOString();
      const rows = await runArrays(tx, 'delete source documents', this.#sql.tombstone, [
        collection,
        targets,
        versions,
        now,
      ]);
      await tx.query(this.#sql.setCounter, [collection, version]);
      const byId = new Map(rows.map((row) => [row[0] as string, documentFromColumns(row, collection)]));
      return targets.map((id) => byId.get(id) as SourceDocument);
    });
  }

  async get(collection: string, id: string): Promise<SourceDocument | null> {
    const rows = await runArrays(this.#pool, 'read a source document', this.#sql.get, [collection, id]);
    return rows[0] ? documentFromColumns(rows[0], collection) : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, SourceDocument>> {
    checkIds(ids);
    const rows = await runArrays(this.#pool, 'read source documents', this.#sql.getMany, [
      collection,
      [...ids],
    ]);
    const byId = new Map(rows.map((row) => [row[0] as string, documentFromColumns(row, collection)]));
    const out = new Map<string, SourceDocument>();
    for (const id of ids) {
      const doc = byId.get(id);
      if (doc) out.set(id, doc);
    }
    return out;
  }

  async scan(collection: string, options: SourceScanOptions): Promise<SourceDocument[]> {
    checkLimit(options.limit);
    await this.ensureStatistics();
    const rows = await runArrays(this.#pool, 'scan source documents', this.#sql.scan, [
      collection,
      options.afterId ?? '',
      options.limit,
      options.includeDeleted === true,
    ]);
    return rows.map((row) => documentFromColumns(row, collection));
  }

  /**
   * Keyset scans rely on the planner's statistics of `sources`. Without them — a collection just
   * ingested, before autovacuum's ANALYZE (up to a minute later, or never on a busy table) — PostgreSQL
   * estimates a page at a few rows and plans a bitmap scan that reads and sorts every row after the
   * cursor (spilling to disk for large pages) instead of walking the primary key: each page then costs
   * as much as the rest of the collection, and a pass turns quadratic (BENCHMARKS.md, "Figures behind
   * code choices"). So before a scan, at most once a minute, statistics missing or stale by autovacuum's
   * rule are refreshed with ANALYZE — a sample of at most 30,000 rows, whatever
   * the table's size. A role that may not analyze the table only gets PostgreSQL's warning; a table
   * whose lock a running VACUUM holds is left to it after a short wait; and a failure here never fails
   * the scan.
   * (Distributed backfill plans call it too: their range boundaries are keyset jumps as well.)
   */
  async ensureStatistics(): Promise<void> {
    if (this.#statistics) return this.#statistics;
    if (performance.now() - this.#statisticsCheckedAt < STATISTICS_RECHECK_MS) return;
    this.#statisticsCheckedAt = performance.now();
    this.#statistics = (async () => {
      const rows = await run<{ stale: boolean }>(
        this.#pool,
        'check source statistics',
        this.#sql.statisticsStale,
        [this.#sql.sourcesTable],
      );
      if (!rows[0]?.stale) return;
      // A VACUUM or ANALYZE already running on the table holds the lock ANALYZE needs (and refreshes the
      // statistics itself): wait briefly, not for as long as it runs.
      await withTransaction(this.#pool, 'analyze source documents', async (tx) => {
        await tx.query(`SET LOCAL lock_timeout = '${ANALYZE_LOCK_TIMEOUT_MS}ms'`);
        await tx.query(this.#sql.analyze);
      });
    })()
      // An optimisation only: a scan goes on with the statistics there are.
      .catch(() => undefined)
      .finally(() => {
        this.#statistics = null;
      });
    return this.#statistics;
  }

  async purge(collection: string): Promise<number> {
    return withTransaction(this.#pool, 'purge source documents', async (tx) => {
      const result = await tx.query(this.#sql.purge, [collection]);
      return result.rowCount ?? 0;
    });
  }

  async count(collection: string): Promise<{ live: number; deleted: number }> {
    const rows = await run<{ live: string; deleted: string }>(
      this.#pool,
      'count source documents',
      this.#sql.count,
      [collection],
    );
    return { live: num(rows[0]?.live ?? 0), deleted: num(rows[0]?.deleted ?? 0) };
  }

  /** Each occurrence of an id counts once; unknown ids are ignored (a hit can race a delete). */
  async recordHits(collection: string, ids: readonly string[]): Promise<void> {
    checkIds(ids);
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    if (counts.size === 0) return;
    // Sorted ids: concurrent batches lock rows in the same order and cannot deadlock.
    const sorted = [...counts.keys()].sort();
    await run(this.#pool, 'record hits', this.#sql.recordHits, [
      collection,
      sorted,
      sorted.map((id) => counts.get(id)),
    ]);
  }

  async hottest(collection: string, options: HotPageOptions): Promise<HotDocument[]> {
    const offset = checkPage(options);
    const rows = await run<{ id: string; hits: string }>(
      this.#pool,
      'rank hot documents',
      this.#sql.hottest,
      [collection, options.limit, offset],
    );
    return rows.map((row) => ({ id: row.id, hits: num(row.hits) }));
  }

  async #lockCounter(tx: PgQueryable, collection: string): Promise<number> {
    const row = (await tx.query<{ last_version: string }>(this.#sql.lockCounter, [collection])).rows[0];
    if (!row) {
      throw new ReembedError(
        'NOT_FOUND',
        `Unknown collection "${collection}": create it before writing source documents (reembed collection create).`,
        { details: { collection } },
      );
    }
    return num(row.last_version);
  }
}

/** How often `scan` looks at the statistics of the sources table. */
const STATISTICS_RECHECK_MS = 60_000;
/** How long ANALYZE waits for the table's lock (held by a running VACUUM or ANALYZE) before giving up. */
const ANALYZE_LOCK_TIMEOUT_MS = 200;

/**
 * A document from a row of `documentColumns()` read as an array (`runArrays`): id, text, metadata, tenant,
 * content hash, version, deleted, updated-at text. Arrays, not objects keyed by column name: a backfill
 * reads every source through here, and object rows (with a copy of the metadata) cost measurably more
 * client CPU per scan (BENCHMARKS.md, "Figures behind code choices").
 */
function documentFromColumns(row: unknown[], collection: string): SourceDocument {
  return Object.freeze({
    collection,
    id: row[0] as string,
    text: row[1] as string,
    // `pg` parses each row's jsonb afresh, so the object is this document's own: frozen, not copied.
    metadata: Object.freeze((row[2] as Record<string, unknown> | null) ?? {}),
    tenant: row[3] as string | null,
    contentHash: row[4] as string,
    version: num(row[5]),
    deleted: row[6] as boolean,
    updatedAt: isoText(row[7] as string),
  });
}
