import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Help } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokedCommand } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/registry.js';
import { runCli, tempDir } from './helpers.js';
import { spawnNode } from './process.js';

/**
 * Commands load lazily (issue 13, "Speed"): `reembed --help` lists them from the registry alone and a run
 * imports only its own command. The registry's help lines must stay what the modules register.
 */
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir('reembed-registry-')));
afterAll(() => cleanup());

const noop = () => async () => undefined;

describe('the command registry', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    '%s: its help line is what its module registers',
    async (_name, entry) => {
      const program = new Command('reembed');
      const command = program.command(entry.name).description(entry.summary);
      (await entry.load())(command, noop);
      expect(program.commands).toEqual([command]);
      expect(new Help().subcommandTerm(command)).toBe(entry.term);
    },
  );

  it('reembed --help is the same text as with every command loaded', async () => {
    const eager = new Command('reembed');
    const lazy = await runCli(['--help'], dir);
    for (const entry of COMMANDS)
      (await entry.load())(eager.command(entry.name).description(entry.summary), noop);
    expect(lazy.code).toBe(0);
    for (const c of eager.commands)
      expect(lazy.stdout).toContain(`${new Help().subcommandTerm(c)}`.padEnd(10).trimEnd());
    const listed = lazy.stdout.slice(lazy.stdout.indexOf('Commands:'));
    const names = [...listed.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
    expect(names).toEqual([...COMMANDS.map((c) => c.name), 'help']);
  });

  it('finds the command in argv past global options and their values', () => {
    const program = new Command('reembed').option('--db <file>').option('--json').option('--actor <name>');
    expect(invokedCommand(program, ['--db', 'x.db', '--json', 'status'])).toBe('status');
    expect(invokedCommand(program, ['--db=x.db', 'search', 'docs', 'q'])).toBe('search');
    expect(invokedCommand(program, ['--actor', 'status', 'migrate', 'step'])).toBe('migrate');
    expect(invokedCommand(program, ['help', 'migrate'])).toBe('migrate');
    expect(invokedCommand(program, ['--json'])).toBeNull();
    expect(invokedCommand(program, ['frobnicate'])).toBe('frobnicate');
  });

  it('a command of the help, or an unknown one, is a usage error as before', async () => {
    const help = await runCli(['help', 'migrate'], dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: reembed migrate [options] [command]');
    const unknown = await runCli(['migrat'], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: unknown command 'migrat'");
    expect(unknown.stderr).toContain('(Did you mean migrate?)');
  });
});

describe('what a process loads', () => {
  /** Runs the CLI with a loader hook that prints every module URL it loads; returns them. */
  async function loaded(args: readonly string[]): Promise<string[]> {
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `export async function load(url, context, next) { process._rawDebug('LOADED ' + url); return next(url, context); }`,
    );
    const preload = join(dir, 'preload.mjs');
    writeFileSync(
      preload,
      `import Module, { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
// Libraries loaded lazily with createRequire go through require, not the ESM hooks.
const require = Module.prototype.require;
Module.prototype.require = function (id) {
  if (!id.startsWith('.') && !id.startsWith('node:')) process._rawDebug('LOADED node_modules/' + id + '/');
  return require.apply(this, arguments);
};`,
    );
    const entry = join(dir, 'entry.mjs');
    writeFileSync(
      entry,
      `await import(${JSON.stringify(pathToFileURL(preload).href)});
const { main } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../../src/cli/main.ts')).href)});
process.exitCode = await main(process.argv.slice(2));`,
    );
    const child = spawnNode(entry, ['--db', join(dir, 'r.db'), ...args], { cwd: dir });
    await child.exited;
    return [...child.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1] as string);
  }
  const heavy = ['@resvg', '@lancedb', 'apache-arrow', 'graphile-worker', 'pg/', 'usearch'];
  const vendors = (urls: readonly string[]): string[] =>
    [...new Set(urls.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1] ?? []))].sort();

  it('--help loads no command module and no library but commander', async () => {
    const urls = await loaded(['--help']);
    expect(urls.some((u) => u.endsWith('/src/cli/main.ts'))).toBe(true);
    expect(urls.filter((u) => u.includes('/src/cli/commands/'))).toEqual([]);
    expect(vendors(urls).filter((v) => v !== 'tsx')).toEqual(['commander']);
  });

  it('init loads its own command and none of the charts, LanceDB, queue or search libraries', async () => {
    const urls = await loaded(['init']);
    expect(urls.filter((u) => u.includes('/src/cli/commands/')).map((u) => u.split('/').pop())).toEqual([
      'init.ts',
    ]);
    const loadedVendors = vendors(urls);
    for (const lib of heavy) expect(loadedVendors.filter((v) => `${v}/`.startsWith(lib))).toEqual([]);
  });
});
