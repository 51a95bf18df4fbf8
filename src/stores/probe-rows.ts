import {
  type ProbeKind,
  type ProbeQuery,
  type ProbeSet,
  probeDigestMismatch,
  probeSetValue,
  resolveProbeParams,
} from '../core/probe.js';
import type { ProbeSetInfo, SaveSetOptions } from '../ports/evaluation-sets.js';

/**
 * Rows of the probe tables, the same in every SQL store (SQLite keeps the JSON columns as text, PostgreSQL
 * as jsonb, which the driver returns parsed), and their conversion to and from `ProbeSet`.
 */
export interface ProbeSetRow {
  name: string;
  collection: string;
  digest: string;
  queries: number;
  params: string | object;
  population: string | object;
  skipped: string | object;
  source: string | null;
  saved_at: string;
  saved_by: string;
}

export interface ProbeQueryRow {
  query_id: string;
  source_id: string;
  tenant: string | null;
  content_hash: string;
  kind: string;
  text: string;
  held_out: string | null;
}

export function probeInfoOf(row: ProbeSetRow): ProbeSetInfo {
  return Object.freeze({
    kind: 'probe-set-info' as const,
    name: row.name,
    collection: row.collection,
    digest: row.digest,
    queries: Number(row.queries),
    params: resolveProbeParams(json(row.params)),
    population: json(row.population) as ProbeSetInfo['population'],
    skipped: json(row.skipped) as ProbeSetInfo['skipped'],
    source: row.source,
    savedAt: row.saved_at,
    savedBy: row.saved_by,
  });
}

/** Rebuilds a stored probe and checks it hashes to the digest it was saved with. */
export function probeOfRows(row: ProbeSetRow, rows: readonly ProbeQueryRow[]): ProbeSet {
  const info = probeInfoOf(row);
  const queries: ProbeQuery[] = rows.map((q) => ({
    id: q.query_id,
    sourceId: q.source_id,
    tenant: q.tenant,
    contentHash: q.content_hash,
    kind: q.kind as ProbeKind,
    text: q.text,
    heldOut: q.held_out,
  }));
  const probe = probeSetValue({
    name: info.name,
    collection: info.collection,
    params: info.params,
    queries,
    population: info.population,
    skipped: info.skipped,
  });
  if (probe.digest !== row.digest) throw probeDigestMismatch(row.name, row.digest, probe.digest);
  return probe;
}

export function probeSetRow(
  name: string,
  probe: ProbeSet,
  options: SaveSetOptions,
  at: string,
): ProbeSetRow & { params: string; population: string; skipped: string } {
  return {
    name,
    collection: probe.collection,
    digest: probe.digest,
    queries: probe.queries.length,
    params: JSON.stringify(probe.params),
    population: JSON.stringify(probe.population),
    skipped: JSON.stringify(probe.skipped),
    source: options.source ?? null,
    saved_at: at,
    saved_by: options.actor ?? 'reembed',
  };
}

const json = (value: string | object): unknown => (typeof value === 'string' ? JSON.parse(value) : value);
