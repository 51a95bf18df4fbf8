import { assertProbeName, type ProbeSet, probeExists, unknownProbeSet } from '../../core/probe.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { ProbeSetInfo, ProbeSetRepository, SaveSetOptions } from '../../ports/evaluation-sets.js';
import {
  type ProbeQueryRow,
  type ProbeSetRow,
  probeInfoOf,
  probeOfRows,
  probeSetRow,
} from '../probe-rows.js';
import { applyComponentSchema } from './migrations.js';
import type { SqliteDatabase } from './schema.js';
import { StatementCache } from './statements.js';

export const PROBES_COMPONENT = 'probes';
export const PROBES_SCHEMA_VERSION = 1;

/** A set row plus its queries in order; queries go with their set (ON DELETE CASCADE). */
export function probesDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS probe_sets (
      name TEXT PRIMARY KEY,
      collection TEXT NOT NULL,
      digest TEXT NOT NULL,
      queries INTEGER NOT NULL CHECK (queries >= 1),
      params TEXT NOT NULL,
      population TEXT NOT NULL,
      skipped TEXT NOT NULL,
      source TEXT,
      saved_at TEXT NOT NULL,
      saved_by TEXT NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS probe_queries (
      set_name TEXT NOT NULL REFERENCES probe_sets(name) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      query_id TEXT NOT NULL,
      source_id TEXT NOT NULL,
      tenant TEXT,
      content_hash TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('title', 'sentence', 'span')),
      text TEXT NOT NULL,
      held_out TEXT,
      PRIMARY KEY (set_name, position),
      UNIQUE (set_name, query_id)
    )`,
  ];
}

/**
 * Probe sets in the backend's SQLite file: a save writes the set, its queries and an audit line in one
 * transaction; a read rebuilds the set and checks its digest, so a hand-edited row is caught instead of
 * silently changing gate results.
 */
export class SqliteProbeSetRepository implements ProbeSetRepository {
  readonly #sql: StatementCache;
  readonly #clock: Clock;

  constructor(db: SqliteDatabase, options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    applyComponentSchema(
      db,
      PROBES_COMPONENT,
      PROBES_SCHEMA_VERSION,
      probesDdl(),
      this.#clock.now().toISOString(),
    );
    this.#sql = new StatementCache(db);
  }

  async save(name: string, probe: ProbeSet, options: SaveSetOptions = {}): Promise<ProbeSetInfo> {
    assertProbeName(name);
    return this.#sql.write('save a probe set', () => {
      const held = this.#row(name);
      if (held && held.digest === probe.digest && held.collection === probe.collection)
        return probeInfoOf(held);
      if (held && !options.replace) throw probeExists(name, held.digest, held.saved_at, probe.digest);
      if (held) this.#sql.get('DELETE FROM probe_sets WHERE name = ?').run(name);
      const row = probeSetRow(name, probe, options, this.#clock.now().toISOString());
      this.#sql
        .get(
          `INSERT INTO probe_sets (name, collection, digest, queries, params, population, skipped, source, saved_at, saved_by)
           VALUES (@name, @collection, @digest, @queries, @params, @population, @skipped, @source, @saved_at, @saved_by)`,
        )
        .run(row);
      const insert = this.#sql.get(
        `INSERT INTO probe_queries (set_name, position, query_id, source_id, tenant, content_hash, kind, text, held_out)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      probe.queries.forEach((q, position) => {
        insert.run(name, position, q.id, q.sourceId, q.tenant, q.contentHash, q.kind, q.text, q.heldOut);
      });
      this.#audit(row.saved_by, 'probe.save', name, {
        collection: probe.collection,
        digest: probe.digest,
        queries: row.queries,
        seed: probe.params.seed,
        replaced: held?.digest ?? null,
      });
      return probeInfoOf(row);
    });
  }

  async get(name: string): Promise<ProbeSet> {
    return this.#sql.read('read a probe set', () => {
      const row = this.#row(name);
      if (!row) throw unknownProbeSet(name, this.#names());
      const rows = this.#sql
        .get(
          `SELECT query_id, source_id, tenant, content_hash, kind, text, held_out
           FROM probe_queries WHERE set_name = ? ORDER BY position`,
        )
        .all(name) as ProbeQueryRow[];
      return probeOfRows(row, rows);
    });
  }

  async list(): Promise<ProbeSetInfo[]> {
    return (this.#sql.get('SELECT * FROM probe_sets ORDER BY name').all() as ProbeSetRow[]).map(probeInfoOf);
  }

  async delete(name: string, options: { actor?: string } = {}): Promise<boolean> {
    return this.#sql.write('delete a probe set', () => {
      const held = this.#row(name);
      if (!held) return false;
      this.#sql.get('DELETE FROM probe_sets WHERE name = ?').run(name);
      this.#audit(options.actor ?? 'reembed', 'probe.delete', name, { digest: held.digest });
      return true;
    });
  }

  #row(name: string): ProbeSetRow | undefined {
    return this.#sql.get('SELECT * FROM probe_sets WHERE name = ?').get(name) as ProbeSetRow | undefined;
  }

  #names(): string[] {
    return this.#sql.get('SELECT name FROM probe_sets ORDER BY name').pluck().all() as string[];
  }

  /** The catalog's append-only audit table, in the caller's transaction (invariant 8). */
  #audit(actor: string, action: string, subject: string, details: Readonly<Record<string, unknown>>): void {
    this.#sql
      .get('INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)')
      .run(this.#clock.now().toISOString(), actor, action, subject, JSON.stringify(details));
  }
}
