import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONAL_PEERS, type OptionalPeer, peerInstallCommand } from '../../src/platform/optional-peer.js';
import { ROOT, spawnNode } from '../cli/process.js';

/**
 * Issue 14, item 5 (package shape): subpath exports, heavy backends as optional peers with an install
 * hint when missing, and a library entry that loads none of them.
 */
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  exports: Record<string, string | { types: string; default: string }>;
};
const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { exclude: string[] };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'reembed-package-shape-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('package.json', () => {
  it('declares each heavy backend an optional peer, tested at the version the install hint names', () => {
    for (const [name, peer] of Object.entries(OPTIONAL_PEERS)) {
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.peerDependencies[name], name).toBe(`^${peer.version}`);
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(pkg.devDependencies[name], name).toBe(peer.version);
    }
    for (const gone of ['vega', 'vega-lite']) expect(pkg.dependencies[gone]).toBeUndefined();
  });

  it('exports reembed, reembed/pg, reembed/lancedb, reembed/report and reembed/testing from built sources', () => {
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');
    expect(subpaths.sort()).toEqual(['.', './lancedb', './pg', './report', './testing']);
    for (const key of subpaths) {
      const target = pkg.exports[key] as { types: string; default: string };
      expect(target.types).toBe(target.default.replace(/\.js$/, '.d.ts'));
      const source = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
  });

  it('keeps tests and test-only cases out of dist', () => {
    expect(build.exclude).toEqual(
      expect.arrayContaining(['src/**/*.test.ts', 'src/**/*-cases.ts', 'src/**/test-support.ts']),
    );
  });
});

/** Runs `code` (an ES module) in a child with a resolve hook that logs each package loaded. */
async function run(code: string, hook = ''): Promise<{ stdout: string; stderr: string; packages: string[] }> {
  const hooks = join(dir, `hooks-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    hooks,
    `${hook}
const SRC = ${JSON.stringify(pathToFileURL(join(ROOT, 'src')).href)} + '/';
export async function load(url, context, next) {
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url);
  if (m) process._rawDebug('PACKAGE ' + m[1]);
  else if (url.startsWith(SRC)) process._rawDebug('MODULE ' + url.slice(SRC.length));
  return next(url, context);
}`,
  );
  const script = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    `import Module, { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const require = Module.prototype.require;
Module.prototype.require = function (id) {
  if (!id.startsWith('.') && !id.startsWith('node:') && !id.startsWith('/')) process._rawDebug('PACKAGE ' + id);
  return require.apply(this, arguments);
};
${code}`,
  );
  const child = spawnNode(script, [], { cwd: dir });
  await child.exited;
  const packages = [...new Set([...child.stderr.matchAll(/^PACKAGE (\S+)$/gm)].map((m) => m[1] as string))];
  return { stdout: child.stdout, stderr: child.stderr, packages: packages.sort() };
}

/** reembed's own modules (paths under src/) a `run` loaded, in load order, up to the line `marker` on stdout. */
function modulesOf(stderr: string): string[] {
  return [...stderr.matchAll(/^MODULE (\S+)$/gm)].map((m) => m[1] as string);
}

const src = (path: string): string => JSON.stringify(pathToFileURL(join(ROOT, 'src', path)).href);

describe('what importing reembed loads', () => {
  it('the library entry loads none of the backends, charts or native search libraries', async () => {
    const { packages, stdout } = await run(
      `const m = await import(${src('index.ts')}); console.log(typeof m.openReembed);`,
    );
    expect(stdout.trim()).toBe('function');
    for (const heavy of [
      'pg',
      'graphile-worker',
      '@lancedb/lancedb',
      'apache-arrow',
      '@resvg/resvg-js',
      'usearch',
      'ml-matrix',
      'better-sqlite3',
      'prom-client',
      'hono',
      // Schemas build on first validation (core/zod.ts): the import loaded zod's 10 modules before.
      'zod',
    ])
      expect(packages, heavy).not.toContain(heavy);
  });

  /**
   * Issue 14, item 5: zod was a quarter of `import('reembed')`; the schemas of spaces, probe sets and
   * OpenAI options now build on their first validation, with the same messages. (That the lazily loaded
   * zod is the instance `import 'zod'` gives, where Node can `require` an ES module, holds in plain Node:
   * bench/startup.ts checks it in the installed package. Here tsx's require hook compiles a second copy.)
   */
  it('loads zod on the first validation, not at import, and validates with it as before', async () => {
    const { stdout, stderr } = await run(
      `const m = await import(${src('index.ts')});
let message = '';
try { m.defineSpace('x', { provider: 'p', model: 'm', dimension: -1 }); } catch (e) { message = e.code + ': ' + e.message; }
const probe = m.resolveProbeParams({}).size;
const { zod } = await import(${src('core/zod.ts')});
console.log(JSON.stringify({ message, probe, zod: typeof zod().object }));`,
    );
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(result.message, stderr).toBe(
      'INVALID_SPEC: Invalid space spec: dimension: Number must be greater than 0. Fix the named fields (see README "Embedding spaces").',
    );
    expect(result.probe).toBe(300);
    expect(result.zod).toBe('function');
  });

  /**
   * Issue 14, item 5: `import('reembed')` loads the domain values, the space helpers and the two classes;
   * every async entry point imports its module on first call, and the classes load their operations on
   * first use. Each path below was loaded eagerly before (the import took 160+ modules and 240-300 ms); a
   * static import that brings one back fails here. The ceiling is the count when this was written (62;
   * 67 before zod and the OpenAI request path moved to first use)
   * plus a little room: raise it only for a module every user of the entry needs.
   */
  it('loads no store, evaluation, monitoring, bridge or migration-step module until one is used', async () => {
    const db = JSON.stringify(join(dir, 'lazy.db'));
    const { stdout, stderr } = await run(
      `const m = await import(${src('index.ts')});
process._rawDebug('MODULE ---imported');
const app = await m.openReembed({ db: ${db} });
await app.addSpace(m.hashingSpace('h', { dimension: 32 }));
await app.createCollection('docs', 'h');
await app.ingest('docs', [{ id: 'a', text: 'vectors live in spaces' }, { id: 'b', text: 'unrelated words' }]);
const { hits } = await app.search('docs', { text: 'spaces', k: 1 });
const migrations = new m.MigrationService(app);
const plan = await migrations.plan({ alias: 'docs', to: 'h', strategy: 'blue-green' }).catch((e) => e.code);
await migrations.close();
await app.close();
console.log(JSON.stringify({ hit: hits[0]?.sourceId, plan: typeof plan }));`,
    );
    expect(JSON.parse(stdout.trim().split('\n').pop() ?? '{}'), stderr).toEqual({
      hit: 'a',
      plan: expect.any(String),
    });
    const all = modulesOf(stderr);
    const cut = all.indexOf('---imported');
    const atImport = all.slice(0, cut);
    const later = all.slice(cut + 1);
    const notAtImport = [
      'app/open.ts',
      'app/ingest.ts',
      'app/aliases.ts',
      'app/evaluate.ts',
      'app/probes.ts',
      'app/forecast.ts',
      'app/bridge-evaluate.ts',
      'app/migrate-start.ts',
      'app/migrate-step.ts',
      'app/migrate-plan.ts',
      'app/migrate-cutover.ts',
      'app/migrate-backfill.ts',
      'app/migrate-replay.ts',
      'app/migrate-finish.ts',
      'app/migrate-gates.ts',
      'app/status.ts',
      'core/adapter.ts',
      'embedders/minilm/embedder.ts',
      'embedders/stored-vectors/store.ts',
      'embedders/openai-tokenizer.ts',
      // The OpenAI request path loads with the first `embed` (issue 14, item 5).
      'embedders/openai-request.ts',
      'embedders/openai-response.ts',
      'jobs/backfill.ts',
      'jobs/retire.ts',
      'jobs/source-pages.ts',
    ];
    for (const path of notAtImport) expect(atImport, path).not.toContain(path);
    for (const folder of ['stores/', 'eval/', 'monitor/', 'report/', 'bridge/', 'server/', 'queue/', 'cli/'])
      expect(
        atImport.filter((p) => p.startsWith(folder)),
        folder,
      ).toEqual([]);
    expect(atImport.length, atImport.join('\n')).toBeLessThanOrEqual(66);
    // The stand-ins and the classes did load what they use, once it was used.
    for (const used of ['app/open.ts', 'stores/sqlite/backend.ts', 'app/ingest.ts', 'app/migrate-plan.ts'])
      expect(later, used).toContain(used);
  });

  /**
   * Issue 14, item 5: a command's module declares its options; what its handler needs loads when it runs.
   * `demo --help` loaded 133 of reembed's modules and `serve --help` 105 with the HTTP framework, before
   * the handlers moved behind `lazyAsync`; each `--help` below now loads the CLI core and its command only.
   */
  it.each([
    ['demo', 'cli/demo/'],
    ['serve', 'server/app.ts'],
    ['report', 'report/write.ts'],
    ['adapter', 'app/'],
  ])('`reembed %s --help` loads only the command, not its handler (%s)', async (command, handlerPart) => {
    const { stdout, stderr, packages } = await run(
      `const { main } = await import(${src('cli/main.ts')});
const chunks = [];
const sink = { write: (s) => { chunks.push(String(s)); return true; }, isTTY: false, columns: 80 };
const code = await main([${JSON.stringify(command)}, '--help'], { stdout: sink, stderr: sink, env: {}, cwd: process.cwd(), stdin: process.stdin, isTTY: false, onInterrupt: () => () => undefined });
console.log(JSON.stringify({ code, help: chunks.join('').includes('Usage: reembed ${command}') }));`,
    );
    expect(JSON.parse(stdout.trim().split('\n').pop() ?? '{}'), stderr).toEqual({ code: 0, help: true });
    const loaded = modulesOf(stderr);
    expect(loaded.filter((p) => p.startsWith(handlerPart))).toEqual([]);
    expect(loaded.filter((p) => p.startsWith('stores/') || p.startsWith('app/'))).toEqual([]);
    for (const heavy of [
      'hono',
      '@hono/zod-openapi',
      'prom-client',
      'better-sqlite3',
      'usearch',
      'ml-matrix',
    ])
      expect(packages, heavy).not.toContain(heavy);
    expect(loaded.length, loaded.join('\n')).toBeLessThanOrEqual(30);
  });
});

describe('a missing optional peer', () => {
  /**
   * A resolve hook that looks the peers up from an empty directory: Node's own resolver then fails to find
   * them exactly as in an install without them (ERR_MODULE_NOT_FOUND), while everything else resolves.
   */
  const hide = (names: readonly string[]): string => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    return `const HIDDEN = ${JSON.stringify(names)};
export async function resolve(specifier, context, next) {
  if (HIDDEN.some((n) => specifier === n || specifier.startsWith(n + '/')))
    return next(specifier, { ...context, parentURL: ${JSON.stringify(pathToFileURL(join(empty, 'x.mjs')).href)} });
  return next(specifier, context);
}`;
  };
  const attempt = (call: string): string => `
try { ${call.replaceAll('__LANCE__', JSON.stringify(join(dir, 'lance')))}; console.log('NO ERROR'); }
catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message, details: error.details, cause: error.cause?.code })); }`;

  const cases: [OptionalPeer[], string, string][] = [
    [
      ['pg'],
      `const { openPgBackend } = await import(${src('pg.ts')}); await openPgBackend({ url: 'postgres://127.0.0.1:1/x' })`,
      'pg',
    ],
    [
      ['@lancedb/lancedb'],
      `const { openLanceDbStore } = await import(${src('lancedb.ts')}); await openLanceDbStore({ uri: __LANCE__ })`,
      '@lancedb/lancedb',
    ],
    [
      ['apache-arrow'],
      `const { openLanceDbStore } = await import(${src('lancedb.ts')}); await openLanceDbStore({ uri: __LANCE__ })`,
      'apache-arrow',
    ],
    [
      ['graphile-worker'],
      `const { loadGraphileWorker } = await import(${src('queue/graphile.ts')}); await loadGraphileWorker()`,
      'graphile-worker',
    ],
  ];
  it.each(cases)('without %j: DEPENDENCY_MISSING naming the npm install', async (hidden, call, name) => {
    const { stdout, stderr } = await run(attempt(call), hide(hidden));
    const line = stdout.trim().split('\n').pop() ?? '';
    expect(line, stderr).not.toBe('NO ERROR');
    const error = JSON.parse(line) as {
      code: string;
      message: string;
      details: { install: string };
      cause: string;
    };
    expect(error.code).toBe('DEPENDENCY_MISSING');
    expect(error.cause).toBe('ERR_MODULE_NOT_FOUND');
    const install = peerInstallCommand(name as OptionalPeer);
    expect(install).toContain(`${name}@${OPTIONAL_PEERS[name as OptionalPeer].version}`);
    expect(error.message).toContain(`Install it: ${install}`);
    expect(error.details.install).toBe(install);
  });

  it('the CLI prints the install command and exits with the code of DEPENDENCY_MISSING', async () => {
    const { stdout, stderr } = await run(
      `const { main } = await import(${src('cli/main.ts')});
const code = await main(['--pg', 'postgres://127.0.0.1:1/x', 'status']);
console.log('EXIT ' + code);`,
      hide(['pg']),
    );
    expect(stdout).toContain('EXIT 10');
    expect(stderr).toContain(`DEPENDENCY_MISSING`);
    expect(stderr).toContain(peerInstallCommand('pg'));
  });
});
