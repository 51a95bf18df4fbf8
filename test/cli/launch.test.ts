import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { main as sourceMain } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/registry.js';
import { type CliRun, runCli, tempDir } from './helpers.js';
import { BIN, ensureBuilt, ROOT } from './process.js';

/**
 * Issue 14, item 5 (`reembed --help` under 150 ms): bin/reembed.js runs dist/cli/launch.cjs, the CLI's
 * start-up path bundled into one CommonJS file at build time (scripts/bundle-cli.mjs), and imports each
 * command's module from dist/ when it runs. The bundle must hold that path and nothing more, print every
 * help text and usage error exactly as the ES modules do, and keep the code of an error a command throws
 * (the bundle and dist/ each have a copy of the error catalog).
 */
const LAUNCH = join(ROOT, 'dist/cli/launch.cjs');
let bundled: typeof sourceMain;
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ensureBuilt();
  ({ main: bundled } = createRequire(import.meta.url)(LAUNCH) as { main: typeof sourceMain });
  ({ dir, cleanup } = tempDir('reembed-launch-'));
}, 600_000);
afterAll(() => cleanup?.());

/** The bundle's `main` in-process, with the captured streams `runCli` gives the source's. */
async function runBundled(argv: readonly string[]): Promise<CliRun> {
  const text = { stdout: '', stderr: '' };
  const sink = (name: keyof typeof text) => ({
    isTTY: false,
    write: (chunk: string) => {
      text[name] += chunk;
      return true;
    },
  });
  const code = await bundled(argv, {
    stdout: sink('stdout'),
    stderr: sink('stderr'),
    env: { NO_COLOR: '1' },
    cwd: dir,
  });
  return { code, ...text };
}

/** Every command path of the CLI (`[]`, `['migrate']`, `['migrate', 'start']`, ...), from the command modules. */
async function commandPaths(): Promise<string[][]> {
  const program = new Command('reembed');
  for (const entry of COMMANDS)
    (await entry.load())(program.command(entry.name), () => async () => undefined);
  const paths: string[][] = [];
  const walk = (command: Command, path: string[]): void => {
    paths.push(path);
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return paths;
}

describe('dist/cli/launch.cjs', () => {
  it('bundles the start-up path only: commands, the app and every package load from outside it', () => {
    const code = readFileSync(LAUNCH, 'utf8');
    // esbuild heads each bundled module (and its hoisted imports) with a comment naming its file.
    const modules = [...new Set([...code.matchAll(/^\/\/ (dist\/\S+\.js)$/gm)].map((m) => m[1]))].sort();
    expect(modules).toEqual([
      'dist/cli/context.js',
      'dist/cli/main.js',
      'dist/cli/output.js',
      'dist/cli/process-io.js',
      'dist/cli/progress.js',
      'dist/cli/registry.js',
      'dist/core/errors.js',
      'dist/ports/progress.js',
    ]);
    // One commander: the instance the command modules' `import ... from 'commander'` get.
    const required = new Set([...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]));
    expect([...required].filter((id) => !id?.startsWith('node:'))).toEqual(['commander']);
    const imported = [...code.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1] as string);
    // Each command's module (one per registry entry) and the app stay behind `import()`.
    expect(imported.filter((s) => !/^\.\/commands\/[\w-]+\.js$/.test(s))).toEqual(['../app/open.js']);
    expect(new Set(imported).size).toBe(COMMANDS.length + 1);
  });

  it('prints every help text, and the usage errors, byte for byte as the ES modules do', async () => {
    const argvs: string[][] = [];
    for (const path of await commandPaths()) {
      argvs.push([...path, '--help']);
      if (path.length > 0) argvs.push(['help', ...path]);
    }
    expect(argvs.length).toBeGreaterThan(50);
    argvs.push(
      [],
      ['help'],
      ['-h'],
      ['frobnicate'],
      ['migrat'],
      ['--bogus'],
      ['--db'],
      ['--json', 'frobnicate'],
      ['migrate'],
      ['migrate', 'bogus'],
      ['status', '--bogus'],
      ['search'],
      ['search', '--k', 'many', 'docs', 'q'],
      ['--db', 'x.db', '--json', '--help'],
    );
    for (const argv of argvs) {
      const [fromBundle, fromSource] = [await runBundled(argv), await runCli(argv, dir)];
      expect(fromBundle, argv.join(' ')).toEqual(fromSource);
      if (argv.includes('--help')) expect(fromBundle.stdout, argv.join(' ')).toContain('Usage: reembed');
    }
  });
});

describe('bin/reembed.js', () => {
  const reembed = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, REEMBED_PG_URL: '', NO_COLOR: '1' },
      timeout: 60_000,
    });

  it('prints the help the ES modules print', async () => {
    const run = reembed('--help');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe((await runCli(['--help'], dir)).stdout);
  });

  it("keeps the code of an error a command's modules throw (exit code and message)", () => {
    const db = join(dir, 'errors.db');
    expect(reembed('--db', db, 'init').status).toBe(0);
    const run = reembed('--db', db, 'search', 'nope', 'hello');
    expect(run.stderr).toMatch(/^error NOT_FOUND: Unknown alias "nope"/);
    expect(run.status).toBe(4);
    const json = reembed('--db', db, '--json', 'search', 'nope', 'hello');
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    expect(json.status).toBe(4);
  });
});
