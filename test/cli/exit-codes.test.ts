import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MONITOR_ALERT_EXIT } from '../../src/cli/commands/monitor.js';
import { SIGPIPE_EXIT } from '../../src/cli/interrupt.js';
import { USAGE_EXIT } from '../../src/cli/main.js';
import { ERROR_CODES, exitCodeFor, ReembedError } from '../../src/core/errors.js';
import { runCli, tempDir } from './helpers.js';

const README = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** The numbers the README's "Exit codes:" paragraph documents. */
function documented(): Set<number> {
  const start = README.indexOf('Exit codes:');
  const paragraph = README.slice(start, README.indexOf('\n\n', start));
  return new Set([...paragraph.matchAll(/(?:^|[:,]\s)(\d+) /g)].map((m) => Number(m[1])));
}

describe('exit codes', () => {
  it('every code main can return is in the README', () => {
    const codes = new Set([
      0,
      1, // a failed step or job, and INTERNAL
      USAGE_EXIT,
      MONITOR_ALERT_EXIT,
      SIGPIPE_EXIT,
      ...ERROR_CODES.map((code) => exitCodeFor(new ReembedError(code, 'x'))),
    ]);
    const missing = [...codes].filter((c) => !documented().has(c)).sort((a, b) => a - b);
    expect(missing).toEqual([]);
  });

  it('worker on SQLite: UNSUPPORTED (10), saying to use --pg', async () => {
    const { dir, cleanup } = tempDir();
    try {
      expect((await runCli(['init'], dir)).code).toBe(0);
      for (const argv of [['worker'], ['worker', 'plan', 'docs'], ['worker', 'status']]) {
        const run = await runCli(argv, dir);
        expect(run.code, argv.join(' ')).toBe(10);
        expect(run.stderr).toMatch(/^error UNSUPPORTED: .*PostgreSQL.*--pg URL/);
      }
    } finally {
      cleanup();
    }
  });
});
