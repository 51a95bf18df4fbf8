import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  expect((await runCli(['init'], dir)).code).toBe(0);
  expect(
    (
      await runCli(
        ['space', 'add', 'h384', '--provider', 'hashing', '--dimension', '384', '--metric', 'l2'],
        dir,
      )
    ).code,
  ).toBe(0);
});
afterEach(() => cleanup());

describe('reembed plan --dry-run', () => {
  it('prints the pgvector DDL of a namespace from the registered space, without a database server', async () => {
    const run = await runCli(['--json', 'plan', 'docs', '--space', 'h384', '--dry-run', '--m', '24'], dir);
    expect(run.code).toBe(0);
    const out = parseJson<{ namespace: string; ddl: string }>(run);
    expect(out.namespace).toBe('docs@h384');
    expect(out.ddl).toContain('vector(384)');
    expect(out.ddl).toContain('vector_l2_ops');
    expect(out.ddl).toContain('m = 24');
    expect(out.ddl).not.toContain('CREATE TABLE IF NOT EXISTS "reembed"."audit_log"');
    const base = await runCli(
      ['--json', 'plan', 'docs', '--space', 'h384', '--dry-run', '--include-base'],
      dir,
    );
    expect(parseJson<{ ddl: string }>(base).ddl).toMatch(/audit/);
  });

  it('refuses to run without --dry-run and names unknown spaces', async () => {
    const noDry = await runCli(['--json', 'plan', 'docs', '--space', 'h384'], dir);
    expect(noDry.code).toBe(2);
    expect(parseJson<{ error: { code: string } }>(noDry).error.code).toBe('INVALID_INPUT');
    const unknown = await runCli(['--json', 'plan', 'docs', '--space', 'nope', '--dry-run'], dir);
    expect(unknown.code).toBe(4);
  });
});
