import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { ZodType } from 'zod';
import { type Requirement, requires } from '../auth.js';
import { ErrorBody, Json } from '../schemas.js';

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBody } },
});

/** Refusals every authenticated route can answer with (typed `{"error":{"code","message"}}` bodies). */
const ERRORS = {
  400: error('Invalid request (INVALID_INPUT and other input codes).'),
  401: error('No valid API key (UNAUTHORIZED).'),
  403: error("The key's scope or tenant does not allow this (FORBIDDEN)."),
  404: error('Unknown alias, collection, migration ... (NOT_FOUND).'),
  409: error('Conflicts with the current state (CONFLICT, INVALID_STATE, SPACE_MISMATCH ...).'),
  413: error('Body larger than the server accepts (TOO_LARGE).'),
  429: error("The key's rate limit is exceeded (RATE_LIMITED)."),
} as const;

/**
 * The access part of an authenticated route: `requires` (scope, tenant binding) runs before its input is
 * validated, and the document states the scope and the bearer security.
 */
export function guarded(tag: string, need: Requirement, description = '') {
  const access = `Needs a key with the \`${need.scope}\` scope${need.tenantKeys ? ' (a tenant-bound key is confined to its tenant)' : '; tenant-bound keys are refused'}.`;
  return {
    tags: [tag],
    description: description ? `${description}\n\n${access}` : access,
    security: [{ bearer: [] }],
    middleware: [requires(need)],
  };
}

/** 200 with `schema`, plus the typed error responses. */
export function responses<S extends ZodType>(schema: S) {
  return {
    200: { description: 'OK', content: { 'application/json': { schema } } },
    ...ERRORS,
  } as const;
}

/** A JSON request body (required). */
export function jsonBody<T extends ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true } as const;
}

/** An optional JSON request body (absent means `{}`). */
export function optionalJsonBody<T extends ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: false } as const;
}

/** The access of the admin route groups: an `admin` key, never a tenant-bound one. */
export const ADMIN_ONLY = { scope: 'admin', tenantKeys: false } as const satisfies Requirement;

type Verb = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** What a route of a group states besides its endpoint and summary; the group supplies the rest. */
export interface RouteDetails<R extends RouteConfig['request'], S extends ZodType> {
  readonly request?: R;
  /** Said before the access sentence in the document. */
  readonly description?: string;
  /** The 200 body (default `Json`, one object). */
  readonly returns?: S;
  /** This route's access, when it differs from the group's. */
  readonly need?: Requirement;
}

/**
 * The route definer of one group of authenticated JSON routes (one tag, one default access, bearer
 * security, the typed error responses): each route states its endpoint (`'GET /v1/spaces'`), its summary
 * and only what differs.
 *
 * @example
 * const route = routeGroup('eval', { scope: 'admin', tenantKeys: false });
 * const listSets = route('GET /v1/golden-sets', 'Stored golden sets', { returns: JsonList });
 */
export function routeGroup(tag: string, need: Requirement) {
  return <
    const E extends `${Verb} /${string}`,
    const R extends RouteConfig['request'] = undefined,
    S extends ZodType = typeof Json,
  >(
    endpoint: E,
    summary: string,
    details: RouteDetails<R, S> = {},
  ) => {
    const space = endpoint.indexOf(' ');
    return createRoute({
      method: endpoint.slice(0, space).toLowerCase() as Lowercase<
        E extends `${infer V} ${string}` ? V : never
      >,
      path: endpoint.slice(space + 1) as E extends `${string} ${infer P}` ? P : never,
      summary,
      request: details.request as R,
      ...guarded(tag, details.need ?? need, details.description),
      responses: responses((details.returns ?? Json) as S),
    });
  };
}
