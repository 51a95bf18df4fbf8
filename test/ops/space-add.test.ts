import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openReembed } from '../../src/app/open.js';
import { hashingSpace } from '../../src/embedders/hashing.js';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';

let dir: string;
let cleanup: () => void;
let db: string;
const cli = (...argv: string[]): Promise<CliRun> => runCli(['--db', db, ...argv], dir);

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'r.db');
  expect((await cli('init')).code).toBe(0);
});
afterEach(() => cleanup());

describe('space add is idempotent when identical, CONFLICT when different (CLI and library)', () => {
  it('CLI: the same definition twice exits 0 and changes nothing; another one names the differing fields', async () => {
    const add = ['space', 'add', 'v1', '--provider', 'hashing', '--dimension', '64', '--seed', '1'];
    expect((await cli(...add)).code).toBe(0);
    const again = await cli(...add, '--json');
    expect(again.code).toBe(0);
    expect(parseJson<{ unchanged: boolean }>(again).unchanged).toBe(true);
    expect((await cli(...add)).stdout).toContain('already registered with this definition: nothing changed');

    const other = await cli(
      'space',
      'add',
      'v1',
      '--provider',
      'hashing',
      '--dimension',
      '128',
      '--seed',
      '1',
    );
    expect(other.code).toBe(5);
    expect(other.stderr).toContain('error CONFLICT');
    expect(other.stderr).toContain('spec.dimension 64 → 128');
    const priced = await cli(...add, '--price-per-1m', '0.5', '--json');
    expect(priced.code).toBe(5);
    expect(parseJson<{ error: { message: string } }>(priced).error.message).toContain(
      'runtime.pricePerMillionTokens 0 → 0.5',
    );
    const audit = parseJson<unknown[]>(await cli('audit', '--action', 'space.add', '--json'));
    expect(audit).toHaveLength(1);
  });

  it('library: addSpace answers the same way as the CLI', async () => {
    const app = await openReembed({ db, actor: 'test' });
    try {
      const v1 = hashingSpace('v1', { dimension: 64, seed: 1 });
      const added = await app.addSpace(v1);
      expect(await app.addSpace(v1)).toEqual(added);
      const error = await app.addSpace(hashingSpace('v1', { dimension: 64, seed: 2 })).catch((e) => e);
      expect(error).toMatchObject({ code: 'CONFLICT' });
      expect(error.details.fields).toEqual(['spec.params.seed']);
    } finally {
      await app.close();
    }
  });

  it('re-running an LSA --fit-on is idempotent and never overwrites the registered model file', async () => {
    const corpus = join(dir, 'c.jsonl');
    const lines = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ id: `d${i}`, text: `alpha beta gamma ${i % 7} delta epsilon word${i % 5} zeta` }),
    );
    writeFileSync(corpus, `${lines.join('\n')}\n`);
    const fit = ['space', 'add', 'lsa', '--provider', 'lsa', '--dimension', '4', '--fit-on', corpus];
    expect((await cli(...fit)).code).toBe(0);
    const model = join(dir, '.reembed', 'models', 'lsa.lsa');
    const before = readFileSync(model);
    const again = await cli(...fit, '--json');
    expect(again.code).toBe(0);
    expect(parseJson<{ unchanged: boolean }>(again).unchanged).toBe(true);
    writeFileSync(corpus, `${lines.slice(0, 30).join('\n')}\n`);
    const refit = await cli(...fit);
    expect(refit.code).toBe(5);
    expect(refit.stderr).toContain('spec.revision');
    expect(existsSync(model)).toBe(true);
    expect(readFileSync(model).equals(before)).toBe(true);
  });
});
