import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveGoldenSet } from '../../src/app/golden-sets.js';
import { type GoldenSet, GoldenSetBuilder } from '../../src/core/golden.js';
import { openSqliteBackend, type SqliteBackend } from '../../src/stores/sqlite/backend.js';
import { SqliteGoldenSetRepository } from '../../src/stores/sqlite/golden.js';

let dir: string;
let backend: SqliteBackend;
let repo: SqliteGoldenSetRepository;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reembed-golden-store-'));
  backend = await openSqliteBackend({ path: join(dir, 'g.db') });
  repo = new SqliteGoldenSetRepository(backend.db);
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

describe('SqliteGoldenSetRepository', () => {
  it('round-trips queries in order, graded judgments, skipped counts and the digest', async () => {
    const golden = graded();
    const info = await repo.save('mini', golden, { actor: 'alice', source: '/data/mini' });
    expect(info).toMatchObject({
      name: 'mini',
      digest: golden.digest,
      queries: 2,
      judgments: 3,
      savedBy: 'alice',
      source: '/data/mini',
    });
    const back = await repo.get('mini');
    expect(back.name).toBe('mini');
    expect(back.digest).toBe(golden.digest);
    expect(back.queries).toEqual(golden.queries);
    expect(back.queries.map((q) => q.id)).toEqual(['q2', 'q1']);
    expect(back.qrels).toEqual({ q1: { d1: 3, d2: 0 }, q2: { d9: 1 } });
    expect(back.skipped).toEqual({ noJudgments: 1, noRelevant: 1, judgmentsWithoutQuery: 1 });
    expect(back.judgments).toBe(3);
    expect((await repo.list()).map((g) => g.name)).toEqual(['mini']);
    const audit = await backend.catalog.listAudit({ action: 'golden.save' });
    expect(audit).toEqual([expect.objectContaining({ actor: 'alice', subject: 'mini' })]);
  });

  it('saving the same content is a no-op; other content needs replace', async () => {
    await repo.save('mini', graded());
    await repo.save('mini', graded());
    expect(await backend.catalog.listAudit({ action: 'golden.save' })).toHaveLength(1);
    await expect(repo.save('mini', graded(true))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const replaced = await repo.save('mini', graded(true), { replace: true });
    expect(replaced.digest).toBe(graded(true).digest);
    expect((await repo.get('mini')).qrels.q2).toEqual({ d9: 1, d10: 2 });
  });

  it('names the stored sets when one is missing, refuses bad names and detects edited rows', async () => {
    await repo.save('mini', graded());
    await expect(repo.get('maxi')).rejects.toThrow(/No stored golden set "maxi". Stored sets: mini/);
    await expect(repo.save('../etc', graded())).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    backend.db.prepare("UPDATE golden_qrels SET grade = 1 WHERE set_name = 'mini' AND doc_id = 'd1'").run();
    await expect(repo.get('mini')).rejects.toThrow(/does not match its digest/);
    expect(await repo.delete('mini')).toBe(true);
    expect(await repo.delete('mini')).toBe(false);
    expect(backend.db.prepare('SELECT COUNT(*) AS n FROM golden_qrels').get()).toEqual({ n: 0 });
  });

  it('resolveGoldenSet reads a stored set by name and explains a missing path or name', async () => {
    await repo.save('mini', graded());
    const byName = await resolveGoldenSet(backend, 'mini');
    expect(byName).toMatchObject({ from: 'catalog', saved: null });
    expect(byName.golden.digest).toBe(graded().digest);
    await expect(resolveGoldenSet(backend, 'nope')).rejects.toThrow(/Stored sets: mini/);
    await expect(resolveGoldenSet(backend, './missing/dir')).rejects.toThrow(/no such file or directory/);
  });
});
