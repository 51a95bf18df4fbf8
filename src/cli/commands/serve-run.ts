import { createApiKey, requireApiKeys } from '../../app/api-keys.js';
import { startServer } from '../../server/serve.js';
import type { CliContext } from '../context.js';

export interface ServeArgs {
  readonly host: string;
  readonly port: number;
  readonly maxBodyBytes: number;
  readonly rateLimit: number;
  readonly monitorSeconds: number;
  readonly coverageSeconds: number;
  readonly qualitySeconds: number;
  readonly drainSeconds: number;
  /** Print one access-log line per request to stderr (method, route, status, ms, key id). */
  readonly accessLog: boolean;
  /** Test hook: resolves when the server listens (with its URL); the server stops when `stop` aborts. */
  readonly stop?: AbortSignal;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * `reembed serve [--host H] [--port P]`: the JSON API (search, documents, catalog, migrations, eval,
 * golden sets, monitor, audit, keys), `/openapi.json` and `/metrics`, until SIGINT or SIGTERM (graceful:
 * requests in flight finish; a second signal closes them). On first start, with no API key stored, it
 * creates an admin key, prints it once and listens on 127.0.0.1 only.
 */
export async function serveCommand(ctx: CliContext, args: ServeArgs): Promise<number> {
  const app = await ctx.app();
  const keys = requireApiKeys(app.backend);
  let host = args.host;
  if ((await keys.countLive()) === 0) {
    const { secret, key } = await createApiKey(app.backend, { name: 'admin', scope: 'admin' }, app.actor);
    ctx.io.stdout.write(
      `No API key existed: created admin key "${key.name}" (id ${key.id}). It is shown this once; store it now:\n\n  ${secret}\n\n` +
        'Create narrower keys with: reembed keys create <name> --scope query|write|admin [--tenant T]\n',
    );
    if (!LOOPBACK.has(host)) {
      ctx.out.warn(
        `listening on 127.0.0.1 instead of ${host} until a key has been handed out: restart with --host ${host} once clients have keys.`,
      );
      host = '127.0.0.1';
    }
  }
  const server = await startServer(app, {
    host,
    port: args.port,
    maxBodyBytes: args.maxBodyBytes,
    rateLimit: { perSecond: args.rateLimit },
    monitorIntervalMs: args.monitorSeconds * 1000,
    coverageIntervalMs: args.coverageSeconds * 1000,
    qualityIntervalMs: args.qualitySeconds * 1000,
    drainMs: args.drainSeconds * 1000,
    ...(args.accessLog ? { log: (line: string) => ctx.io.stderr.write(`${line}\n`) } : {}),
    onInternalError: (error) =>
      ctx.io.stderr.write(
        `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      ),
    onBackgroundError: (what, error) =>
      ctx.out.warn(`${what} failed: ${error instanceof Error ? error.message : String(error)}`),
  });
  let signals = 0;
  let stop = (): void => undefined;
  await new Promise<void>((resolve) => {
    stop = (): void => {
      signals++;
      if (signals === 1) {
        ctx.out.note(`shutting down: ${server.inFlight()} request(s) in flight…`);
        resolve();
      } else {
        ctx.out.note('second signal: closing open connections now.');
        process.exit(130);
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // Announced once Ctrl-C is ours: a signal sent on seeing this line gets the graceful shutdown.
    ctx.out.note(
      `Serving ${server.url} (dashboard at /, API under /v1, /openapi.json, /metrics). Ctrl-C stops it.`,
    );
    args.stop?.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    await server.close();
  } finally {
    if (signals === 0) {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    }
  }
  ctx.out.note('stopped.');
  return 0;
}
