import { createApiKey, requireApiKeys } from '../../app/api-keys.js';
import { ReembedError } from '../../core/errors.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../server/app.js';
import { startServer } from '../../server/serve.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { integerOption, numberOption } from '../options.js';

export interface ServeArgs {
  readonly host: string;
  readonly port: number;
  readonly maxBodyBytes: number;
  readonly rateLimit: number;
  readonly monitorSeconds: number;
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
    drainMs: args.drainSeconds * 1000,
    ...(args.accessLog ? { log: (line: string) => ctx.io.stderr.write(`${line}\n`) } : {}),
    onInternalError: (error) =>
      ctx.io.stderr.write(
        `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      ),
    onBackgroundError: (what, error) =>
      ctx.out.warn(`${what} failed: ${error instanceof Error ? error.message : String(error)}`),
  });
  ctx.out.note(`Serving ${server.url} (API under /v1, /openapi.json, /metrics). Ctrl-C stops it.`);
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

export const serveCommandDef: CliCommand = {
  register: (program, bind) =>
    program
      .command('serve')
      .description('run the HTTP API, /openapi.json and /metrics (API keys: reembed keys create)')
      .option('--host <host>', 'interface to listen on', '127.0.0.1')
      .option('--port <port>', 'port to listen on (0: any free port)', integerOption(0, 65_535), 8080)
      .option(
        '--max-body <bytes>',
        'largest request body accepted',
        integerOption(1024),
        DEFAULT_MAX_BODY_BYTES,
      )
      .option('--rate-limit <n>', 'requests per second per API key (0: no limit)', numberOption(0), 200)
      .option(
        '--monitor-every <seconds>',
        'run the monitor for /metrics every N seconds (0: never)',
        numberOption(0),
        60,
      )
      .option('--drain <seconds>', 'on shutdown, wait this long for requests in flight', numberOption(0), 10)
      .option('--access-log', 'one line per request on stderr (never keys, bodies or query texts)')
      .action(
        bind(serveCommand, (_p, o) => {
          if (typeof o.host !== 'string' || o.host.length === 0)
            throw new ReembedError('INVALID_INPUT', '--host needs a host name or address.');
          return {
            host: o.host,
            port: o.port as number,
            maxBodyBytes: o.maxBody as number,
            rateLimit: o.rateLimit as number,
            monitorSeconds: o.monitorEvery as number,
            drainSeconds: o.drain as number,
            accessLog: o.accessLog === true,
          };
        }),
      ),
};
