import { ReembedError } from './errors.js';
import { parseDuration } from './migration.js';

/** What callers may pass to read the audit log: instants as `Date`, ISO 8601 text, or a duration before now. */
export interface AuditQuery {
  /** Exact, or a pattern with `*` (e.g. `docs@*`). */
  readonly target?: string;
  /** Exact, or a pattern with `*` (e.g. `migration.*`). */
  readonly action?: string;
  readonly actor?: string;
  /** From this instant (inclusive): a `Date`, ISO 8601 (`2025-05-01`, `2025-05-01T12:00:00Z`) or a duration before now (`24h`, `7d`). */
  readonly since?: Date | string;
  /** Before this instant (exclusive), same forms as `since`. */
  readonly until?: Date | string;
  /** The newest `limit` matching entries (still printed oldest first). */
  readonly limit?: number;
}

/**
 * The catalog's filter: instants resolved to ISO text, checked. `subject`, `action` and `actor` match
 * exactly, or as a pattern when they contain `*` (any run of characters, e.g. `migration.*`, `docs@*`);
 * case-sensitive. `since` / `until` bound `at` (ISO 8601 instants, `since` inclusive, `until` exclusive).
 */
export interface AuditFilter {
  readonly subject?: string;
  readonly action?: string;
  readonly actor?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
}

/** Resolves an `AuditQuery` at `now` (durations count back from it). `INVALID_INPUT` for a bad value. */
export function resolveAuditQuery(query: AuditQuery, now: Date): AuditFilter {
  const instant = (field: string, value: Date | string | undefined): string | undefined =>
    value === undefined ? undefined : instantOf(field, value, now);
  return checkAuditFilter({
    ...(query.target !== undefined ? { subject: query.target } : {}),
    ...(query.action !== undefined ? { action: query.action } : {}),
    ...(query.actor !== undefined ? { actor: query.actor } : {}),
    ...(query.since !== undefined ? { since: instant('since', query.since) } : {}),
    ...(query.until !== undefined ? { until: instant('until', query.until) } : {}),
    ...(query.limit !== undefined ? { limit: query.limit } : {}),
  });
}

/** Checks a catalog audit filter (non-empty patterns, ISO instants, a positive integer limit) and returns it. */
export function checkAuditFilter<F extends AuditFilter>(filter: F): F {
  for (const field of ['subject', 'action', 'actor'] as const) {
    const value = filter[field];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0))
      throw invalid(field, 'must be a non-empty string (use * as a wildcard)');
  }
  for (const field of ['since', 'until'] as const) {
    const value = filter[field];
    if (value !== undefined && Number.isNaN(Date.parse(value)))
      throw invalid(field, `"${value}" is not an ISO 8601 instant`);
  }
  if (filter.limit !== undefined && (!Number.isInteger(filter.limit) || filter.limit < 1))
    throw invalid('limit', 'must be a positive integer');
  return filter;
}

function instantOf(field: string, value: Date | string, now: Date): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid(field, 'is an invalid Date');
    return value.toISOString();
  }
  if (/^\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)$/.test(value.trim()))
    return new Date(now.getTime() - parseDuration(value)).toISOString();
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw invalid(
      field,
      `"${value}" is neither an instant (2025-05-01, 2025-05-01T12:00:00Z) nor a duration before now (24h, 7d)`,
    );
  }
  return new Date(ms).toISOString();
}

function invalid(field: string, problem: string): ReembedError {
  return new ReembedError('INVALID_INPUT', `Audit filter ${field} ${problem}.`, { details: { field } });
}
