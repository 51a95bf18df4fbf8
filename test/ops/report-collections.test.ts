import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';
import { corpus } from '../migration/helpers.js';

let dir: string;
let cleanup: () => void;
let db: string;
const cli = (...argv: string[]): Promise<CliRun> => runCli(['--db', db, ...argv], dir);
const write = (name: string, lines: readonly object[]): string => {
  writeFileSync(join(dir, name), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return name;
};

interface ReportJson {
  summary: {
    quality: {
      rows: { target: string; collection: string; golden: { name: string } }[];
      skipped: { collection: string; golden: string; reason: string }[];
    };
  };
}

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'r.db');
  const docs = corpus(40);
  const mini = corpus(10, 5, 'mini');
  write('docs.jsonl', docs);
  write('mini.jsonl', mini);
  // Known-item golden sets: each query is a document's own text, judged relevant to that document.
  write(
    'docs-golden.jsonl',
    docs.slice(0, 8).map((d) => ({ query: d.text, relevant: [d.id] })),
  );
  write(
    'mini-golden.jsonl',
    mini.slice(0, 4).map((d) => ({ query: d.text, relevant: [d.id] })),
  );
  for (const argv of [
    ['init'],
    ['space', 'add', 'v1', '--provider', 'hashing', '--dimension', '64', '--seed', '1'],
    ['collection', 'create', 'docs', '--space', 'v1'],
    ['ingest', 'docs', 'docs.jsonl'],
    ['eval', 'docs', '--golden', 'docs-golden.jsonl', '--save-as', 'docs-test'],
  ]) {
    const r = await cli(...argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
});
afterEach(() => cleanup());

describe('report --golden never fails because another collection exists', () => {
  it('a set for every collection is evaluated where it applies and skipped, with a note, where it does not', async () => {
    const before = parseJson<ReportJson>(await cli('report', '--golden', 'docs-test', '--json'));
    expect(before.summary.quality.rows.map((r) => r.target)).toEqual(['docs@v1']);

    for (const argv of [
      ['collection', 'create', 'mini', '--space', 'v1'],
      ['ingest', 'mini', 'mini.jsonl'],
    ])
      expect((await cli(...argv)).code).toBe(0);
    const human = await cli('report', '--golden', 'docs-test', '--out', 'report.html');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toContain(
      'golden set docs-test not evaluated on collection mini: it holds none of the 8 documents it judges',
    );
    const json = parseJson<ReportJson>(await cli('report', '--golden', 'docs-test', '--json'));
    expect(json.summary.quality.rows.map((r) => r.target)).toEqual(['docs@v1']);
    expect(json.summary.quality.skipped).toEqual([
      { collection: 'mini', golden: 'docs-test', reason: 'holds none of the 8 documents it judges' },
    ]);
  });

  it('each collection with its own set (collection=ref), and a clear error for a set that judges nothing held', async () => {
    for (const argv of [
      ['collection', 'create', 'mini', '--space', 'v1'],
      ['ingest', 'mini', 'mini.jsonl'],
    ])
      expect((await cli(...argv)).code).toBe(0);
    const both = parseJson<ReportJson>(
      await cli('report', '--golden', 'docs=docs-test', '--golden', 'mini=mini-golden.jsonl', '--json'),
    );
    expect(both.summary.quality.rows.map((r) => [r.target, r.golden.name])).toEqual([
      ['docs@v1', 'docs-test'],
      ['mini@v1', 'mini-golden'],
    ]);
    expect(both.summary.quality.skipped).toEqual([]);

    const scoped = parseJson<ReportJson>(
      await cli('report', '--collection', 'mini', '--golden', 'mini-golden.jsonl', '--json'),
    );
    expect(scoped.summary.quality.rows.map((r) => r.target)).toEqual(['mini@v1']);
    const wrong = await cli('report', '--collection', 'mini', '--golden', 'docs-test');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('mini: holds none of the 8 documents it judges');
    expect(wrong.stderr).toContain('--golden <collection>=<set>');
    const named = await cli('report', '--golden', 'mini=docs-test');
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('judges 8 of 8 documents that collection "mini" does not hold');
    expect(named.stderr).toContain('--allow-unknown-docs');
    const allowed = parseJson<ReportJson>(
      await cli('report', '--golden', 'mini=docs-test', '--allow-unknown-docs', '--json'),
    );
    expect(allowed.summary.quality.rows.map((r) => r.target)).toEqual(['mini@v1']);
  });
});
