import { ReembedError } from './errors.js';

/**
 * Names of stored sets — golden sets, probe sets — are catalog keys: 1-128 letters, digits, `.`, `_`, `-`,
 * starting with a letter or digit.
 */
const SET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Refuses a set name that is not a catalog key; `kind` names the set (`Golden set`), `example` a good name. */
export function assertSetName(kind: string, name: string, example: string): void {
  if (!SET_NAME_RE.test(name)) {
    throw new ReembedError(
      'INVALID_INPUT',
      `${kind} name "${name}" is invalid: use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. ${example}).`,
      { details: { name } },
    );
  }
}

/** The refusal for a set nothing is stored under: what is stored (`stored` names them), and how to make one. */
export function unknownSet(
  kind: string,
  name: string,
  known: readonly string[],
  stored: string,
  hint: string,
): ReembedError {
  return new ReembedError(
    'NOT_FOUND',
    `No stored ${kind} "${name}". Stored ${stored}: ${known.length ? known.join(', ') : '(none)'}. ${hint}`,
    { details: { name, known } },
  );
}
