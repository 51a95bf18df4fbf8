import { ReembedError } from '../../core/errors.js';

/** Schema and table names we create: lower-case letters, digits and `_`, at most 63 bytes (Postgres' limit). */
export const IDENTIFIER_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** A validated, double-quoted identifier. */
export function ident(name: string): string {
  if (!IDENTIFIER_RE.test(name)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `"${name}" is not a valid SQL identifier here: use [a-z_][a-z0-9_]{0,62}.`,
      { details: { identifier: name } },
    );
  }
  return `"${name}"`;
}

/** `"schema"."table"`. */
export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}

/**
 * What differs between the SQL dialects reembed speaks, as data and small pure functions: the repositories'
 * SQL builders take a dialect and return strings (STYLE #6), unit-tested without a database.
 */
export interface SqlDialect {
  readonly name: 'sqlite' | 'pg';
  /** A table's name as statements write it (PostgreSQL: qualified with the backend's schema). */
  table(name: string): string;
  /**
   * The n-th (1-based) positional parameter: `?` or `$n`. SQLite binds `?` in textual order, so a
   * statement numbers its parameters in the order they appear and uses each once (a unit test checks every
   * builder's statements).
   */
  param(n: number): string;
  /** `count` parameters from `from` on, comma-separated. */
  params(count: number, from?: number): string;
  /** The n-th parameter where its type cannot be inferred (`$n::type` on PostgreSQL; `x IS NULL` tests). */
  typed(n: number, pgType: string): string;
  /** Column types: JSON document, instant, double. */
  readonly json: string;
  readonly timestamp: string;
  readonly real: string;
  readonly blob: string;
  /** A boolean column (SQLite: an INTEGER held to 0 or 1; bind `1`/`0` on both). */
  boolean(column: string): string;
  /** A generated integer primary key column type. */
  readonly autoId: string;
  /** Suffix of a lookup whose row the transaction will change (`FOR UPDATE`; SQLite's write lock covers it). */
  readonly forUpdate: string;
  /** Suffix of a table with a composite primary key and no other use of a rowid (SQLite `WITHOUT ROWID`). */
  readonly withoutRowid: string;
  /** A JSON column selected as its text (jsonb otherwise arrives parsed). */
  jsonText(column: string): string;
  /** A text column ordered by code point, as SQLite's default BINARY collation orders it. */
  binary(column: string): string;
  /**
   * A statement that serialises writers of one key until the transaction ends (PostgreSQL advisory lock), or
   * null where the write transaction already holds the database's only write lock (SQLite).
   */
  lockKey(): string | null;
}

const commaList = (count: number, from: number, param: (n: number) => string): string =>
  Array.from({ length: count }, (_, i) => param(from + i)).join(', ');

export function sqliteDialect(): SqlDialect {
  const param = (): string => '?';
  return {
    name: 'sqlite',
    table: (name) => name,
    param,
    params: (count, from = 1) => commaList(count, from, param),
    typed: () => '?',
    json: 'TEXT',
    timestamp: 'TEXT',
    real: 'REAL',
    blob: 'BLOB',
    boolean: (column) => `INTEGER NOT NULL CHECK (${column} IN (0, 1))`,
    autoId: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    forUpdate: '',
    withoutRowid: ' WITHOUT ROWID',
    jsonText: (column) => column,
    binary: (column) => column,
    lockKey: () => null,
  };
}

/** PostgreSQL with every table in `schema` (validated). */
export function pgDialect(schema: string): SqlDialect {
  ident(schema);
  const param = (n: number): string => `$${n}`;
  return {
    name: 'pg',
    table: (name) => qualified(schema, name),
    param,
    params: (count, from = 1) => commaList(count, from, param),
    typed: (n, pgType) => `$${n}::${pgType}`,
    json: 'jsonb',
    timestamp: 'timestamptz',
    real: 'double precision',
    blob: 'bytea',
    boolean: () => 'boolean NOT NULL',
    autoId: 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    forUpdate: ' FOR UPDATE',
    withoutRowid: '',
    jsonText: (column) => `${column}::text AS ${column}`,
    binary: (column) => `${column} COLLATE "C"`,
    lockKey: () => 'SELECT pg_advisory_xact_lock(hashtext($1))',
  };
}
