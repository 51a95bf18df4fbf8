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
import { iso, type PgPoolLike, type PgQueryable, run, withTransaction } from './pool.js';
import { ident, qualified } from './sql.js';

export const PG_PROBES_COMPONENT = 'probes';
export const PG_PROBES_SCHEMA_VERSION = 1;

/** The probe tables, the same shape as the embedded backend's (JSON columns as jsonb). */
export function pgProbesDdl(schema: string): string[] {
  const t = (name: string): string => qualified(schema, name);
  return [
    `CREATE TABLE IF NOT EXISTS ${t('probe_sets')} (
      name text PRIMARY KEY,
      collection text NOT NULL,
      digest text NOT NULL,
      queries integer NOT NULL CHECK (queries >= 1),
      params jsonb NOT NULL,
      population jsonb NOT NULL,
      skipped jsonb NOT NULL,
      source text,
      saved_at timestamptz NOT NULL,
      saved_by text NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('probe_queries')} (
      set_name text NOT NULL REFERENCES ${t('probe_sets')}(name) ON DELETE CASCADE,
      position integer NOT NULL,
      query_id text NOT NULL,
      source_id text NOT NULL,
      tenant text,
      content_hash text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('title', 'sentence', 'span')),
      text text NOT NULL,
      held_out text,
      PRIMARY KEY (set_name, position),
      UNIQUE (set_name, query_id)
    )`,
  ];
}

/** Statements of the repository, as strings (STYLE #6): unit-tested without a server. */
export function pgProbesSql(schema: string) {
  const t = (name: string): string => qualified(schema, name);
  return {
    selectSet: `SELECT * FROM ${t('probe_sets')} WHERE name = $1`,
    selectSetForUpdate: `SELECT * FROM ${t('probe_sets')} WHERE name = $1 FOR UPDATE`,
    listSets: `SELECT * FROM ${t('probe_sets')} ORDER BY name`,
    names: `SELECT name FROM ${t('probe_sets')} ORDER BY name`,
    deleteSet: `DELETE FROM ${t('probe_sets')} WHERE name = $1`,
    insertSet: `INSERT INTO ${t('probe_sets')} (name, collection, digest, queries, params, population, skipped, source, saved_at, saved_by)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    /** Every query of a set in one statement: one array per column. */
    insertQueries: `INSERT INTO ${t('probe_queries')} (set_name, position, query_id, source_id, tenant, content_hash, kind, text, held_out)
      SELECT $1, q.* FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
        AS q(position, query_id, source_id, tenant, content_hash, kind, text, held_out)`,
    selectQueries: `SELECT query_id, source_id, tenant, content_hash, kind, text, held_out
      FROM ${t('probe_queries')} WHERE set_name = $1 ORDER BY position`,
    /** Serialises saves of one name (a save that finds no row has nothing to lock). */
    lockName: 'SELECT pg_advisory_xact_lock(hashtext($1))',
    insertAudit: `INSERT INTO ${t('audit_log')} (at, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5)`,
  };
}

type SetRow = Omit<ProbeSetRow, 'saved_at'> & { saved_at: Date | string };

const rowOf = (row: SetRow): ProbeSetRow => ({ ...row, saved_at: iso(row.saved_at) });

/**
 * Probe sets in PostgreSQL with the semantics of the embedded repository: a save writes the set, its
 * queries and the audit line in one transaction (concurrent saves of one name serialised by an advisory
 * lock); a read checks the digest.
 */
export class PgProbeSetRepository implements ProbeSetRepository {
  readonly #pool: PgPoolLike;
  readonly #sql: ReturnType<typeof pgProbesSql>;
  readonly #clock: Clock;

  private constructor(pool: PgPoolLike, schema: string, clock: Clock) {
    this.#pool = pool;
    this.#sql = pgProbesSql(schema);
    this.#clock = clock;
  }

  /** Creates the tables if needed (idempotent) and returns the repository. */
  static async open(
    pool: PgPoolLike,
    options: { schema: string; clock?: Clock },
  ): Promise<PgProbeSetRepository> {
    ident(options.schema);
    await applyComponentSchema(
      pool,
      options.schema,
      PG_PROBES_COMPONENT,
      PG_PROBES_SCHEMA_VERSION,
      pgProbesDdl(options.schema),
    );
    return new PgProbeSetRepository(pool, options.schema, options.clock ?? systemClock);
  }

  async save(name: string, probe: ProbeSet, options: SaveSetOptions = {}): Promise<ProbeSetInfo> {
    assertProbeName(name);
    return withTransaction(this.#pool, 'save a probe set', async (tx) => {
      await tx.query(this.#sql.lockName, [`reembed:probe:${name}`]);
      const held = (await tx.query<SetRow>(this.#sql.selectSetForUpdate, [name])).rows[0];
      if (held && held.digest === probe.digest && held.collection === probe.collection)
        return probeInfoOf(rowOf(held));
      if (held && !options.replace) throw probeExists(name, held.digest, iso(held.saved_at), probe.digest);
      if (held) await tx.query(this.#sql.deleteSet, [name]);
      const row = probeSetRow(name, probe, options, this.#clock.now().toISOString());
      await tx.query(this.#sql.insertSet, [
        row.name,
        row.collection,
        row.digest,
        row.queries,
        row.params,
        row.population,
        row.skipped,
        row.source,
        row.saved_at,
        row.saved_by,
      ]);
      const qs = probe.queries;
      await tx.query(this.#sql.insertQueries, [
        name,
        qs.map((_, i) => i),
        qs.map((q) => q.id),
        qs.map((q) => q.sourceId),
        qs.map((q) => q.tenant),
        qs.map((q) => q.contentHash),
        qs.map((q) => q.kind),
        qs.map((q) => q.text),
        qs.map((q) => q.heldOut),
      ]);
      await this.#audit(tx, row.saved_by, 'probe.save', name, {
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
    return withTransaction(this.#pool, 'read a probe set', async (tx) => {
      const row = (await tx.query<SetRow>(this.#sql.selectSet, [name])).rows[0];
      if (!row) {
        const names = (await tx.query<{ name: string }>(this.#sql.names)).rows.map((r) => r.name);
        throw unknownProbeSet(name, names);
      }
      const queries = (await tx.query<ProbeQueryRow>(this.#sql.selectQueries, [name])).rows;
      return probeOfRows(rowOf(row), queries);
    });
  }

  async list(): Promise<ProbeSetInfo[]> {
    const rows = await run<SetRow>(this.#pool, 'list probe sets', this.#sql.listSets);
    return rows.map((r) => probeInfoOf(rowOf(r)));
  }

  async delete(name: string, options: { actor?: string } = {}): Promise<boolean> {
    return withTransaction(this.#pool, 'delete a probe set', async (tx) => {
      const held = (await tx.query<SetRow>(this.#sql.selectSetForUpdate, [name])).rows[0];
      if (!held) return false;
      await tx.query(this.#sql.deleteSet, [name]);
      await this.#audit(tx, options.actor ?? 'reembed', 'probe.delete', name, { digest: held.digest });
      return true;
    });
  }

  async #audit(
    tx: PgQueryable,
    actor: string,
    action: string,
    subject: string,
    details: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    await tx.query(this.#sql.insertAudit, [
      this.#clock.now().toISOString(),
      actor,
      action,
      subject,
      JSON.stringify(details),
    ]);
  }
}
