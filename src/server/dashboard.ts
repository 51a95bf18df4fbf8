import { readFileSync } from 'node:fs';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ServerEnv } from './env.js';

/**
 * The dashboard: three static files (assets/dashboard, beside src/ and dist/) read once at start and
 * served from memory. The page holds no data: it asks for an API key and reads the JSON API with it, so
 * it is public like /openapi.json. Nothing comes from a CDN; the CSP allows this origin only.
 */
const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/dashboard/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/dashboard/style.css': ['style.css', 'text/css; charset=utf-8'],
} as const;

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function registerDashboard(api: OpenAPIHono<ServerEnv>): void {
  const dir = new URL('../../assets/dashboard/', import.meta.url);
  for (const [path, [file, type]] of Object.entries(FILES)) {
    const body = readFileSync(new URL(file, dir), 'utf8');
    api.get(path, (c) => {
      c.header('content-type', type);
      c.header('content-security-policy', CSP);
      c.header('x-content-type-options', 'nosniff');
      c.header('cache-control', 'no-cache');
      return c.body(body);
    });
  }
}
