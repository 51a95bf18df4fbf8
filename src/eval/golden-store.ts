import { ReembedError } from '../core/errors.js';
import type { GoldenSet, GoldenSkipped } from '../core/golden.js';

/**
 * Golden sets stored in the catalog, so a migration's gates can name the set they were judged on
 * (`reembed eval --golden ./scifact --save-as scifact`, then `--golden scifact` anywhere). A stored set
 * comes back with the same digest it was saved with, so an eval result's `golden.digest` proves which
 * judgments it used. The embedded implementation is `SqliteGoldenSetRepository`.
 */
export interface GoldenSetInfo {
  readonly kind: 'golden-set-info';
  readonly name: string;
  readonly digest: string;
  readonly queries: number;
  readonly judgments: number;
  readonly skipped: GoldenSkipped;
  /** Where it was loaded from (path or description), for humans. */
  readonly source: string | null;
  readonly savedAt: string;
  readonly savedBy: string;
}

export interface SaveGoldenOptions {
  /** Recorded in the audit log (default `reembed`). */
  readonly actor?: string;
  /** Replace a stored set of the same name with different content (default: refuse with `ALREADY_EXISTS`). */
  readonly replace?: boolean;
  readonly source?: string;
}

export interface GoldenSetRepository {
  /**
   * Stores `golden` under `name` (queries in order, every judgment). Saving the same content again is a
   * no-op; different content under a taken name needs `replace`. Audited as `golden.save`.
   */
  save(name: string, golden: GoldenSet, options?: SaveGoldenOptions): Promise<GoldenSetInfo>;
  /** The stored set, named `name`; `NOT_FOUND` naming the stored sets otherwise. */
  get(name: string): Promise<GoldenSet>;
  list(): Promise<GoldenSetInfo[]>;
  /** Removes a stored set; returns false when there was none. Audited as `golden.delete`. */
  delete?(name: string, options?: { actor?: string }): Promise<boolean>;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Golden set names are catalog keys: letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export function assertGoldenName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Golden set name "${name}" is invalid: use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. scifact-test).`,
      { details: { name } },
    );
  }
}

export function unknownGoldenSet(name: string, known: readonly string[]): ReembedError {
  return new ReembedError(
    'NOT_FOUND',
    `No stored golden set "${name}". Stored sets: ${known.length ? known.join(', ') : '(none)'}. ` +
      'Save one with: reembed eval --golden <dir|file.jsonl> --save-as <name>.',
    { details: { name, known } },
  );
}
