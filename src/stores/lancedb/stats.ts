import type { NamespaceStats } from '../../core/records.js';
import type { NamespaceDescriptor } from '../../ports/vector-store.js';
import type { LanceTableLike } from './lance-types.js';
import { columnOf } from './read.js';
import { and, kindIs, sqlString } from './sql.js';

/**
 * Namespace statistics from row counts. The fingerprint tally is a count of the namespace's own
 * fingerprint; only when that misses records (corruption, invariant 1) is the column scanned to name
 * every fingerprint present. The vector column is `FixedSizeList(dimension)`, so every stored vector
 * has the namespace's dimension by construction.
 */
export async function namespaceStats(
  table: LanceTableLike,
  descriptor: NamespaceDescriptor,
): Promise<NamespaceStats> {
  const chunks = kindIs('chunk');
  const heads = kindIs('head');
  const [records, sources, tombstones, own] = await Promise.all([
    table.countRows(chunks),
    table.countRows(and(heads, 'deleted = false', 'chunk_count > 0')),
    table.countRows(and(heads, 'deleted = true')),
    table.countRows(and(chunks, `fingerprint = ${sqlString(descriptor.fingerprint)}`)),
  ]);
  const fingerprints =
    own === records ? tally(own > 0 ? [[descriptor.fingerprint, own]] : []) : await scanFingerprints(table);
  const dimensions = tally(records > 0 ? [[String(descriptor.dimension), records]] : []);
  return Object.freeze({ records, sources, tombstones, fingerprints, dimensions });
}

async function scanFingerprints(table: LanceTableLike): Promise<Readonly<Record<string, number>>> {
  const result = await table.query().where(kindIs('chunk')).select(['fingerprint']).toArrow();
  const counts = new Map<string, number>();
  for (const fp of columnOf<string>(result, 'fingerprint')) counts.set(fp, (counts.get(fp) ?? 0) + 1);
  return tally([...counts]);
}

function tally(entries: [string, number][]): Readonly<Record<string, number>> {
  return Object.freeze(Object.fromEntries(entries));
}
