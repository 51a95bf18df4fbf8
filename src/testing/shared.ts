import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where tests and benchmarks find the shared, read-only data (real IR datasets, word-vector models,
 * peer projects): `$REEMBED_SHARED_DIR`, else `shared/` beside the repository (`<repo>/../shared`, as a
 * fresh clone next to it sees it). Never an absolute path of one machine. This module sits two levels
 * below the repository root both as source (`src/testing/`) and compiled (`dist/testing/`).
 *
 * @example
 * const scifact = sharedData('datasets/scifact', 'corpus.jsonl');
 * describe.skipIf(!scifact.present)(scifact.label('SciFact evaluation'), () => { ... });
 */
export function sharedDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env.REEMBED_SHARED_DIR;
  if (override) return resolve(override);
  return resolve(import.meta.dirname, '..', '..', '..', 'shared');
}

const announced = new Set<string>();

/** A folder or file of the shared data, whether it is there, and the one line to print when it is not. */
export interface SharedData {
  /** Absolute path of `relative` under the shared folder. */
  readonly path: string;
  /** The marker file (or the path itself) exists. */
  readonly present: boolean;
  /** Why tests needing it skip: one line naming the missing path and how to provide it. */
  readonly skipReason: string;
  /** `title` when present; otherwise the title with the skip reason, so the skip explains itself. */
  label(title: string): string;
}

/**
 * `relative` under the shared folder (e.g. `datasets/scifact`); `marker` is a file inside it whose
 * presence means the data is usable (e.g. `corpus.jsonl`); `what` names what skips without it. When it is
 * missing, the skip reason is printed once (one line) and `label` adds it to the skipped test's title.
 */
export function sharedData(relative: string, marker?: string, what?: string): SharedData {
  const path = join(sharedDir(), relative);
  const checked = marker ? join(path, marker) : path;
  const present = existsSync(checked);
  const skipReason = `skipped${what ? ` ${what}` : ''}: ${checked} not found (the shared data folder is ../shared beside the repository, or set REEMBED_SHARED_DIR)`;
  if (!present && !announced.has(checked)) {
    announced.add(checked);
    console.warn(skipReason);
  }
  return {
    path,
    present,
    skipReason,
    label: (title) => (present ? title : `${title} — ${skipReason}`),
  };
}
