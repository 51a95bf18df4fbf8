import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from './schema.js';

let driver: typeof BetterSqlite3 | null = null;

/**
 * Opens a better-sqlite3 connection, loading the driver on first use: importing reembed (or running a
 * CLI command that opens no database, like `--help`) does not load the native module.
 */
export function openDatabase(path: string, options?: BetterSqlite3.Options): SqliteDatabase {
  driver ??= createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  return new driver(path, options);
}
