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
  /**
   * `column` is one of a list bound as one parameter (`list(values)`): `= ANY($n::text[])` on PostgreSQL,
   * `IN (SELECT value FROM json_each(?))` on SQLite.
   */
  inList(column: string, n: number): string;
  /** The value to bind for `inList`. */
  list(values: readonly string[]): unknown;
  /** The LIMIT parameter value that means "no limit". */
  readonly noLimit: number | null;
  /** Column types: JSON document, instant, double. */
  readonly json: string;
  readonly timestamp: string;
  readonly real: string;
  readonly blob: string;
  readonly bigint: string;
  /** Column suffix that makes a text column compare by code point (PostgreSQL `COLLATE "C"`; SQLite's default). */
  readonly binaryCollation: string;
  /** A boolean column (SQLite: an INTEGER held to 0 or 1; bind `1`/`0` on both). */
  boolean(column: string): string;
  /** A generated integer primary key column type (SQLite AUTOINCREMENT: ids never reused). */
  readonly autoId: string;
  /** A generated integer primary key column type (SQLite: the rowid). */
  readonly rowId: string;
  /** The larger of two values (`greatest` / SQLite's two-argument `max`). */
  readonly greatest: string;
  /** Whether a failed statement (as thrown by the executor) was a unique-constraint violation. */
  uniqueViolation(error: unknown): boolean;
  /** Suffix of a lookup whose row the transaction will change (`FOR UPDATE`; SQLite's write lock covers it). */
  readonly forUpdate: string;
  /** Suffix of a lookup whose rows must not change or vanish before the transaction ends (`FOR SHARE`). */
  readonly forShare: string;
  /**
   * `column` matches the wildcard pattern bound as parameter `n` (built by `wildcard`): `LIKE` on
   * PostgreSQL, `GLOB` on SQLite — both case-sensitive.
   */
  matches(column: string, n: number): string;
  /** A user's pattern where `*` is the only wildcard, as the value to bind for `matches`. */
  wildcard(pattern: string): string;
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

/** The driver's error code of a failure, or of the failure it wraps (`STORE_FAILED` keeps it as cause). */
function causeCode(error: unknown): string {
  for (let e = error, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'STORE_FAILED') return code;
  }
  return '';
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
    inList: (column) => `${column} IN (SELECT value FROM json_each(?))`,
    list: (values) => JSON.stringify(values),
    noLimit: -1,
    json: 'TEXT',
    timestamp: 'TEXT',
    real: 'REAL',
    blob: 'BLOB',
    bigint: 'INTEGER',
    binaryCollation: '',
    boolean: (column) => `INTEGER NOT NULL CHECK (${column} IN (0, 1))`,
    autoId: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    rowId: 'INTEGER PRIMARY KEY',
    greatest: 'MAX',
    uniqueViolation: (error) => /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(causeCode(error)),
    forUpdate: '',
    forShare: '',
    matches: (column) => `${column} GLOB ?`,
    // Every GLOB character but `*` made literal.
    wildcard: (pattern) => pattern.replace(/[[?]/g, (c) => `[${c}]`),
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
    inList: (column, n) => `${column} = ANY($${n}::text[])`,
    list: (values) => [...values],
    noLimit: null,
    json: 'jsonb',
    timestamp: 'timestamptz',
    real: 'double precision',
    blob: 'bytea',
    bigint: 'bigint',
    binaryCollation: ' COLLATE "C"',
    boolean: () => 'boolean NOT NULL',
    autoId: 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    rowId: 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    greatest: 'greatest',
    uniqueViolation: (error) => causeCode(error) === '23505',
    forUpdate: ' FOR UPDATE',
    forShare: ' FOR SHARE',
    matches: (column, n) => `${column} LIKE $${n}`,
    // `%`, `_` and the backslash (LIKE's default escape) literal, `*` → `%`.
    wildcard: (pattern) => pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%'),
    withoutRowid: '',
    jsonText: (column) => `${column}::text AS ${column}`,
    binary: (column) => `${column} COLLATE "C"`,
    lockKey: () => 'SELECT pg_advisory_xact_lock(hashtext($1))',
  };
}
