import { ReembedError } from '../../core/errors.js';
import type { SearchFilter } from '../../core/records.js';

type Scalar = string | number | boolean;

/** A compiled filter: one test per constrained metadata key, plus the tenant. */
export interface RowPredicate {
  readonly tenant: string | undefined;
  readonly keys: readonly string[];
  matches(tenant: string | null, metadata: () => Readonly<Record<string, unknown>>): boolean;
}

/**
 * Compiles a `SearchFilter` (tenant equality; metadata equality or `$in` on top-level keys, all ANDed)
 * into a predicate, or `null` when it constrains nothing. Malformed filters are refused up front.
 */
export function compileFilter(filter: SearchFilter | undefined): RowPredicate | null {
  if (filter === undefined || filter === null) return null;
  if (typeof filter !== 'object') throw invalid('filter', 'must be an object');
  const tenant = filter.tenant;
  if (tenant !== undefined && typeof tenant !== 'string') throw invalid('filter.tenant', 'must be a string');
  const tests: [string, (value: unknown) => boolean][] = [];
  const metadata = filter.metadata ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata))
    throw invalid('filter.metadata', 'must be an object');
  for (const [key, condition] of Object.entries(metadata)) {
    if (isScalar(condition)) {
      tests.push([key, (value) => value === condition]);
      continue;
    }
    const list = (condition as { $in?: unknown } | null)?.$in;
    if (!Array.isArray(list) || !list.every(isScalar) || Object.keys(condition as object).length !== 1) {
      throw invalid(`filter.metadata.${key}`, 'must be a string, number, boolean or { $in: [...] } of those');
    }
    const allowed = new Set<unknown>(list);
    tests.push([key, (value) => allowed.has(value)]);
  }
  if (tenant === undefined && tests.length === 0) return null;
  return {
    tenant,
    keys: tests.map(([key]) => key),
    matches(rowTenant, rowMetadata) {
      if (tenant !== undefined && rowTenant !== tenant) return false;
      if (tests.length === 0) return true;
      const m = rowMetadata();
      for (const [key, test] of tests) {
        if (!Object.hasOwn(m, key) || !test(m[key])) return false;
      }
      return true;
    },
  };
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function invalid(field: string, problem: string): ReembedError {
  return new ReembedError('INVALID_INPUT', `Search ${field} ${problem}.`, { details: { field } });
}
