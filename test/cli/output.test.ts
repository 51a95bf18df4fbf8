import { describe, expect, it } from 'vitest';
import { formatTable, Output } from '../../src/cli/output.js';
import { createProgress, formatDuration, runningCount, silentProgress } from '../../src/cli/progress.js';

function sink(isTTY: boolean) {
  return {
    isTTY,
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

describe('output', () => {
  it('aligns tables, right-aligning numeric columns', () => {
    const text = formatTable(
      [
        { header: 'NAME', value: (r: { n: string; v: number }) => r.n },
        { header: 'VALUE', value: (r: { n: string; v: number }) => r.v, align: 'right' },
      ],
      [
        { n: 'a', v: 0.5 },
        { n: 'longer', v: 12 },
      ],
    );
    expect(text.split('\n')).toEqual(['NAME    VALUE', '------  -----', 'a       0.500', 'longer     12']);
  });

  it('prints the line that says what to run instead of an empty table', () => {
    const stdout = sink(false);
    const out = new Output(stdout, sink(false), { json: false, quiet: false });
    const columns = [{ header: 'NAME', value: (r: string) => r }];
    out.table(columns, [], 'No spaces yet. Add one: reembed space add v1');
    out.table(columns, ['v1'], 'No spaces yet.');
    out.table(columns, []);
    expect(stdout.text).toBe('No spaces yet. Add one: reembed space add v1\nNAME\n----\nv1\nNAME\n----\n');
  });

  it('prints one JSON document in --json mode and errors in the fixed shape', () => {
    const stdout = sink(false);
    const stderr = sink(false);
    const out = new Output(stdout, stderr, { json: true, quiet: false });
    out.line('human only');
    out.note('note');
    out.result({ a: new Float32Array([1, 2]) }, () => out.line('never'));
    out.error('NOT_FOUND', 'gone');
    expect(stdout.text).toBe(
      '{\n  "a": [\n    1,\n    2\n  ]\n}\n{"error":{"code":"NOT_FOUND","message":"gone"}}\n',
    );
    expect(stderr.text).toBe('');
  });

  it('prints errors as one red line on a terminal, plain otherwise', () => {
    const tty = sink(true);
    new Output(sink(false), tty, { json: false, quiet: false }).error('SPACE_MISMATCH', 'two\nlines');
    expect(tty.text).toBe('\u001b[31merror SPACE_MISMATCH: two lines\u001b[39m\n');
    const pipe = sink(false);
    new Output(sink(false), pipe, { json: false, quiet: false }).error('SPACE_MISMATCH', 'x');
    expect(pipe.text).toBe('error SPACE_MISMATCH: x\n');
  });
});

describe('progress', () => {
  it('is silent unless stderr is a TTY and neither --json nor --quiet is set', () => {
    expect(createProgress(sink(false), { json: false, quiet: false })).toBe(silentProgress);
    expect(createProgress(sink(true), { json: true, quiet: false })).toBe(silentProgress);
    expect(createProgress(sink(true), { json: false, quiet: true })).toBe(silentProgress);
  });

  it('draws a bar with count, rate and ETA on a terminal', () => {
    const tty = sink(true);
    const progress = createProgress(tty, { json: false, quiet: false });
    expect(progress).not.toBe(silentProgress);
    const task = progress.start('ingest docs', { total: 10, unit: 'docs' });
    task.advance(4);
    task.advance(6);
    task.end();
    task.advance(1);
    expect(tty.text).toContain('ingest docs');
    expect(tty.text).toMatch(/10\/10 docs \| [\d.,]+ docs\/s \| done in \d+s/);
  });

  it('feeds a task from a running count: by what is new, again from zero when the count restarts', () => {
    const calls: string[] = [];
    const count = runningCount({
      advance: (n = 1) => calls.push(`+${n}`),
      setTotal: (total) => calls.push(`total ${total}`),
      end: () => calls.push('end'),
    });
    count(3, 10);
    count(3);
    count(7);
    count(2); // a second pass (the new namespace of a comparison) counts from zero
    count(5);
    expect(calls).toEqual(['total 10', '+3', '+0', '+4', '+2', '+3']);
  });

  it('formats durations', () => {
    expect([
      formatDuration(5),
      formatDuration(185),
      formatDuration(3725),
      formatDuration(Number.NaN),
    ]).toEqual(['5s', '3m05s', '1h02m', '?']);
  });
});
