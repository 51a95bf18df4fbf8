import type { NamespaceStats } from '../../core/records.js';

/** A count of records of one fingerprint and dimension (a `GROUP BY fingerprint, dimension` row). */
export interface SpaceGroup {
  readonly fingerprint: string;
  readonly dimension: number;
  readonly n: number;
}

/**
 * The records of a namespace counted per fingerprint and per dimension (the monitor's version
 * distribution: one key each in a healthy namespace), and in all.
 */
export function tallySpaces(
  groups: readonly SpaceGroup[],
): Pick<NamespaceStats, 'records' | 'fingerprints' | 'dimensions'> {
  const fingerprints: Record<string, number> = {};
  const dimensions: Record<string, number> = {};
  let records = 0;
  for (const { fingerprint, dimension, n } of groups) {
    records += n;
    fingerprints[fingerprint] = (fingerprints[fingerprint] ?? 0) + n;
    dimensions[String(dimension)] = (dimensions[String(dimension)] ?? 0) + n;
  }
  return { records, fingerprints, dimensions };
}
