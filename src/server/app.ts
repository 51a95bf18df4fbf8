import { OpenAPIHono } from '@hono/zod-openapi';
import { requireApiKeys } from '../app/api-keys.js';
import { Authenticator } from './auth.js';
import { limitBody } from './body-limit.js';
import { registerDashboard } from './dashboard.js';
import type { ServerDeps, ServerEnv } from './env.js';
import { apiError, describeIssues, sendError, toErrorResponse } from './errors.js';
import { DEFAULT_MAX_BODY_BYTES } from './limits.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerCatalogRoutes } from './routes/catalog.js';
import { registerDataRoutes } from './routes/data.js';
import { registerEvalRoutes } from './routes/eval.js';
import { registerMigrationRoutes } from './routes/migrations.js';
import { registerProbeRoutes } from './routes/probes.js';
import { registerReviewRoutes } from './routes/review.js';

export interface ServerAppOptions {
  /** Largest request body in bytes (default 8 MiB); larger ones answer 413 `TOO_LARGE`. */
  readonly maxBodyBytes?: number;
  /** Per-key rate limit (default 200 requests/s, burst 400; `perSecond: 0` disables it). */
  readonly rateLimit?: RateLimitOptions;
  /**
   * One line per request: method, route pattern, status, milliseconds and the key's public id. Never a
   * key, a body or a query text.
   */
  readonly log?: (line: string) => void;
  /** Unexpected (500) errors, for the operator's log. */
  readonly onInternalError?: (error: unknown) => void;
}

export { DEFAULT_MAX_BODY_BYTES } from './limits.js';

/**
 * The HTTP API over one Reembed app, testable without a socket (`api.request('/v1/...')`). Public:
 * `/healthz` and `/openapi.json`; everything under `/v1` and `/metrics` needs an API key.
 *
 * @example
 * const { api } = createServerApp({ app, migrations, metrics, shutdown: new AbortController().signal });
 * const res = await api.request('/openapi.json');
 */
export function createServerApp(deps: ServerDeps, options: ServerAppOptions = {}) {
  const auth = new Authenticator(
    requireApiKeys(deps.app.backend),
    new RateLimiter(options.rateLimit ?? { perSecond: 200 }),
  );
  const api = new OpenAPIHono<ServerEnv>({
    // Every validation failure is a typed 400 naming the fields, never the framework's default body.
    defaultHook: (result, c) => {
      if (!result.success) {
        const where =
          result.target === 'json' ? 'request body' : result.target === 'param' ? 'path' : result.target;
        return sendError(c, apiError('INVALID_INPUT', describeIssues(where, result.error.issues)));
      }
    },
  });
  const maxSize = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  api.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath === '/*' || c.req.routePath === '*' ? 'unmatched' : c.req.routePath;
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.recordRequest(route, c.req.method, c.res.status, seconds);
    if (c.res.status >= 400) {
      const code = c.res.headers.get('x-reembed-error') ?? String(c.res.status);
      deps.metrics.errors.inc({ code });
    }
    options.log?.(
      `${c.req.method} ${route} ${c.res.status} ${(seconds * 1000).toFixed(1)}ms key=${c.get('key')?.id ?? '-'}`,
    );
  });
  api.use(
    '*',
    limitBody(maxSize, (c) => {
      // The rest of the body is not read: close the connection so a client cannot send its next request
      // on a socket that still carries unread bytes.
      c.header('connection', 'close');
      return sendError(
        c,
        apiError('TOO_LARGE', `The request body exceeds ${maxSize} bytes; send smaller batches.`),
      );
    }),
  );

  api.get('/healthz', (c) => c.json({ ok: true }));
  registerDashboard(api);
  // Generated once, on first request (every route is registered by then), not on every request.
  let openapi: ReturnType<typeof api.getOpenAPIDocument> | null = null;
  api.get('/openapi.json', (c) => {
    openapi ??= api.getOpenAPIDocument({
      openapi: '3.0.3',
      info: {
        title: 'reembed',
        version: '0.1.0',
        description:
          'Embedding-model upgrades without downtime: search aliases, write source documents, steer migrations. Errors are {"error":{"code","message"}} with the codes of the error catalog of reembed.',
      },
    });
    return c.json(openapi);
  });
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key from `reembed keys create` (rk_...).',
  });

  api.use('/v1/*', auth.middleware());
  api.use('/metrics', auth.middleware());
  api.get('/metrics', async (c) => {
    if (c.get('key').tenant !== null) {
      return sendError(
        c,
        apiError('FORBIDDEN', 'Metrics span tenants; use a key that is not bound to a tenant.'),
      );
    }
    c.header('content-type', deps.metrics.contentType);
    return c.body(await deps.metrics.expose());
  });

  registerDataRoutes(api, deps);
  registerCatalogRoutes(api, deps);
  registerMigrationRoutes(api, deps);
  registerEvalRoutes(api, deps);
  registerProbeRoutes(api, deps);
  registerReviewRoutes(api, deps);
  registerAdminRoutes(api, deps, auth);

  api.notFound((c) =>
    sendError(
      c,
      apiError(
        'NOT_FOUND',
        `No endpoint ${c.req.method} ${c.req.path}; the API is described at /openapi.json.`,
      ),
    ),
  );
  api.onError((error, c) => {
    const { status } = toErrorResponse(error);
    if (status >= 500) options.onInternalError?.(error);
    return sendError(c, error);
  });
  return { api, auth };
}
