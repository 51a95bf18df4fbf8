import { contentHash } from '../../core/canonical.js';
import { ReembedError } from '../../core/errors.js';
import type { SourceInput } from '../../core/records.js';
import { validateSourceInputs } from '../../core/source-input.js';

/** A validated source document with its metadata object, tenant and content hash. */
export interface PreparedSource {
  readonly input: SourceInput;
  readonly metadata: Record<string, unknown>;
  readonly tenant: string | null;
  readonly hash: string;
}

/**
 * Validates the whole batch and hashes it before the transaction opens: a bad item writes nothing. With
 * `rejectNul` (PostgreSQL, whose text cannot hold U+0000) a NUL in text or metadata is refused too.
 */
export function prepareSourceInputs(
  docs: readonly SourceInput[],
  options: { rejectNul?: string } = {},
): PreparedSource[] {
  if (!Array.isArray(docs)) throw invalid('docs', 'must be an array of documents');
  return validateSourceInputs(docs).map((input, index) => {
    const metadata = (input.metadata ?? {}) as Record<string, unknown>;
    const proto = Object.getPrototypeOf(metadata) as unknown;
    if (proto !== Object.prototype && proto !== null)
      throw itemError(index, 'metadata', 'must be a plain JSON object');
    let hash: string;
    try {
      hash = contentHash(input.text, metadata);
    } catch (error) {
      throw itemError(index, 'metadata', `is not valid JSON (${(error as Error).message})`);
    }
    if (
      options.rejectNul &&
      (input.text.includes('\u0000') || JSON.stringify(metadata).includes('\\u0000'))
    ) {
      throw itemError(index, 'text', `contains a NUL character, which ${options.rejectNul} cannot store`);
    }
    return { input, metadata, tenant: input.tenant ?? null, hash };
  });
}

export function checkIds(ids: readonly string[]): void {
  if (!Array.isArray(ids)) throw invalid('ids', 'must be an array of document ids');
  ids.forEach((id, index) => {
    if (typeof id !== 'string' || id.length === 0) throw itemError(index, 'id', 'must be a non-empty string');
  });
}

export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw invalid('limit', 'must be a positive integer');
}

/** Checks a page's `limit` and `offset` (0 when absent) and returns the offset. */
export function checkPage(options: { readonly limit: number; readonly offset?: number }): number {
  checkLimit(options.limit);
  const offset = options.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw invalid('offset', 'must be a non-negative integer');
  return offset;
}

function itemError(index: number, field: string, problem: string): ReembedError {
  return new ReembedError('INVALID_INPUT', `document ${index}: ${field} ${problem}.`, {
    details: { index, field },
  });
}

export function invalid(field: string, problem: string): ReembedError {
  return new ReembedError('INVALID_INPUT', `${field} ${problem}.`, { details: { field } });
}
