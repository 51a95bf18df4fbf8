import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { auditAppendOnlyTriggers, catalogDdl, pragmaStatements, schemaDdl, storeDdl } from './schema.js';

describe('schema DDL', () => {
  it('is idempotent: every statement can run twice', () => {
    const db = new Database(':memory:');
    for (let i = 0; i < 2; i++) for (const ddl of schemaDdl()) db.exec(ddl);
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(
      expect.arrayContaining(['audit_log', 'heads', 'namespaces', 'records', 'sources', 'spaces']),
    );
    db.close();
  });

  it('declares the lifecycle and append-only rules in the storage itself', () => {
    const namespaces = catalogDdl().find((s) => s.includes('CREATE TABLE IF NOT EXISTS namespaces')) ?? '';
    expect(namespaces).toContain("CHECK (state IN ('building', 'active', 'serving', 'retiring', 'retired'))");
    expect(auditAppendOnlyTriggers().join('\n')).toMatch(
      /BEFORE UPDATE ON audit_log[\s\S]*BEFORE DELETE ON audit_log/,
    );
    expect(storeDdl().find((s) => s.includes('ns_meta'))).toContain(
      "CHECK (metric IN ('cosine', 'dot', 'l2'))",
    );
    expect(pragmaStatements()).toEqual(
      expect.arrayContaining([
        'journal_mode = WAL',
        'synchronous = NORMAL',
        'busy_timeout = 5000',
        'foreign_keys = ON',
      ]),
    );
  });
});
