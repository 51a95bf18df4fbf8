import type { Adapter, LoadedAdapter } from '../core/adapter.js';
import type { AdapterEvaluation, AdapterState } from '../core/adapter-gate.js';

export interface SaveAdapterInput {
  readonly adapter: Adapter;
  /** The serialised map (`mapBytes`); its sha256 must be `adapter.spec.weightsSha256`. */
  readonly weights: Uint8Array;
  /** Ids of the documents the adapter was fitted on (recovery is measured on the others). */
  readonly sample: readonly string[];
}

export interface AdapterRecord {
  readonly adapter: Adapter;
  readonly state: AdapterState;
  /** The most recent evaluation, if any. */
  readonly latest: AdapterEvaluation | null;
}

/**
 * Adapters as versioned artifacts: the fitted map (checked against its sha256 on every load), the sample
 * it was fitted on, its evaluations (append-only) and its state (`fitted → passed → revoked`). Every
 * change appends to the catalog's audit log in the same transaction, with the actor.
 */
export interface AdapterRepository {
  /** Stores a new adapter (`ALREADY_EXISTS` when the name is taken by another fingerprint; idempotent for the same). */
  save(input: SaveAdapterInput, actor: string): Promise<AdapterRecord>;
  /** By name or fingerprint; `NOT_FOUND` naming the known adapters otherwise. */
  get(nameOrFingerprint: string): Promise<AdapterRecord>;
  /** The adapter with its map, integrity-checked (`INTEGRITY_FAILED` if the stored weights changed). */
  load(nameOrFingerprint: string): Promise<LoadedAdapter>;
  sample(nameOrFingerprint: string): Promise<string[]>;
  list(options?: { collection?: string }): Promise<AdapterRecord[]>;
  /** The version number the next adapter from `source` to `target` (fingerprints) in the collection gets: 1 for the first. */
  nextVersion(collection: string, source: string, target: string): Promise<number>;
  /**
   * Appends an evaluation. A passing one moves a `fitted` adapter to `passed`; a failing one never changes
   * the state (drift is an alert, a revocation is explicit).
   */
  addEvaluation(
    nameOrFingerprint: string,
    evaluation: AdapterEvaluation,
    actor: string,
  ): Promise<AdapterRecord>;
  evaluations(nameOrFingerprint: string, options?: { limit?: number }): Promise<AdapterEvaluation[]>;
  /** `passed → revoked`: the adapter may no longer serve (audited with the reason). */
  revoke(nameOrFingerprint: string, reason: string, actor: string): Promise<AdapterRecord>;
}
