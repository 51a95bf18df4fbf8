import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveGoldenSet } from '../../src/app/golden-sets.js';
import { type GoldenSet, GoldenSetBuilder } from '../../src/core/golden.js';
import { openSqliteBackend, type SqliteBackend } from '../../src/stores/sqlite/backend.js';

let dir: string;
let backend: SqliteBackend;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reembed-golden-store-'));
  backend = await openSqliteBackend({ path: join(dir, 'g.db') });
});
afterEach(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

function graded(extra = false): GoldenSet {
  const b = new GoldenSetBuilder('file-name');
  b.addQuery('q2', 'second query, listed first');
  b.addQuery('q1', 'first query');
  b.addQuery('q3', 'never judged');
  b.addQuery('q4', 'judged non-relevant only');
  b.addJudgment('q1', 'd1', 3);
  b.addJudgment('q1', 'd2', 0);
  b.addJudgment('q2', 'd9', 1);
  b.addJudgment('q4', 'd1', 0);
  b.addJudgment('ghost', 'd1', 1);
  if (extra) b.addJudgment('q2', 'd10', 2);
  return b.build();
}

// The repository itself runs the conformance suite on SQLite and PostgreSQL (src/stores/evaluation-telemetry.test.ts).
describe('resolveGoldenSet', () => {
  it('resolveGoldenSet reads a stored set by name and explains a missing path or name', async () => {
    await backend.goldenSets.save('mini', graded());
    const byName = await resolveGoldenSet(backend, 'mini');
    expect(byName).toMatchObject({ from: 'catalog', saved: null });
    expect(byName.golden.digest).toBe(graded().digest);
    await expect(resolveGoldenSet(backend, 'nope')).rejects.toThrow(/Stored sets: mini/);
    await expect(resolveGoldenSet(backend, './missing/dir')).rejects.toThrow(/no such file or directory/);
  });
});
