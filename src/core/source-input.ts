import { ReembedError } from './errors.js';
import type { SourceInput } from './records.js';

export const MAX_SOURCE_ID_LENGTH = 512;

/**
 * Validates a batch of source documents before anything is embedded or written, so a rejected batch
 * writes nothing. Errors name the item (index, and line when the caller passes `lines`) and the field.
 */
export function validateSourceInputs(docs: readonly unknown[], lines?: readonly number[]): SourceInput[] {
  const seen = new Set<string>();
  return docs.map((doc, i) => {
    const where = lines?.[i] !== undefined ? `line ${lines[i]}` : `document ${i}`;
    const fail = (field: string, problem: string): never => {
      throw new ReembedError('INVALID_INPUT', `${where}: ${field} ${problem}`, {
        details: { index: i, line: lines?.[i], field },
      });
    };
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      fail('document', 'must be a JSON object');
    const d = doc as Record<string, unknown>;
    const id = typeof d.id === 'number' ? String(d.id) : d.id;
    if (typeof id !== 'string' || id.length === 0)
      fail('id', 'is missing: every document needs a non-empty string id');
    if ((id as string).length > MAX_SOURCE_ID_LENGTH)
      fail('id', `is longer than ${MAX_SOURCE_ID_LENGTH} characters`);
    if (seen.has(id as string)) fail('id', `"${id}" appears twice in the batch; send each document once`);
    seen.add(id as string);
    if (typeof d.text !== 'string' || d.text.trim().length === 0) {
      fail('text', 'is empty or missing: a document needs text to embed');
    }
    const metadata = d.metadata ?? {};
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      fail('metadata', 'must be a JSON object');
    }
    const tenant = d.tenant ?? null;
    if (tenant !== null && (typeof tenant !== 'string' || tenant.length === 0)) {
      fail('tenant', 'must be a non-empty string or null');
    }
    return {
      id: id as string,
      text: d.text as string,
      metadata: metadata as Record<string, unknown>,
      tenant: tenant as string | null,
    };
  });
}
