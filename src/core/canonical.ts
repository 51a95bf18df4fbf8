import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted at every depth, no whitespace, `undefined` members dropped.
 * Two values that are deep-equal serialise to the same string regardless of key order.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = sortKeys(member);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`canonicalJson: non-finite number ${value}`);
  }
  return value;
}

export function sha256Hex(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('hex');
}

const EMPTY_METADATA = canonicalJson({});

/**
 * Content hash of a source document: text and metadata, so a metadata edit also regenerates filters.
 * The text is hashed as is (no JSON escaping pass over large texts), separated from the metadata's
 * canonical JSON by a NUL byte, which neither can contain unescaped.
 */
export function contentHash(text: string, metadata: Readonly<Record<string, unknown>> = {}): string {
  const meta = Object.keys(metadata).length === 0 ? EMPTY_METADATA : canonicalJson(metadata);
  return createHash('sha256').update(meta).update('\0').update(text).digest('hex').slice(0, 32);
}
