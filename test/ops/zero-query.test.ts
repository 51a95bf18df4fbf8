import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import { openReembed } from '../../src/app/open.js';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';

let dir: string;
let cleanup: () => void;
let db: string;
const cli = (...argv: string[]): Promise<CliRun> => runCli(['--db', db, ...argv], dir);

const DOCS = [
  { id: 'a', text: 'alpha beta' },
  { id: 'b', text: 'beta gamma' },
  { id: 'c', text: 'gamma alpha alpha' },
  { id: 'd', text: 'delta only here' },
];

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'r.db');
  writeFileSync(join(dir, 'wv.vec'), '3 3\nalpha 1 0 0\nbeta 0 1 0\ngamma 0 0 1\n');
  writeFileSync(join(dir, 'docs.jsonl'), `${DOCS.map((d) => JSON.stringify(d)).join('\n')}\n`);
  for (const argv of [
    ['init'],
    ['space', 'add', 'wv', '--provider', 'word-vectors', '--model-path', 'wv.vec'],
    ['space', 'add', 'h', '--provider', 'hashing', '--dimension', '3', '--seed', '1'],
    ['collection', 'create', 'docs', '--space', 'wv'],
    ['ingest', 'docs', 'docs.jsonl'],
  ]) {
    const r = await cli(...argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
});
afterEach(() => cleanup());

describe('a query that cannot rank anything is refused with INVALID_VECTOR (cosine / dot)', () => {
  it('a text with no word the model knows, and an all-zero query vector', async () => {
    const ok = await cli('search', 'docs', 'alpha', '--json');
    expect(ok.code).toBe(0);
    const unknown = await cli('search', 'docs', 'zebra okapi', '--json');
    expect(unknown.code).toBe(2);
    const error = parseJson<{ error: { code: string; message: string } }>(unknown).error;
    expect(error.code).toBe('INVALID_VECTOR');
    expect(error.message).toContain('space wv');
    expect(error.message).toContain('rephrase');

    writeFileSync(join(dir, 'zero.json'), '[0, 0, 0]');
    const zero = await cli('search', 'docs', '--vector-file', 'zero.json', '--space', 'wv');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('error INVALID_VECTOR: The query vector is all zeros');
    writeFileSync(join(dir, 'one.json'), '[0, 0, 1]');
    const one = parseJson<{ hits: { sourceId: string }[] }>(
      await cli('search', 'docs', '--vector-file', 'one.json', '--space', 'wv', '--json'),
    );
    expect(one.hits[0]?.sourceId).toBe('b');
  });

  it('a fused read skips the side that embeds the query to zero, and answers from the other', async () => {
    const app = await openReembed({ db, actor: 'test' });
    const service = new MigrationService(app);
    try {
      const { migration } = await service.start({ alias: 'docs', to: 'h', strategy: 'lazy' });
      await service.step(migration.id);
      const { hits, trace } = await app.search('docs', { text: 'delta here', k: 3 });
      expect(hits.map((h) => h.sourceId)).toContain('d');
      const skipped = trace.reads.find((r) => r.namespace === 'docs@wv');
      expect(skipped?.skipped).toContain('all zeros');
      expect(trace.reads.find((r) => r.namespace === 'docs@h')?.skipped).toBeUndefined();
      await expect(app.search('docs', { text: '!!! ???', k: 3 })).rejects.toMatchObject({
        code: 'INVALID_VECTOR',
      });
    } finally {
      await service.close();
      await app.close();
    }
  });
});
