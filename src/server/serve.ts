import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { MigrationService } from '../app/migrate.js';
import type { Reembed } from '../app/reembed.js';
import { runMonitor } from '../monitor/run.js';
import { recordTraffic } from '../monitor/wiring.js';
import { createServerApp, type ServerAppOptions } from './app.js';
import type { ServerDeps } from './env.js';
import { ServerMetrics } from './metrics.js';

export interface ServeOptions extends ServerAppOptions {
  readonly host?: string;
  /** 0 picks a free port (see `RunningServer.url`). */
  readonly port?: number;
  /** How long shutdown waits for requests in flight before closing their connections (default 10 s). */
  readonly drainMs?: number;
  /** Monitor run period, publishing its gauges to `/metrics` (default 60 s; 0 disables). */
  readonly monitorIntervalMs?: number;
  /** Retirement job period (default 1 h; 0 disables). */
  readonly retireIntervalMs?: number;
  /** Failures of the scheduled jobs (they never stop the server). */
  readonly onBackgroundError?: (what: string, error: unknown) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly deps: ServerDeps;
  /** Requests being answered right now. */
  inFlight(): number;
  /**
   * Graceful shutdown: stops accepting connections, aborts long steps at their next batch, waits up to
   * `drainMs` for requests in flight, then closes what is left and flushes traffic and migration samples.
   * The app itself stays open (its owner closes it). Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Serves the HTTP API of `app` until `close()`. The process records what migrations need (shadow
 * agreement, hit counts, lazy re-embeds through one `MigrationService`, query traffic), and runs the
 * monitor and the retirement job on a schedule.
 *
 * @example
 * const server = await startServer(app, { host: '127.0.0.1', port: 8080 });
 * // ... later
 * await server.close();
 * await app.close();
 */
export async function startServer(app: Reembed, options: ServeOptions = {}): Promise<RunningServer> {
  const controller = new AbortController();
  const metrics = new ServerMetrics();
  const migrations = new MigrationService(app);
  const traffic = recordTraffic(app);
  const detachMetrics = app.queries.observe(metrics);
  const deps: ServerDeps = { app, migrations, metrics, shutdown: controller.signal };
  const { api } = createServerApp(deps, options);
  const report = options.onBackgroundError ?? (() => undefined);

  let inFlight = 0;
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      {
        fetch: async (request: Request) => {
          inFlight++;
          try {
            return await api.fetch(request);
          } finally {
            inFlight--;
          }
        },
        hostname: options.host ?? '127.0.0.1',
        port: options.port ?? 8080,
      },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, what: string, job: () => Promise<void>): void => {
    if (ms <= 0) return;
    let running = false;
    const timer = setInterval(() => {
      if (running || controller.signal.aborted) return;
      running = true;
      job()
        .catch((error: unknown) => report(what, error))
        .finally(() => {
          running = false;
        });
    }, ms);
    timer.unref();
    timers.push(timer);
  };
  const lastDone = new Map<string, { current: number; at: number }>();
  every(options.monitorIntervalMs ?? 60_000, 'monitor', async () => {
    metrics.publishMonitor(await runMonitor(app));
    for (const m of await migrations.list({ active: true })) {
      const status = await migrations.status(m.id);
      const at = performance.now();
      metrics.deadLetters.set({ namespace: m.to }, status.deadLetters);
      metrics.migrationCoverage.set({ migration: m.id, namespace: m.to }, status.coverage.ratio);
      const previous = lastDone.get(m.to);
      if (previous && at > previous.at) {
        const rate = Math.max(0, (status.coverage.current - previous.current) / ((at - previous.at) / 1000));
        metrics.backfillRate.set({ namespace: m.to }, rate);
      }
      lastDone.set(m.to, { current: status.coverage.current, at });
    }
  });
  every(options.retireIntervalMs ?? 3_600_000, 'retire', async () => {
    await migrations.retire();
  });

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    deps,
    inFlight: () => inFlight,
    close() {
      closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        controller.abort(new Error('the server is shutting down'));
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Idle keep-alive connections would hold `close` open: end them now; busy ones finish their request.
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        const drainMs = options.drainMs ?? 10_000;
        const started = performance.now();
        await new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
            if (inFlight === 0 || performance.now() - started > drainMs) {
              clearInterval(poll);
              resolve();
            }
          }, 10);
        });
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        await closed;
        detachMetrics();
        await traffic?.stop();
        await migrations.close();
      })();
      return closing;
    },
  };
}
