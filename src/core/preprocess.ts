import { ReembedError } from './errors.js';

/**
 * Versioned text preprocessing. The version name is part of a space's fingerprint (`spec.preprocessing`),
 * so what an existing version does must never change: add a new version instead, and spaces that use it
 * become new spaces that need a migration — which is exactly the point.
 *
 * - `v1`: Unicode NFKC, every run of whitespace collapsed to one space, trimmed.
 * - `raw`: the text unchanged.
 */
export const PREPROCESSING_VERSIONS = ['v1', 'raw'] as const;
export type PreprocessingVersion = (typeof PREPROCESSING_VERSIONS)[number];

// NFKC is the identity on ASCII, and ASCII is the common case: skip ICU there.
const NON_ASCII = /[\u0080-\uffff]/;
// Printable ASCII only: NFKC changes nothing and the only whitespace is the plain space.
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;
const WHITESPACE_RUN = /\s+/g;
// Whitespace that `replace` + `trim` would change: a run, any whitespace but a plain space, or an edge.
const NEEDS_COLLAPSE = /\s\s|[^\S ]|^\s|\s$/;

/** `preprocess('  Ｆｏｏ\n\tbar ', 'v1')` → `'Foo bar'`. Throws `INVALID_SPEC` for an unknown version. */
export function preprocess(text: string, version: string): string {
  switch (version) {
    case 'v1':
      return preprocessV1(text);
    case 'raw':
      return text;
    default:
      throw new ReembedError(
        'INVALID_SPEC',
        `Unknown preprocessing version "${version}". Known versions: ${PREPROCESSING_VERSIONS.join(', ')}. ` +
          'Set spec.preprocessing to one of them.',
        { details: { field: 'preprocessing', value: version, known: [...PREPROCESSING_VERSIONS] } },
      );
  }
}

export function isPreprocessingVersion(version: string): version is PreprocessingVersion {
  return (PREPROCESSING_VERSIONS as readonly string[]).includes(version);
}

function preprocessV1(text: string): string {
  if (!NOT_PRINTABLE_ASCII.test(text)) {
    // The fast path of the common case, with the same result: in printable ASCII, whitespace needs
    // collapsing only as a double space or a space at either end.
    const n = text.length;
    if (n === 0 || (text.charCodeAt(0) !== 32 && text.charCodeAt(n - 1) !== 32 && !text.includes('  '))) {
      return text;
    }
    return text.replace(WHITESPACE_RUN, ' ').trim();
  }
  const normalized = NON_ASCII.test(text) ? text.normalize('NFKC') : text;
  return NEEDS_COLLAPSE.test(normalized) ? normalized.replace(WHITESPACE_RUN, ' ').trim() : normalized;
}
