import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ErrorCode, httpStatusFor, ReembedError } from '../core/errors.js';

/**
 * Errors at the HTTP edge: a `ReembedError` keeps its code and message and takes the status of
 * `httpStatusFor`; anything else is `INTERNAL` (500) with a message that says nothing of the internals.
 * Every body is `{"error":{"code","message"}}` (plus `details` for typed errors that carry them).
 */
export interface ErrorPayload {
  error: { code: string; message: string; details?: Readonly<Record<string, unknown>> };
}

export function apiError(code: ErrorCode, message: string, details?: Record<string, unknown>): ReembedError {
  return new ReembedError(code, message, details ? { details } : {});
}

export function toErrorResponse(error: unknown): { status: ContentfulStatusCode; body: ErrorPayload } {
  if (error instanceof ReembedError) {
    const details = Object.keys(error.details).length > 0 ? error.details : undefined;
    return {
      status: httpStatusFor(error) as ContentfulStatusCode,
      body: { error: { code: error.code, message: error.message, ...(details ? { details } : {}) } },
    };
  }
  if (error instanceof HTTPException) {
    // Framework refusals (malformed JSON, unreadable body) are the client's input errors.
    const status = error.status >= 400 && error.status < 500 ? error.status : 400;
    return {
      status: status as ContentfulStatusCode,
      body: { error: { code: 'INVALID_INPUT', message: error.message || 'The request could not be read.' } },
    };
  }
  return {
    status: 500,
    body: { error: { code: 'INTERNAL', message: 'Internal error; the server log has the details.' } },
  };
}

export function sendError(c: Context, error: unknown): Response {
  const { status, body } = toErrorResponse(error);
  // The code in a header too, so proxies and the access log can count errors without reading bodies.
  c.header('x-reembed-error', body.error.code);
  return c.json(body, status);
}

/** zod issues as one line a client can act on: `path: message; path: message`. */
export function describeIssues(
  where: string,
  issues: readonly { path: readonly (string | number)[]; message: string }[],
): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  const more = issues.length > 5 ? `; and ${issues.length - 5} more` : '';
  return `Invalid ${where}: ${shown.join('; ')}${more}.`;
}
