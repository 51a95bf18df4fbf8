import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * Refuses request bodies larger than `maxSize` bytes, answering with `onError`.
 *
 * Hono's `bodyLimit` reads `c.req.raw.body` on every request, and on `@hono/node-server` that turns the
 * lightweight request into a full WHATWG `Request` with a web stream over the socket on every request,
 * even a GET (the largest single cost of the HTTP layer in `bench/serve.ts`; BENCHMARKS.md, "Figures
 * behind code choices"). Here the
 * common cases are decided from the headers alone, and the body stays on node-server's direct read path:
 * - GET and HEAD bodies are never read by any route, so they are not limited;
 * - a `Content-Length` without `Transfer-Encoding` is the exact body size (Node's HTTP parser frames the
 *   body by it: bytes past it are the next request, not this body);
 * - no `Content-Length` and no `Transfer-Encoding` means no body (HTTP/1.1);
 * - a chunked body has no size up front: it goes through Hono's `bodyLimit`, which counts while reading
 *   and stops at the limit.
 */
export function limitBody(
  maxSize: number,
  onError: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  const streamed = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const transferEncoding = c.req.header('transfer-encoding');
    const contentLength = c.req.header('content-length');
    if (transferEncoding !== undefined) return streamed(c, next);
    if (contentLength === undefined) return next();
    // Node refuses a malformed Content-Length before the request reaches us (400); the test is a backstop.
    const size = /^\d+$/.test(contentLength) ? Number(contentLength) : Number.POSITIVE_INFINITY;
    if (size > maxSize) return onError(c);
    return next();
  };
}
