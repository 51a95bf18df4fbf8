import type { LoadedAdapter } from '../../core/adapter.js';
import { type AdapterEvaluation, type AdapterState, stateAfter } from '../../core/adapter-gate.js';
import type { AdapterRecord, AdapterRepository, SaveAdapterInput } from '../../ports/adapters.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import {
  type AdapterRow,
  adapterTaken,
  cannotRevoke,
  checkSave,
  loadedOfRow,
  recordOfRow,
  saveAuditDetails,
  unknownAdapter,
} from '../adapter-rows.js';
import { applyComponentSchema } from './migrations.js';
import { iso, num, type PgPoolLike, type PgQueryable, run, withTransaction } from './pool.js';
import { ident, qualified } from './sql.js';

export const ADAPTERS_COMPONENT = 'adapters';
export const ADAPTERS_SCHEMA_VERSION = 1;

export function pgAdaptersDdl(schema: string): string[] {
  const t = (name: string): string => qualified(schema, name);
  return [
    `CREATE TABLE IF NOT EXISTS ${t('adapters')} (
      fingerprint text PRIMARY KEY,
      name text NOT NULL UNIQUE,
      collection text NOT NULL,
      direction text NOT NULL CHECK (direction IN ('query', 'corpus')),
      source_fp text NOT NULL,
      target_fp text NOT NULL,
      spec jsonb NOT NULL,
      fit jsonb NOT NULL,
      weights bytea NOT NULL,
      sample jsonb NOT NULL,
      state text NOT NULL CHECK (state IN ('fitted', 'passed', 'revoked')),
      created_at timestamptz NOT NULL,
      created_by text NOT NULL,
      latest jsonb
    )`,
    `CREATE INDEX IF NOT EXISTS adapters_by_collection ON ${t('adapters')} (collection, source_fp, target_fp)`,
    `CREATE TABLE IF NOT EXISTS ${t('adapter_evaluations')} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      adapter text NOT NULL REFERENCES ${t('adapters')} (fingerprint),
      at timestamptz NOT NULL,
      passed boolean NOT NULL,
      body jsonb NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS adapter_evaluations_by_adapter ON ${t('adapter_evaluations')} (adapter, id)`,
  ];
}

interface PgAdapterRow {
  fingerprint: string;
  name: string;
  collection: string;
  direction: string;
  source_fp: string;
  target_fp: string;
  spec: AdapterRow['spec'];
  fit: AdapterRow['fit'];
  state: AdapterState;
  created_at: Date | string;
  latest: AdapterEvaluation | null;
}

const COLUMNS =
  'fingerprint, name, collection, direction, source_fp, target_fp, spec, fit, state, created_at, latest';

/**
 * Adapters in PostgreSQL with the semantics of the embedded repository: one row per adapter (weights as
 * bytea), append-only evaluations, and each change audited in its transaction (invariant 8).
 */
export class PgAdapterRepository implements AdapterRepository {
  readonly #pool: PgPoolLike;
  readonly #schema: string;
  readonly #clock: Clock;

  private constructor(pool: PgPoolLike, schema: string, clock: Clock) {
    this.#pool = pool;
    this.#schema = schema;
    this.#clock = clock;
  }

  static async open(
    pool: PgPoolLike,
    options: { schema: string; clock?: Clock },
  ): Promise<PgAdapterRepository> {
    ident(options.schema);
    await applyComponentSchema(
      pool,
      options.schema,
      ADAPTERS_COMPONENT,
      ADAPTERS_SCHEMA_VERSION,
      pgAdaptersDdl(options.schema),
    );
    return new PgAdapterRepository(pool, options.schema, options.clock ?? systemClock);
  }

  async save(input: SaveAdapterInput, actor: string): Promise<AdapterRecord> {
    checkSave(input);
    const a = input.adapter;
    return withTransaction(this.#pool, 'save an adapter', async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`reembed:adapter:${a.name}`]);
      const held = await this.#row(tx, a.fingerprint);
      if (held) return recordOfRow(rowOf(held));
      const named = await this.#row(tx, a.name);
      if (named) throw adapterTaken(a.name, named.fingerprint, a.fingerprint);
      await tx.query(
        `INSERT INTO ${this.#t('adapters')} (fingerprint, name, collection, direction, source_fp, target_fp, spec, fit,
           weights, sample, state, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'fitted', $11, $12)`,
        [
          a.fingerprint,
          a.name,
          a.spec.collection,
          a.spec.direction,
          a.spec.source.fingerprint,
          a.spec.target.fingerprint,
          JSON.stringify(a.spec),
          JSON.stringify(a.fit),
          Buffer.from(input.weights),
          JSON.stringify(input.sample),
          a.createdAt,
          actor,
        ],
      );
      await this.#audit(tx, actor, 'adapter.fit', a.name, saveAuditDetails(a));
      return recordOfRow(rowOf((await this.#row(tx, a.fingerprint)) as PgAdapterRow));
    });
  }

  async get(ref: string): Promise<AdapterRecord> {
    return recordOfRow(rowOf(await this.#require(this.#pool, ref)));
  }

  async load(ref: string): Promise<LoadedAdapter> {
    const row = await this.#require(this.#pool, ref);
    const [w] = await run<{ weights: Buffer }>(
      this.#pool,
      'load an adapter',
      `SELECT weights FROM ${this.#t('adapters')} WHERE fingerprint = $1`,
      [row.fingerprint],
    );
    return loadedOfRow(rowOf(row), new Uint8Array(w?.weights ?? Buffer.alloc(0)));
  }

  async sample(ref: string): Promise<string[]> {
    const row = await this.#require(this.#pool, ref);
    const [s] = await run<{ sample: string[] }>(
      this.#pool,
      'read an adapter sample',
      `SELECT sample FROM ${this.#t('adapters')} WHERE fingerprint = $1`,
      [row.fingerprint],
    );
    return s?.sample ?? [];
  }

  async list(options: { collection?: string } = {}): Promise<AdapterRecord[]> {
    const rows =
      options.collection === undefined
        ? await run<PgAdapterRow>(
            this.#pool,
            'list adapters',
            `SELECT ${COLUMNS} FROM ${this.#t('adapters')} ORDER BY collection, created_at, name`,
          )
        : await run<PgAdapterRow>(
            this.#pool,
            'list adapters',
            `SELECT ${COLUMNS} FROM ${this.#t('adapters')} WHERE collection = $1 ORDER BY created_at, name`,
            [options.collection],
          );
    return rows.map((r) => recordOfRow(rowOf(r)));
  }

  async nextVersion(collection: string, source: string, target: string): Promise<number> {
    const [r] = await run<{ n: string }>(
      this.#pool,
      'count adapters',
      `SELECT count(*) AS n FROM ${this.#t('adapters')} WHERE collection = $1 AND source_fp = $2 AND target_fp = $3`,
      [collection, source, target],
    );
    return num(r?.n ?? 0) + 1;
  }

  async addEvaluation(ref: string, evaluation: AdapterEvaluation, actor: string): Promise<AdapterRecord> {
    return withTransaction(this.#pool, 'record an adapter evaluation', async (tx) => {
      const row = await this.#require(tx, ref, true);
      const state = stateAfter(row.state, evaluation);
      await tx.query(
        `INSERT INTO ${this.#t('adapter_evaluations')} (adapter, at, passed, body) VALUES ($1, $2, $3, $4)`,
        [row.fingerprint, evaluation.at, evaluation.passed, JSON.stringify(evaluation)],
      );
      await tx.query(`UPDATE ${this.#t('adapters')} SET state = $1, latest = $2 WHERE fingerprint = $3`, [
        state,
        JSON.stringify(evaluation),
        row.fingerprint,
      ]);
      await this.#audit(tx, actor, 'adapter.evaluate', row.name, {
        reason: evaluation.reason,
        set: evaluation.set.name,
        passed: evaluation.passed,
        state: { from: row.state, to: state },
        failing: evaluation.results.filter((r) => !r.passed).map((r) => r.rule),
      });
      return recordOfRow(rowOf(await this.#require(tx, row.fingerprint)));
    });
  }

  async evaluations(ref: string, options: { limit?: number } = {}): Promise<AdapterEvaluation[]> {
    const row = await this.#require(this.#pool, ref);
    const rows = await run<{ body: AdapterEvaluation }>(
      this.#pool,
      'read adapter evaluations',
      `SELECT body FROM ${this.#t('adapter_evaluations')} WHERE adapter = $1 ORDER BY id DESC LIMIT $2`,
      [row.fingerprint, options.limit ?? 100],
    );
    return rows.map((r) => r.body);
  }

  async revoke(ref: string, reason: string, actor: string): Promise<AdapterRecord> {
    return withTransaction(this.#pool, 'revoke an adapter', async (tx) => {
      const row = await this.#require(tx, ref, true);
      if (row.state === 'revoked') throw cannotRevoke(row.name, row.state);
      await tx.query(`UPDATE ${this.#t('adapters')} SET state = 'revoked' WHERE fingerprint = $1`, [
        row.fingerprint,
      ]);
      await this.#audit(tx, actor, 'adapter.revoke', row.name, { reason, from: row.state });
      return recordOfRow(rowOf(await this.#require(tx, row.fingerprint)));
    });
  }

  async #row(q: PgQueryable, ref: string, lock = false): Promise<PgAdapterRow | undefined> {
    const { rows } = await q.query<PgAdapterRow>(
      `SELECT ${COLUMNS} FROM ${this.#t('adapters')} WHERE fingerprint = $1 OR name = $1${lock ? ' FOR UPDATE' : ''}`,
      [ref],
    );
    return rows[0];
  }

  async #require(q: PgQueryable, ref: string, lock = false): Promise<PgAdapterRow> {
    const row = await this.#row(q, ref, lock);
    if (!row) {
      const { rows } = await q.query<{ name: string }>(
        `SELECT name FROM ${this.#t('adapters')} ORDER BY name`,
      );
      throw unknownAdapter(
        ref,
        rows.map((r) => r.name),
      );
    }
    return row;
  }

  async #audit(
    q: PgQueryable,
    actor: string,
    action: string,
    subject: string,
    details: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    await q.query(
      `INSERT INTO ${this.#t('audit_log')} (at, actor, action, subject, details) VALUES ($1, $2, $3, $4, $5)`,
      [this.#clock.now().toISOString(), actor, action, subject, JSON.stringify(details)],
    );
  }

  #t(name: string): string {
    return qualified(this.#schema, name);
  }
}

function rowOf(r: PgAdapterRow): AdapterRow {
  return { ...r, created_at: iso(r.created_at), latest: r.latest ?? null };
}
