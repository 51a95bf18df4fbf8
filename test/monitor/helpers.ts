import type { Reembed } from '../../src/app/reembed.js';
import { main } from '../../src/cli/main.js';
import type { SqliteDatabase } from '../../src/stores/sqlite/schema.js';

/** The embedded backend's connection, to tamper with tables behind the store's guard. */
export function sqliteOf(app: Reembed): SqliteDatabase {
  const db = (app.backend as { db?: SqliteDatabase }).db;
  if (!db) throw new Error('these tests need the SQLite backend');
  return db;
}

/** Inserts a record straight into the `records` table, bypassing every check of the store. */
export function insertRawRecord(
  app: Reembed,
  row: {
    namespace: string;
    sourceId: string;
    fingerprint: string;
    vector: Float32Array;
    sourceVersion?: number;
  },
): void {
  sqliteOf(app)
    .prepare(
      `INSERT INTO records (namespace, record_id, source_id, chunk_index, fingerprint, content_hash, source_version,
         embedded_at, tenant, metadata, text, vector) VALUES (?, ?, ?, 0, ?, 'h', ?, ?, NULL, '{}', 'raw', ?)`,
    )
    .run(
      row.namespace,
      `${row.sourceId}#0`,
      row.sourceId,
      row.fingerprint,
      row.sourceVersion ?? 1,
      new Date().toISOString(),
      Buffer.from(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength),
    );
}

/** Runs the CLI in-process against a database file; returns exit code and captured output. */
export async function runCli(
  db: string,
  args: readonly string[],
  cwd = process.cwd(),
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['--db', db, ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { NO_COLOR: '1' },
    cwd,
  });
  return { code, stdout, stderr };
}
