import { ReembedError } from './errors.js';

/**
 * Names of stored sets — golden sets, probe sets — are catalog keys: 1-128 letters, digits, `.`, `_`, `-`,
 * starting with a letter or digit.
 */
const SET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** One kind of stored set, as the messages about it name it. */
export interface StoredSetKind {
  /** `golden set`. */
  readonly kind: string;
  /** What a list of them is called (`Stored sets: ...`). */
  readonly stored: string;
  /** A good name, shown when a name is refused. */
  readonly example: string;
  /** How to make one, said when none is stored under a name. */
  readonly howToMake: string;
}

/** The kinds of stored sets: golden sets (judged) and probe sets (built from the collection). */
export const STORED_SETS = {
  golden: {
    kind: 'golden set',
    stored: 'sets',
    example: 'scifact-test',
    howToMake: 'Save one with: reembed eval --golden <dir|file.jsonl> --save-as <name>.',
  },
  probe: {
    kind: 'probe set',
    stored: 'probe sets',
    example: 'docs-probe',
    howToMake: 'Build one with: reembed probe create <collection> --name <name>.',
  },
} as const satisfies Record<string, StoredSetKind>;

/** Refuses a set name that is not a catalog key. */
export function assertSetName(set: StoredSetKind, name: string): void {
  if (!SET_NAME_RE.test(name)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `${set.kind.charAt(0).toUpperCase()}${set.kind.slice(1)} name "${name}" is invalid: use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. ${set.example}).`,
      { details: { name } },
    );
  }
}

/** The refusal for a set nothing is stored under: what is stored, and how to make one. */
export function unknownSet(set: StoredSetKind, name: string, known: readonly string[]): ReembedError {
  return new ReembedError(
    'NOT_FOUND',
    `No stored ${set.kind} "${name}". Stored ${set.stored}: ${known.length ? known.join(', ') : '(none)'}. ${set.howToMake}`,
    { details: { name, known } },
  );
}
