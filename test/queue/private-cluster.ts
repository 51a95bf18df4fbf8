import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A throwaway PostgreSQL 15 cluster owned by one test (initdb in a temp dir, its own port), so the test
 * can restart "the database" without disturbing anyone else's tests on the shared server. Uses the
 * system's pgvector. Needs root (to run the server as `postgres`) or the `postgres` user itself.
 */
export interface PrivateCluster {
  readonly url: string;
  /** Stops the server (fast shutdown: connections are cut), waits `downMs`, starts it again. */
  restart(downMs: number): Promise<void>;
  destroy(): Promise<void>;
}

/** Why a private cluster cannot be started here, or null when it can. */
export function privateClusterUnavailable(): string | null {
  if (!existsSync(join(BIN, 'initdb'))) return `no PostgreSQL 15 binaries in ${BIN}`;
  const user = userInfo().username;
  if (user !== 'root' && user !== 'postgres')
    return 'needs root or the postgres user to run a private cluster';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const asPostgres = userInfo().username === 'root';
  const pg = (cmd: string, args: string[]) =>
    asPostgres
      ? run('runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args])
      : run(join(BIN, cmd), args);
  const dir = mkdtempSync(join(tmpdir(), 'reembed-pgc-'));
  chmodSync(dir, 0o700);
  if (asPostgres) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=60`;
  const start = () => pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  await start();
  const psql = (db: string, sql: string) =>
    pg('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-Atc', sql]);
  await psql('postgres', 'CREATE DATABASE reembed');
  await psql('reembed', 'CREATE EXTENSION vector');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/reembed`,
    async restart(downMs) {
      await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async destroy() {
      await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
