import { NamespaceMatrix } from './matrix-cache.js';
import { STORE_SQL as SQL } from './sql.js';
import type { StatementCache } from './statements.js';
import type { MetaRow } from './store-rows.js';

/** A committed change to replay on a cached matrix: remove the source's rows, then append its new ones. */
export interface AppliedChange {
  readonly sourceId: string;
  readonly rows: readonly { recordId: string; tenant: string | null; metadata: string; bytes: Uint8Array }[];
}

/** What a write transaction reports so the cache can follow it. */
export interface CommittedChange {
  /** `ns_meta.generation` before and after the transaction. */
  readonly before: number;
  readonly after: number;
  /** The write ran inside a caller's transaction, which may still roll back. */
  readonly nested: boolean;
  readonly applied: readonly AppliedChange[];
}

/**
 * The per-namespace search matrices of one connection. A matrix is valid for one `ns_meta.generation`;
 * any connection's committed write bumps it, so a search reloads after another process wrote, while
 * this connection's own writes are patched in place (a reload of 100k x 384 costs about a second).
 */
export class MatrixRegistry {
  readonly #sql: StatementCache;
  readonly #matrices = new Map<string, NamespaceMatrix>();

  constructor(sql: StatementCache) {
    this.#sql = sql;
  }

  /**
   * The matrix at the namespace's current generation; call inside a read transaction. With `keep`
   * false (the read is nested in a caller's transaction, which may hold uncommitted rows) a freshly
   * loaded matrix is used once and not cached.
   */
  get(meta: MetaRow, keep = true): NamespaceMatrix {
    const cached = this.#matrices.get(meta.name);
    if (cached && cached.generation === meta.generation) return cached;
    const bytes = meta.dimension * 4;
    const count = this.#sql.get(SQL.countRecords).pluck().get(meta.name) as number;
    const matrix = new NamespaceMatrix(meta.dimension, meta.metric, meta.generation, count);
    const rows = this.#sql.get(SQL.loadSearchable).raw().iterate(meta.name, meta.fingerprint, bytes);
    for (const row of rows as Iterable<[string, string, string | null, string, Uint8Array]>) {
      matrix.append(row[0], row[1], row[2], row[3], row[4]);
    }
    if (keep) this.#matrices.set(meta.name, matrix);
    return matrix;
  }

  /**
   * Replays a committed change on the cached matrix, or drops the matrix when it was not at the
   * pre-change generation (another connection wrote in between) or the change may still roll back.
   */
  follow(namespace: string, change: CommittedChange): void {
    const matrix = this.#matrices.get(namespace);
    if (!matrix || change.before === change.after) return;
    if (change.nested || matrix.generation !== change.before) {
      this.#matrices.delete(namespace);
      return;
    }
    try {
      for (const c of change.applied) {
        matrix.removeSource(c.sourceId);
        for (const r of c.rows) matrix.append(r.recordId, c.sourceId, r.tenant, r.metadata, r.bytes);
      }
      matrix.generation = change.after;
    } catch {
      this.#matrices.delete(namespace);
    }
  }

  drop(namespace: string): void {
    this.#matrices.delete(namespace);
  }

  clear(): void {
    this.#matrices.clear();
  }
}
