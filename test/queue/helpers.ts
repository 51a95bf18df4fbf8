import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { composeFactories } from '../../src/app/embedders.js';
import { Reembed } from '../../src/app/reembed.js';
import { defineSpace, type Space } from '../../src/core/space.js';
import { createLocalEmbedderFactory } from '../../src/embedders/factory.js';
import type { EmbedderFactory } from '../../src/ports/embedder.js';
import { workerSchemaOf } from '../../src/queue/sql.js';
import { openPgBackend, type PgBackend } from '../../src/stores/pg/backend.js';
import { ident } from '../../src/stores/pg/sql.js';

export { assertNamespaceMatchesSource, corpus } from '../migration/helpers.js';

export const PG_URL = process.env.REEMBED_PG_URL;
export const SKIP_LINE =
  'Distributed backfill tests skipped: set REEMBED_PG_URL (run scripts/provision-postgres.sh)';
const ROOT = join(import.meta.dirname, '..', '..');

export const hashing = (name: string, seed: number, dimension = 32): Space =>
  defineSpace(name, { provider: 'hashing', model: 'fnv1a', dimension, params: { seed } });

export interface PgApp {
  readonly app: Reembed;
  readonly backend: PgBackend;
  readonly schema: string;
  readonly url: string;
  cleanup(): Promise<void>;
}

/** A Reembed app over a fresh schema (and its job-queue schema), both dropped by `cleanup`. */
export async function openPgApp(
  options: { url?: string; embedders?: readonly EmbedderFactory[]; poolMax?: number } = {},
): Promise<PgApp> {
  const url = options.url ?? PG_URL;
  if (!url) throw new Error(SKIP_LINE);
  const schema = `q_${process.pid}_${randomBytes(4).toString('hex')}`;
  const backend = await openPgBackend({ url, schema, poolMax: options.poolMax ?? 6 });
  const app = new Reembed(
    backend,
    composeFactories(...(options.embedders ?? []), createLocalEmbedderFactory()),
    {
      actor: 'queue-test',
    },
  );
  return {
    app,
    backend,
    schema,
    url,
    async cleanup() {
      for (const s of [workerSchemaOf(schema), schema]) {
        await backend.pool.query(`DROP SCHEMA IF EXISTS ${ident(s)} CASCADE`).catch(() => undefined);
      }
      await backend.close();
    },
  };
}

/**
 * Registers an afterEach that cleans up the app the current test opened; returns the opener
 * (`openPgApp`'s options). One app per test.
 */
export function usePgApp(): (options?: Parameters<typeof openPgApp>[0]) => Promise<PgApp> {
  let ctx: PgApp | undefined;
  afterEach(async () => {
    const current = ctx;
    ctx = undefined;
    await current?.cleanup();
  });
  return async (options) => {
    ctx = await openPgApp(options);
    return ctx;
  };
}

/** Collection `docs` on v1 with `n` documents, and the target namespace `docs@v2` (building, dual-written). */
export async function seedBackfill(
  app: Reembed,
  n: number,
  dimension = 32,
): Promise<{ v1: Space; v2: Space }> {
  const v1 = hashing('v1', 1, dimension);
  const v2 = hashing('v2', 2, dimension);
  await app.addSpace(v1);
  await app.addSpace(v2);
  await app.createCollection('docs', 'v1');
  const { corpus } = await import('../migration/helpers.js');
  const docs = corpus(n);
  for (let i = 0; i < docs.length; i += 500) await app.ingest('docs', docs.slice(i, i + 500));
  await app.createNamespace('docs', v2, 'building', 'docs@v1');
  return { v1, v2 };
}

export interface SpawnedWorker {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/**
 * Starts a `reembed worker` child process against `schema`. `entry: 'cli'` runs the real CLI entry
 * (`src/cli/entry.ts`); `entry: 'slow'` runs `worker-child.ts`, the same CLI with hashing embedders that
 * take `delayMs` per call (a remote provider's latency).
 */
export function spawnWorker(
  url: string,
  schema: string,
  args: readonly string[],
  options: { entry?: 'cli' | 'slow'; delayMs?: number } = {},
): SpawnedWorker {
  return spawnCli(url, schema, ['worker', 'run', ...args], options);
}

/** Any `reembed` command as a child process (`--pg url --json` prepended), see `spawnWorker`. */
export function spawnCli(
  url: string,
  schema: string,
  args: readonly string[],
  options: { entry?: 'cli' | 'slow'; delayMs?: number } = {},
): SpawnedWorker {
  const script = options.entry === 'cli' ? 'src/cli/entry.ts' : 'test/queue/worker-child.ts';
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--pg', url, '--json', ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      REEMBED_PG_SCHEMA: schema,
      REEMBED_TEST_DELAY_MS: String(options.delayMs ?? 0),
      NO_COLOR: '1',
      REEMBED_DEBUG: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Resolves with `fn()` once it returns a truthy value; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  pollMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Waits for a child with a deadline; kills it (and fails) if it overstays. */
export async function exitWithin(worker: SpawnedWorker, timeoutMs: number): Promise<number | null> {
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), timeoutMs);
  try {
    return await worker.exited;
  } finally {
    clearTimeout(timer);
  }
}
