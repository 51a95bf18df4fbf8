import type { z } from '@hono/zod-openapi';
import type { SearchRequest } from './schemas.js';

export type SearchBody = z.infer<typeof SearchRequest>;

const FAST_KEYS = new Set(['text', 'k', 'exact', 'routingKey']);

/**
 * The hot search route's shortcut past zod (its cost per request: BENCHMARKS.md, "Figures behind code
 * choices"): the common text
 * search, `{"text": ..., "k"?: ..., "exact"?: ..., "routingKey"?: ...}`, checked by hand against the same
 * limits. It only ever says yes to what `SearchRequest` accepts, answering what the schema would
 * (test/server/fast-search.test.ts checks that property); anything else — a vector, a filter, an unknown
 * field, a value out of range — answers `undefined` and goes through the schema, so every refusal is the
 * schema's own typed error, and `/openapi.json` still comes from the schema.
 */
export function fastSearchBody(value: unknown): SearchBody | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!FAST_KEYS.has(key)) return undefined;
  const { text, k, exact, routingKey } = o;
  if (typeof text !== 'string' || text.length < 1 || text.length > 32_768) return undefined;
  const out: { -readonly [K in keyof SearchBody]: SearchBody[K] } = { text };
  if ('k' in o) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 1000) return undefined;
    out.k = k;
  }
  if ('exact' in o) {
    if (typeof exact !== 'boolean') return undefined;
    out.exact = exact;
  }
  if ('routingKey' in o) {
    if (typeof routingKey !== 'string' || routingKey.length < 1 || routingKey.length > 512) return undefined;
    out.routingKey = routingKey;
  }
  return out;
}
