import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const root = resolve(import.meta.dirname, '../..');
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir('reembed-bin-')));
afterAll(() => cleanup());

/** Spawns the real CLI (src/cli/entry.ts under tsx), as a user's shell would run it. */
function reembed(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/entry.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, REEMBED_PG_URL: '' },
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('reembed as a process', () => {
  it('exits 0 on success and 2 on usage errors, with the help on stderr', () => {
    const db = join(dir, 'a.db');
    const init = reembed('--db', db, 'init');
    expect(init.status).toBe(0);
    expect(init.stdout).toContain(db);
    expect(existsSync(db)).toBe(true);

    const unknown = reembed('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("error: unknown command 'frobnicate'");
    expect(unknown.stderr).toContain('Usage: reembed');
  });

  it('prints exactly {"error":{"code","message"}} on stdout with --json and maps codes to exit codes', () => {
    const missing = reembed('--db', join(dir, 'missing.db'), '--json', 'status');
    expect(missing.status).toBe(4);
    const body = JSON.parse(missing.stdout) as { error: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error)).toEqual(['code', 'message']);
    expect(body.error.code).toBe('NOT_FOUND');
    expect(missing.stderr).toBe('');

    const human = reembed('--db', join(dir, 'missing.db'), 'status');
    expect(human.status).toBe(4);
    expect(human.stdout).toBe('');
    // One plain line: stderr is a pipe here, so no colour codes.
    expect(human.stderr).toMatch(
      /^error NOT_FOUND: No reembed database at .*missing\.db\. Run `reembed init`[^\n]*\n$/,
    );
  });
});
