import { assertProbeName, type ProbeSet, probeExists, unknownProbeSet } from '../../core/probe.js';
import type { ProbeSetInfo } from '../../ports/evaluation-sets.js';
import {
  type ProbeQueryRow,
  type ProbeSetRow,
  probeInfoOf,
  probeOfRows,
  probeSetRow,
} from '../shared/probe-rows.js';
import type { SqlDialect } from './dialect.js';
import { type SetKind, setRepositoryOpener, setStatements, setTablesDdl } from './evaluation-sets.js';
import { rows } from './executor.js';
import { sqlComponent } from './repository.js';
import { bulkColumns, insertRows } from './statements.js';

/** A set row plus its queries in order; queries go with their set (ON DELETE CASCADE). */
export function probesDdl(d: SqlDialect): string[] {
  return setTablesDdl(d, 'probe', {
    setColumns: `collection TEXT NOT NULL, params ${d.json} NOT NULL, population ${d.json} NOT NULL`,
    queryColumns: `source_id TEXT NOT NULL, tenant TEXT, content_hash TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('title', 'sentence', 'span')), text TEXT NOT NULL, held_out TEXT`,
    key: 'position',
  });
}

/** Statements of the repository in one dialect, as strings (STYLE #6): unit-tested without a database. */
export function probesSql(d: SqlDialect) {
  return {
    ...setStatements(d, 'probe_sets', '*', [
      'name',
      'collection',
      'digest',
      'queries',
      'params',
      'population',
      'skipped',
      'source',
      'saved_at',
      'saved_by',
    ]),
    selectQueries: `SELECT query_id, source_id, tenant, content_hash, kind, text, held_out
      FROM ${d.table('probe_queries')} WHERE set_name = ${d.param(1)} ORDER BY position`,
  };
}

const QUERY_COLUMNS = bulkColumns(
  'set_name text, position integer, query_id text, source_id text, tenant text, content_hash text, kind text, text text, held_out text',
);

/** The probe-set component: set rows and their queries in order. */
export const PROBES = sqlComponent('probes', 1, probesDdl, probesSql);

/** Probe sets: a set row and its queries in order, cut from one collection's documents. */
const PROBE_SETS: SetKind<ProbeSet, ProbeSetInfo, ProbeSetRow, ReturnType<typeof probesSql>> = {
  noun: 'probe',
  component: PROBES,
  assertName: assertProbeName,
  same: (held, probe) => held.digest === probe.digest && held.collection === probe.collection,
  exists: (name, held, probe) => probeExists(name, held.digest, held.saved_at, probe.digest),
  row: probeSetRow,
  values: (r) => [
    r.name,
    r.collection,
    r.digest,
    r.queries,
    r.params,
    r.population,
    r.skipped,
    r.source,
    r.saved_at,
    r.saved_by,
  ],
  *children(d, name, probe) {
    const queries = probe.queries.map((q, position) => [
      name,
      position,
      q.id,
      q.sourceId,
      q.tenant,
      q.contentHash,
      q.kind,
      q.text,
      q.heldOut,
    ]);
    yield* insertRows(d, 'probe_queries', QUERY_COLUMNS, queries);
  },
  auditDetails: (row, probe, replaced) => ({
    collection: probe.collection,
    digest: probe.digest,
    queries: row.queries,
    seed: probe.params.seed,
    replaced,
  }),
  *rebuild(sql, row) {
    return probeOfRows(row, yield* rows<ProbeQueryRow>(sql.selectQueries, [row.name]));
  },
  info: probeInfoOf,
  unknown: unknownProbeSet,
};

/** Probe sets in a SQL backend (SQLite or PostgreSQL): `SqlEvaluationSetRepository` of `PROBE_SETS`. */
export type SqlProbeSetRepository = Awaited<ReturnType<typeof openSqlProbeSets>>;

/** Creates the probe-set tables if needed (idempotent) and returns the repository. */
export const openSqlProbeSets = setRepositoryOpener(PROBE_SETS);
