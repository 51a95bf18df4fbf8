import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  expect((await runCli(['init'], dir)).code).toBe(0);
  expect((await runCli(['space', 'add', 'h', '--provider', 'hashing', '--dimension', '32'], dir)).code).toBe(
    0,
  );
  expect((await runCli(['collection', 'create', 'docs', '--space', 'h'], dir)).code).toBe(0);
  writeFileSync(
    join(dir, 'c.jsonl'),
    [
      '{"_id": "1", "title": "One", "text": "first document"}',
      '{"_id": "2", "title": "", "text": ""}',
      '{not json',
      '{"_id": "4", "text": "fourth document"}',
    ].join('\n'),
  );
});
afterEach(() => cleanup());

describe('reembed ingest --skip-invalid', () => {
  it('without it, the first bad line stops the ingest and nothing of its batch is written', async () => {
    const run = await runCli(['--json', 'ingest', 'docs', 'c.jsonl'], dir);
    expect(run.code).toBe(2);
    const message = parseJson<{ error: { message: string } }>(run).error.message;
    expect(message).toContain(':2:');
    expect(message).toContain('Fix the input (or pass --skip-invalid to ingest every valid line');
    const status = parseJson<{ records: number }[]>(await runCli(['--json', 'status', 'docs'], dir));
    expect(status[0]?.records).toBe(0);
  });

  it('with it, every valid line is ingested and every bad line is listed', async () => {
    const run = await runCli(['--json', 'ingest', 'docs', 'c.jsonl', '--skip-invalid'], dir);
    expect(run.code).toBe(0);
    const out = parseJson<{ documents: number; skipped: { line: number }[] }>(run);
    expect(out.documents).toBe(2);
    expect(out.skipped.map((s) => s.line)).toEqual([2, 3]);
    const status = parseJson<{ records: number }[]>(await runCli(['--json', 'status', 'docs'], dir));
    expect(status[0]?.records).toBe(2);
  });
});
