import type { ProbeParams, ProbePopulation, ProbeSet, ProbeSkipReason } from '../core/probe.js';

/**
 * Evaluation sets stored in the catalog by name, so gates and reports can name the set they were measured
 * on and a stored set comes back with the digest it was saved with. One generic shape for every kind of
 * set — probe sets now (`probe:<name>`), judged golden sets when they move behind this port too — with a
 * SQLite and a PostgreSQL implementation each, declared on the `Backend` (never found by sniffing it).
 */
export interface SaveSetOptions {
  /** Recorded in the audit log (default `reembed`). */
  readonly actor?: string;
  /** Replace a stored set of the same name with different content (default: refuse with `ALREADY_EXISTS`). */
  readonly replace?: boolean;
  /** Where the set came from, for humans (a path, or how it was built). */
  readonly source?: string;
}

export interface EvaluationSetRepository<TSet, TInfo> {
  /**
   * Stores `set` under `name` in one transaction with its audit line. The same content again is a no-op;
   * other content under a taken name needs `replace`.
   */
  save(name: string, set: TSet, options?: SaveSetOptions): Promise<TInfo>;
  /** The stored set; `NOT_FOUND` naming the stored sets otherwise. Checks the digest it was saved with. */
  get(name: string): Promise<TSet>;
  list(): Promise<TInfo[]>;
  /** Removes a stored set; false when there was none. Audited. */
  delete(name: string, options?: { actor?: string }): Promise<boolean>;
}

/** What `probe show` and listings print without loading every query. */
export interface ProbeSetInfo {
  readonly kind: 'probe-set-info';
  readonly name: string;
  readonly collection: string;
  readonly digest: string;
  readonly queries: number;
  readonly params: ProbeParams;
  readonly population: ProbePopulation;
  readonly skipped: Readonly<Partial<Record<ProbeSkipReason, number>>>;
  readonly source: string | null;
  readonly savedAt: string;
  readonly savedBy: string;
}

/** Probe sets (`core/probe.ts`): audited as `probe.save` / `probe.delete`. */
export interface ProbeSetRepository extends EvaluationSetRepository<ProbeSet, ProbeSetInfo> {}
