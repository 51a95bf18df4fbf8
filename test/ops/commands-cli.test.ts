import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';
import { corpus } from '../migration/helpers.js';

let dir: string;
let cleanup: () => void;
let db: string;
const cli = (...argv: string[]): Promise<CliRun> => runCli(['--db', db, ...argv], dir);

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'r.db');
  writeFileSync(
    join(dir, 'docs.jsonl'),
    `${corpus(30)
      .map((d) => JSON.stringify(d))
      .join('\n')}\n`,
  );
  for (const argv of [
    ['init'],
    ['space', 'add', 'v1', '--provider', 'hashing', '--dimension', '64', '--seed', '1'],
    ['space', 'add', 'v2', '--provider', 'hashing', '--dimension', '64', '--seed', '2'],
    ['space', 'add', 'spare', '--provider', 'hashing', '--dimension', '8'],
    ['collection', 'create', 'docs', '--space', 'v1'],
    ['ingest', 'docs', 'docs.jsonl'],
  ]) {
    const r = await cli(...argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
});
afterEach(() => cleanup());

describe('the commands messages point to exist and behave', () => {
  it('alias list | show | set', async () => {
    const unknown = await cli('search', 'nope', 'query');
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('reembed alias set <alias> <namespace>');

    const set = await cli('alias', 'set', 'docs-pin', 'docs@v1', '--reason', 'export');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('Alias docs-pin → docs@v1 (version 1, new)');
    const list = await cli('alias', 'list');
    expect(list.stdout).toMatch(/docs-pin\s+docs\s+docs@v1\s+1\s+-/);
    const listed = parseJson<{ name: string; routing: { kind: string } }[]>(
      await cli('alias', 'list', '--json'),
    );
    expect(listed.map((a) => a.name)).toEqual(['docs', 'docs-pin']);
    const show = await cli('alias', 'show', 'docs-pin');
    expect(show.stdout).toContain('routes     docs@v1');
    expect(show.stdout).toMatch(/alias\.set\s+reason=export/);
    expect((await cli('alias', 'set', 'docs-pin', 'docs@v9')).code).toBe(4);

    expect((await cli('migrate', 'start', 'docs', '--to', 'v2', '--strategy', 'shadow')).code).toBe(0);
    const during = await cli('alias', 'set', 'docs', 'docs@v1');
    expect(during.code).toBe(5);
    expect(during.stderr).toContain('reembed migrate finish docs');
    expect((await cli('alias', 'show', 'docs')).stdout).toMatch(
      /migration\s+mig_docs@v2_\w+ \(shadow, backfilling\)/,
    );
  });

  it('audit: a table by default, JSON with --json, filters and exit 2 for a bad time', async () => {
    expect(
      (await cli('alias', 'set', 'docs-pin', 'docs@v1', '--actor', 'carol', '--reason', 'why not')).code,
    ).toBe(0);
    const table = await cli('audit', '--limit', '3');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^\s*ID\s+AT\s+ACTOR\s+ACTION\s+TARGET\s+DETAILS/);
    expect(table.stdout.trim().split('\n')).toHaveLength(5);
    const carol = parseJson<{ actor: string; action: string }[]>(
      await cli('audit', '--actor', 'carol', '--json'),
    );
    expect(carol).toEqual([expect.objectContaining({ actor: 'carol', action: 'alias.set' })]);
    const spaces = parseJson<{ subject: string }[]>(
      await cli('audit', '--action', 'space.*', '--since', '1h', '--json'),
    );
    expect(spaces.map((e) => e.subject)).toEqual(['v1', 'v2', 'spare']);
    expect(
      parseJson<unknown[]>(await cli('audit', '--target', 'docs@*', '--until', '2001-01-01', '--json')),
    ).toEqual([]);
    const bad = await cli('audit', '--since', 'last tuesday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error INVALID_INPUT: Audit filter since');
    expect((await cli('audit', '--action', 'nothing.like.this')).stdout).toContain('No audit entries match.');
  });

  it('space remove and collection delete', async () => {
    const inUse = await cli('space', 'remove', 'v1');
    expect(inUse.code).toBe(5);
    expect(inUse.stderr).toContain('docs@v1 (serving)');
    expect((await cli('space', 'remove', 'spare', '--reason', 'unused')).stdout).toContain(
      'Removed space spare',
    );
    expect((await cli('space', 'remove', 'spare')).code).toBe(4);
    expect((await cli('space', 'remove', 'spare', '--if-exists')).stdout).toContain('nothing to remove');

    const unconfirmed = await cli('collection', 'delete', 'docs');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain(
      '1 namespace(s) (30 records), 1 alias(es) (docs), 30 live and 0 deleted',
    );
    expect(unconfirmed.stderr).toContain('--yes');
    expect(parseJson<{ name: string }[]>(await cli('collection', 'list', '--json'))).toHaveLength(1);
    const deleted = await cli('collection', 'delete', 'docs', '--yes', '--reason', 'test');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain('docs@v1 (serving,');
    expect(parseJson<unknown[]>(await cli('collection', 'list', '--json'))).toEqual([]);
    expect((await cli('space', 'remove', 'v1')).code).toBe(0); // no namespace uses it any more
    expect((await cli('audit', '--action', 'collection.delete')).stdout).toContain('reason=test');
  });

  it('migrate finish: the conflict names it; after it a new migration starts', async () => {
    for (const argv of [
      // 30 short documents give no probe, so quality would gate the cutover: this test is about finish.
      ['migrate', 'start', 'docs', '--to', 'v2', '--strategy', 'blue-green', '--gate', 'coverage >= 1.0'],
      ['migrate', 'step', 'docs'],
      ['migrate', 'cutover', 'docs'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}${r.stdout}`).toBe(0);
    }
    const locked = await cli('migrate', 'start', 'docs', '--to', 'v1', '--strategy', 'blue-green');
    expect(locked.code).toBe(5);
    expect(locked.stderr).toContain('close it now with `reembed migrate finish docs --reason "..."`');
    expect((await cli('migrate', 'finish', 'docs')).code).toBe(2); // --reason is required
    const finish = await cli('migrate', 'finish', 'docs', '--reason', 'verified');
    expect(finish.code).toBe(0);
    expect(finish.stdout).toContain(': retired (blue-green, docs@v1 → docs@v2)');
    expect(finish.stdout).toContain('docs@v1 stays retiring: reembed retire run drops it after');
    // Back to v1: the old namespace still holds its vectors, so the backfill has nothing to embed.
    expect((await cli('migrate', 'start', 'docs', '--to', 'v1', '--strategy', 'blue-green')).code).toBe(0);
    const step = await cli('migrate', 'step', 'docs');
    expect(step.stdout).toMatch(/backfill\s+done: 0 written, 30 already current/);
  });
});
