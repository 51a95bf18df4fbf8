/** The machine and software versions every benchmark result is recorded with (bench/run.ts). */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface MachineDetails {
  readonly cpu: string;
  readonly memory: string;
  readonly platform: string;
  readonly loadAverage: readonly number[];
}

export function machineDetails(): MachineDetails {
  const cpu = cpus()[0];
  return {
    cpu: `${cpu?.model.trim() ?? 'unknown'} x${cpus().length}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    platform: `${process.platform} ${process.arch} ${release()}`,
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

function packageVersion(name: string): string {
  try {
    const path = join(import.meta.dirname, '..', 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'absent';
  }
}

/** Node, the native libraries the benchmarks load, SQLite, and PostgreSQL + pgvector when configured. */
export async function versions(): Promise<Record<string, string>> {
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  const out: Record<string, string> = {
    node: process.version,
    'better-sqlite3': packageVersion('better-sqlite3'),
    sqlite,
    usearch: packageVersion('usearch'),
    '@lancedb/lancedb': packageVersion('@lancedb/lancedb'),
    pg: packageVersion('pg'),
  };
  const url = process.env.REEMBED_PG_URL;
  if (url) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ version: string; vector: string | null }>(
        "SELECT current_setting('server_version') AS version, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector",
      );
      out.postgresql = rows[0]?.version ?? '?';
      out.pgvector = rows[0]?.vector ?? (await availableVector(client));
    } catch (error) {
      out.postgresql = `unreachable (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return out;
}

async function availableVector(client: {
  query: (sql: string) => Promise<{ rows: { v: string }[] }>;
}): Promise<string> {
  const { rows } = await client.query(
    "SELECT default_version AS v FROM pg_available_extensions WHERE name = 'vector'",
  );
  return rows[0]?.v ?? 'absent';
}
