import { sha256Hex } from '../../core/canonical.js';
import { ReembedError } from '../../core/errors.js';
import { METRICS, type Metric } from '../../core/space.js';
import { auditLogDdl, namespacesDdl, spacesDdl } from '../sql/catalog-sql.js';
import { pgDialect } from '../sql/dialect.js';

/**
 * Pure SQL builders for the Postgres backend (STYLE.md #6): every statement is a string you can print
 * and unit-test. Identifiers are validated against a strict pattern and double-quoted; values are always
 * bind parameters, except in DDL, where Postgres accepts no parameters and the few literals are
 * validated and quoted by `literal()`.
 */

/** Schema and table names we create: lower-case letters, digits and `_`, at most 63 bytes (Postgres' limit). */
export const IDENTIFIER_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const LITERAL_RE = /^[A-Za-z0-9_.:@-]{1,200}$/;

/** Version of the tables `baseDdl` creates, recorded in `schema_version` (component `core`). */
export const SCHEMA_VERSION = 1;
export const SCHEMA_COMPONENT = 'core';

export function ident(name: string): string {
  if (!IDENTIFIER_RE.test(name)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `"${name}" is not a valid SQL identifier here: use [a-z_][a-z0-9_]{0,62}.`,
      {
        details: { identifier: name },
      },
    );
  }
  return `"${name}"`;
}

/** A string literal for DDL (which cannot take bind parameters): only a safe character set is accepted. */
export function literal(value: string): string {
  if (!LITERAL_RE.test(value)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `"${value}" cannot be used as a DDL literal: only [A-Za-z0-9_.:@-] allowed.`,
      {
        details: { value },
      },
    );
  }
  return `'${value}'`;
}

/** `"schema"."table"`. */
export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}

const list = (values: readonly string[]): string => values.map(literal).join(', ');

/**
 * The table of a namespace: `ns_<sanitised name>_<8 hex of sha256(name)>`. The hash keeps names that
 * sanitise alike (`docs@v1.0` and `docs@v1-0`) apart; the prefix keeps `\dt` readable.
 */
export function namespaceTable(namespace: string): string {
  const sanitised = namespace
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  return `ns_${sanitised}_${sha256Hex(namespace).slice(0, 8)}`;
}

export function headsTable(namespace: string): string {
  return `${namespaceTable(namespace)}_heads`;
}

/**
 * pgvector operator class and distance operator per metric. Cosine namespaces store unit vectors (the
 * store normalises on write and query) and use the inner product: the same ranking and score as cosine,
 * a cheaper distance, and zero vectors stay searchable (score 0) instead of being left out of the HNSW
 * index as zero-norm vectors are under `vector_cosine_ops`.
 */
export function metricOps(metric: Metric): { opclass: string; operator: string } {
  switch (metric) {
    case 'cosine':
    case 'dot':
      return { opclass: 'vector_ip_ops', operator: '<#>' };
    case 'l2':
      return { opclass: 'vector_l2_ops', operator: '<->' };
  }
}

/**
 * Score from pgvector's distance, higher is better for every metric, on the same scale as the embedded
 * store: the inner product (`<#>` returns its negation; for unit vectors it is the cosine similarity) and
 * the negated squared Euclidean distance.
 */
export function scoreExpression(metric: Metric, distance: string): string {
  return metric === 'l2' ? `-((${distance}) ^ 2)` : `-(${distance})`;
}

/** Serialises everything that runs DDL in this schema, so two processes starting at once do not race. */
export function advisoryLockSql(): string {
  return 'SELECT pg_advisory_xact_lock(hashtext($1))';
}

/** Control plane, sources, vector-store registry and checkpoints: created idempotently in one transaction. */
export function baseDdl(schema: string): string[] {
  const t = (name: string): string => qualified(schema, name);
  const s = ident(schema);
  const d = pgDialect(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${t('schema_version')} (
      component text PRIMARY KEY,
      version integer NOT NULL CHECK (version >= 1),
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,
    spacesDdl(d),
    // last_version is the per-collection counter every source upsert or delete takes the next value of;
    // writers lock this row (FOR UPDATE), so versions are gap-free and monotonic per collection.
    `CREATE TABLE IF NOT EXISTS ${t('collections')} (
      name text PRIMARY KEY,
      created_at timestamptz NOT NULL,
      last_version bigint NOT NULL DEFAULT 0 CHECK (last_version >= 0)
    )`,
    ...namespacesDdl(d),
    // A cutover is one UPDATE of one row (invariant 7); the unique index makes "one row per alias" a
    // storage rule, and serving_namespace (derived from routing) lets retirement find what still serves.
    `CREATE TABLE IF NOT EXISTS ${t('aliases')} (
      name text NOT NULL,
      collection text NOT NULL REFERENCES ${t('collections')}(name),
      routing jsonb NOT NULL,
      serving_namespace text NOT NULL REFERENCES ${t('namespaces')}(name),
      version integer NOT NULL CHECK (version >= 1),
      updated_at timestamptz NOT NULL
    )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS aliases_one_row_per_name ON ${t('aliases')} (name)`,
    `CREATE INDEX IF NOT EXISTS aliases_by_serving ON ${t('aliases')} (serving_namespace)`,
    ...auditLogDdl(d),
    ...auditAppendOnlyDdl(schema),
    `CREATE TABLE IF NOT EXISTS ${t('sources')} (
      collection text NOT NULL REFERENCES ${t('collections')}(name),
      id text COLLATE "C" NOT NULL CHECK (length(id) BETWEEN 1 AND 512),
      text text NOT NULL,
      metadata jsonb NOT NULL DEFAULT '{}',
      tenant text,
      content_hash text NOT NULL,
      version bigint NOT NULL CHECK (version >= 1),
      deleted boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL,
      hits bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (collection, id)
    )`,
    `CREATE INDEX IF NOT EXISTS sources_hottest ON ${t('sources')} (collection, hits DESC, id) WHERE NOT deleted`,
    `CREATE TABLE IF NOT EXISTS ${t('ns_meta')} (
      name text PRIMARY KEY,
      table_name text NOT NULL UNIQUE,
      fingerprint text NOT NULL,
      space_name text NOT NULL,
      dimension integer NOT NULL CHECK (dimension BETWEEN 1 AND 65536),
      metric text NOT NULL CHECK (metric IN (${list(METRICS)})),
      hnsw_m integer NOT NULL,
      hnsw_ef_construction integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS ${t('checkpoints')} (
      job_id text PRIMARY KEY,
      namespace text,
      cursor text NOT NULL,
      processed bigint NOT NULL CHECK (processed >= 0),
      updated_at timestamptz NOT NULL
    )`,
  ];
}

/** Invariant 8 enforced by the database: UPDATE, DELETE and TRUNCATE of the audit log raise. */
export function auditAppendOnlyDdl(schema: string): string[] {
  const fn = qualified(schema, 'audit_log_append_only');
  const table = qualified(schema, 'audit_log');
  return [
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only: entries cannot be changed or removed (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$`,
    `CREATE OR REPLACE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON ${table}
      FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
    `CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON ${table}
      FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
  ];
}

export interface NamespaceDdlInput {
  readonly schema: string;
  readonly namespace: string;
  readonly fingerprint: string;
  readonly dimension: number;
  readonly metric: Metric;
  readonly hnsw: { readonly m: number; readonly efConstruction: number; readonly deferred?: boolean };
}

/** The largest `toast_tuple_target` (a heap page less its header): rows up to this size are not TOASTed. */
export const TOAST_TUPLE_TARGET = 8160;

/**
 * Tables and index of one namespace (the index only when not `hnsw.deferred`). The CHECK on `fingerprint` makes invariant 1 a storage rule: even a
 * buggy writer cannot put a record of another space in this table; `vector(d)` does the same for the
 * dimension. Heads (newest version or tombstone per source) live in their own table so a drop is two
 * DROP TABLEs and the versioned write's gate is one upsert on a small table.
 *
 * Records stay whole in the heap page: a record (a 384-d vector is 1.5 kB, plus its text and provenance)
 * is larger than Postgres' default 2 kB TOAST threshold, which would move each vector out of line — a
 * second heap and index insert per record on write, and a TOAST fetch per vector in exact search and
 * index builds. `toast_tuple_target` lets rows up to a page stay inline, and `STORAGE MAIN` keeps the
 * vector inline (the text is moved out first) when a row is larger still.
 */
export function namespaceDdl(input: NamespaceDdlInput): string[] {
  const { schema, namespace, dimension, hnsw } = input;
  assertInt('dimension', dimension, 1, 16000);
  assertInt('hnsw.m', hnsw.m, 2, 100);
  assertInt('hnsw.efConstruction', hnsw.efConstruction, 4, 1000);
  const records = qualified(schema, namespaceTable(namespace));
  const heads = qualified(schema, headsTable(namespace));
  return [
    `CREATE TABLE IF NOT EXISTS ${records} (
      source_id text COLLATE "C" NOT NULL,
      chunk_index integer NOT NULL,
      record_id text NOT NULL,
      fingerprint text NOT NULL CHECK (fingerprint = ${literal(input.fingerprint)}),
      content_hash text NOT NULL,
      source_version bigint NOT NULL,
      embedded_at timestamptz NOT NULL,
      tenant text,
      metadata jsonb NOT NULL DEFAULT '{}',
      text text NOT NULL,
      embedding vector(${dimension}) NOT NULL,
      PRIMARY KEY (source_id, chunk_index)
    ) WITH (toast_tuple_target = ${TOAST_TUPLE_TARGET})`,
    `ALTER TABLE ${records} ALTER COLUMN embedding SET STORAGE MAIN`,
    `CREATE TABLE IF NOT EXISTS ${heads} (
      source_id text COLLATE "C" PRIMARY KEY,
      source_version bigint NOT NULL,
      content_hash text,
      deleted boolean NOT NULL,
      CHECK (deleted = (content_hash IS NULL))
    )`,
    ...(hnsw.deferred ? [] : [hnswIndexDdl(input)]),
  ];
}

/** `schema.table_hnsw`, as `to_regclass` takes it. */
export function hnswIndexName(schema: string, namespace: string): string {
  return qualified(schema, `${namespaceTable(namespace)}_hnsw`);
}

export function hnswIndexDdl(input: NamespaceDdlInput): string {
  const table = namespaceTable(input.namespace);
  return (
    `CREATE INDEX IF NOT EXISTS ${ident(`${table}_hnsw`)} ON ${qualified(input.schema, table)} ` +
    `USING hnsw (embedding ${metricOps(input.metric).opclass}) ` +
    `WITH (m = ${input.hnsw.m}, ef_construction = ${input.hnsw.efConstruction})`
  );
}

/**
 * Heads first, then records: the order in which a write statement locks them (its heads gate precedes
 * its records), so a drop and a write wait for each other instead of deadlocking.
 */
export function dropNamespaceDdl(schema: string, namespace: string): string[] {
  return [
    `DROP TABLE IF EXISTS ${qualified(schema, headsTable(namespace))}`,
    `DROP TABLE IF EXISTS ${qualified(schema, namespaceTable(namespace))}`,
  ];
}

/**
 * What creating a namespace would run, for `reembed plan --dry-run`: the base tables (idempotent) and the
 * namespace's own, each statement terminated by `;`.
 */
export function planDdl(input: NamespaceDdlInput, options: { includeBase?: boolean } = {}): string {
  const statements = [...(options.includeBase ? baseDdl(input.schema) : []), ...namespaceDdl(input)];
  return `${statements.map((s) => `${s.replace(/\n {4}/g, '\n  ')};`).join('\n\n')}\n`;
}

function assertInt(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ReembedError(
      'INVALID_INPUT',
      `${what} must be an integer between ${min} and ${max}, got ${value}.`,
      {
        details: { field: what, value },
      },
    );
  }
}
