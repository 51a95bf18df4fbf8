import { assertGoldenName, type GoldenSet, unknownGoldenSet } from '../../core/golden.js';
import type { GoldenSetInfo } from '../../ports/evaluation-sets.js';
import {
  type GoldenSetRow,
  goldenExists,
  goldenInfoOf,
  goldenJudgments,
  goldenOfRows,
  goldenSetRow,
} from '../shared/golden-rows.js';
import type { SqlDialect } from './dialect.js';
import { type SetKind, setRepositoryOpener, setStatements, setTablesDdl } from './evaluation-sets.js';
import { rows } from './executor.js';
import { sqlComponent } from './repository.js';
import { bulkColumns, insertRows } from './statements.js';

/** A set row plus its queries (in order) and judgments; children go with the set (ON DELETE CASCADE). */
export function goldenDdl(d: SqlDialect): string[] {
  const t = d.table;
  return [
    ...setTablesDdl(d, 'golden', {
      setColumns: 'judgments INTEGER NOT NULL CHECK (judgments >= 1)',
      queryColumns: 'text TEXT NOT NULL',
      key: 'query_id',
    }),
    `CREATE TABLE IF NOT EXISTS ${t('golden_qrels')} (
      set_name TEXT NOT NULL,
      query_id TEXT NOT NULL,
      doc_id TEXT NOT NULL,
      grade ${d.real} NOT NULL,
      PRIMARY KEY (set_name, query_id, doc_id),
      FOREIGN KEY (set_name, query_id) REFERENCES ${t('golden_queries')}(set_name, query_id) ON DELETE CASCADE
    )${d.withoutRowid}`,
  ];
}

/** Statements of the repository in one dialect, as strings (STYLE #6): unit-tested without a database. */
export function goldenSql(d: SqlDialect) {
  const t = d.table;
  const p = d.param;
  return {
    ...setStatements(
      d,
      'golden_sets',
      `name, digest, queries, judgments, ${d.jsonText('skipped')}, source, saved_at, saved_by`,
      ['name', 'digest', 'queries', 'judgments', 'skipped', 'source', 'saved_at', 'saved_by'],
    ),
    selectQueries: `SELECT query_id, text FROM ${t('golden_queries')} WHERE set_name = ${p(1)} ORDER BY position`,
    selectQrels: `SELECT query_id, doc_id, grade FROM ${t('golden_qrels')} WHERE set_name = ${p(1)}
      ORDER BY ${d.binary('query_id')}, ${d.binary('doc_id')}`,
  };
}

const QUERY_COLUMNS = bulkColumns('set_name text, position integer, query_id text, text text');
const QREL_COLUMNS = bulkColumns('set_name text, query_id text, doc_id text, grade double precision');

/** The golden-set component: set rows, their queries in order and their judgments. */
export const GOLDEN = sqlComponent('golden', 1, goldenDdl, goldenSql);

/** Golden sets: a set row, its queries in order and its judgments (read back through `GoldenSetBuilder`). */
const GOLDEN_SETS: SetKind<GoldenSet, GoldenSetInfo, GoldenSetRow, ReturnType<typeof goldenSql>> = {
  noun: 'golden',
  component: GOLDEN,
  assertName: assertGoldenName,
  same: (held, golden) => held.digest === golden.digest,
  exists: (name, held, golden) => goldenExists(name, held, golden.digest),
  row: goldenSetRow,
  values: (r) => [r.name, r.digest, r.queries, r.judgments, r.skipped, r.source, r.saved_at, r.saved_by],
  *children(d, name, golden) {
    const queries = golden.queries.map((q, position) => [name, position, q.id, q.text]);
    yield* insertRows(d, 'golden_queries', QUERY_COLUMNS, queries);
    const qrels = goldenJudgments(golden).map((j) => [name, j.queryId, j.docId, j.grade]);
    yield* insertRows(d, 'golden_qrels', QREL_COLUMNS, qrels);
  },
  auditDetails: (row, golden, replaced) => ({
    digest: golden.digest,
    queries: row.queries,
    judgments: row.judgments,
    replaced,
    source: row.source,
  }),
  *rebuild(sql, row) {
    const queries = yield* rows<{ query_id: string; text: string }>(sql.selectQueries, [row.name]);
    const qrels = yield* rows<{ query_id: string; doc_id: string; grade: number }>(sql.selectQrels, [
      row.name,
    ]);
    return goldenOfRows(row, queries, qrels);
  },
  info: goldenInfoOf,
  unknown: unknownGoldenSet,
};

/** Golden sets in a SQL backend (SQLite or PostgreSQL): `SqlEvaluationSetRepository` of `GOLDEN_SETS`. */
export type SqlGoldenSetRepository = Awaited<ReturnType<typeof openSqlGoldenSets>>;

/** Creates the golden-set tables if needed (idempotent) and returns the repository. */
export const openSqlGoldenSets = setRepositoryOpener(GOLDEN_SETS);
