/**
 * Issue 14, item 5 (package shape): what every user pays before doing anything.
 *
 * - The size of a SQLite-only install: `npm pack`, then `npm install ./reembed-x.tgz` into an empty
 *   project (no optional peers), `node_modules` measured in bytes on disk (goal < 150 MB), with the number
 *   of packages. The same install then checks what a user without the peers sees: `reembed --help` runs,
 *   `reembed/testing` resolves, and `openPgBackend` from `reembed/pg` fails with DEPENDENCY_MISSING
 *   naming the install command (a real missing package, not a simulated one). `--install=false` skips it.
 *   `--reuse-native` installs with `--ignore-scripts` and copies this checkout's compiled better-sqlite3
 *   (the same pinned version) into it: without GitHub's prebuilt binaries better-sqlite3 compiles from
 *   source for ~9 minutes here, and the copied build directory is the same bytes the compile leaves.
 * - `reembed --help` cold start (goal < 150 ms) and `import('reembed')` (goal < 100 ms) as a user runs
 *   them: fresh processes in that install (`node -e "await import('reembed')"`, the package's bin; this
 *   checkout's `dist/` with `--install=false`), with `node -e 0` beside them as the floor of any Node process
 *   on this machine. For each: wall time, CPU time (user + system of the process, from bash's `times`:
 *   less sensitive than wall time to other work on a shared machine) and, for the import, the import itself
 *   timed inside the process. `import + defineSpace` adds the first space definition (it loads zod, which
 *   the import no longer does). Medians over `--runs` interleaved rounds (each round runs each once, so a
 *   burst of load spreads over all of them); load averages are recorded before and after.
 * - `--baseline=DIR` adds another checkout's built package (e.g. ../main) to the same rounds: its packed
 *   tarball unpacked over a copy of the install (the install's dependencies stay this branch's: the figures
 *   compare the package's own code). With `--install=false`, both checkouts' `dist/` are run directly.
 *
 * Run: npx tsx bench/startup.ts [--runs=21 --baseline=../main --install=true --reuse-native]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs, fmt, load, median, report } from './lib.js';

const args = benchArgs({ runs: 21, baseline: '', install: true, 'reuse-native': false });
const runs = Number(args.runs);
const ROOT = join(import.meta.dirname, '..');
const HELP_GOAL_MS = 150;
const IMPORT_GOAL_MS = 100;
const INSTALL_GOAL_MB = 150;
const flag = (v: unknown): boolean => v !== false && v !== 'false';

await load('index'); // builds dist/ when a source is newer

interface Target {
  readonly name: string;
  readonly argv: readonly string[];
  readonly cwd: string;
}

/** Imports `specifier` and prints how long the import (and then `after`, if given) took inside the process. */
const importOf = (specifier: string, after = ''): string[] => [
  '--input-type=module',
  '-e',
  `const t = performance.now(); const m = await import(${JSON.stringify(specifier)}); ${after} console.log('IMPORT_MS ' + (performance.now() - t));`,
];
const distOf = (dir: string): string => pathToFileURL(join(dir, 'dist', 'index.js')).href;
const DEFINE = `m.hashingSpace('h', { dimension: 8 });`;

function npmPack(
  dir: string,
  into: string,
): { filename: string; size: number; unpackedSize: number; entryCount: number } {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', into], {
      cwd: dir,
      encoding: 'utf8',
    }),
  ) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];
  return packed[0] as (typeof packed)[number];
}

function duBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

function countPackages(modules: string): number {
  let n = 0;
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (entry.name.startsWith('@')) n += readdirSync(join(modules, entry.name)).length;
    else n++;
  }
  return n;
}

const scratch = mkdtempSync(join(tmpdir(), 'reembed-bench-startup-'));
const targets: Target[] = [{ name: 'node -e 0', argv: ['-e', '0'], cwd: scratch }];
/** Without the install, this checkout's `dist/` (and the baseline's) directly. */
if (!flag(args.install)) {
  targets.push(
    { name: 'checkout: reembed --help', argv: [join(ROOT, 'bin', 'reembed.js'), '--help'], cwd: scratch },
    { name: "checkout: import('reembed')", argv: importOf(distOf(ROOT)), cwd: scratch },
  );
  if (args.baseline) {
    const base = String(args.baseline);
    targets.push(
      {
        name: 'baseline checkout: reembed --help',
        argv: [join(base, 'bin', 'reembed.js'), '--help'],
        cwd: scratch,
      },
      { name: "baseline checkout: import('reembed')", argv: importOf(distOf(base)), cwd: scratch },
    );
  }
}

let install: Record<string, unknown> | null = null;
try {
  if (flag(args.install)) {
    const tarball = npmPack(ROOT, scratch);
    const app = join(scratch, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }),
    );
    const reuseNative = flag(args['reuse-native']);
    const started = performance.now();
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        ...(reuseNative ? ['--ignore-scripts'] : []),
        join(scratch, tarball.filename),
      ],
      { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const installSeconds = (performance.now() - started) / 1000;
    const modules = join(app, 'node_modules');
    if (reuseNative) {
      const build = join(ROOT, 'node_modules', 'better-sqlite3', 'build');
      if (!existsSync(build)) throw new Error(`--reuse-native: ${build} is missing (npm ci first)`);
      cpSync(build, join(modules, 'better-sqlite3', 'build'), { recursive: true });
    }
    const bytes = duBytes(modules);
    const peers = ['pg', 'graphile-worker', '@lancedb/lancedb', 'apache-arrow', 'vega', 'vega-lite', 'zod'];
    const present = peers.filter((p) => existsSync(join(modules, p)));
    // What a user of this install sees.
    const help = spawnSync(join(modules, '.bin', 'reembed'), ['--help'], { cwd: app, encoding: 'utf8' });
    const check = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import.meta.resolve('reembed/testing');
const { openPgBackend } = await import('reembed/pg');
try { await openPgBackend({ url: 'postgres://127.0.0.1:1/x' }); console.log('no error'); }
catch (e) { console.log(e.code + ': ' + e.message); }`,
      ],
      { cwd: app, encoding: 'utf8' },
    );
    const sqlite = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('reembed'); const app = await m.openReembed({ db: ':memory:' });
await app.addSpace(m.hashingSpace('h', { dimension: 16 })); await app.createCollection('c', 'h');
await app.ingest('c', [{ id: 'a', text: 'hello world' }]);
console.log((await app.search('c', { text: 'hello', k: 1 })).hits[0]?.sourceId); await app.close();`,
      ],
      { cwd: app, encoding: 'utf8' },
    );
    // The lazily loaded zod (core/zod.ts) is the instance `import 'zod'` gives, where Node can require ESM.
    const zodCheck = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { zod } = await import('./node_modules/reembed/dist/core/zod.js');
console.log(process.features.require_module ? String(zod() === (await import('zod')).z) : 'no require(esm)');`,
      ],
      { cwd: app, encoding: 'utf8' },
    );
    install = {
      tarball: {
        file: tarball.filename,
        bytes: tarball.size,
        unpackedBytes: tarball.unpackedSize,
        files: tarball.entryCount,
      },
      reuseNative,
      nodeModulesBytes: bytes,
      nodeModulesMB: bytes / 1e6,
      packages: countPackages(modules),
      installSeconds,
      packagesPresent: present,
      helpExit: help.status,
      missingPeer: check.stdout.trim() || check.stderr.trim(),
      sqliteSearch: sqlite.stdout.trim() === 'a' ? 'ok' : `failed: ${sqlite.stderr.trim()}`,
      lazyZodIsImportedZod: zodCheck.stdout.trim() || zodCheck.stderr.trim(),
    };
    console.error(
      `install: node_modules ${fmt(bytes / 1e6)} MB, ${install.packages} packages; of ${peers.join(', ')} present: ${present.join(', ') || 'none'}`,
    );
    console.error(`install: reembed/pg without pg → ${install.missingPeer}`);
    console.error(`install: openReembed + ingest + search on SQLite → ${install.sqliteSearch}`);
    console.error(`install: lazily loaded zod === import('zod') → ${install.lazyZodIsImportedZod}`);
    targets.push(
      {
        name: 'install: reembed --help',
        argv: [join(modules, 'reembed', 'bin', 'reembed.js'), '--help'],
        cwd: app,
      },
      { name: "install: import('reembed')", argv: importOf('reembed'), cwd: app },
      { name: 'install: import + defineSpace', argv: importOf('reembed', DEFINE), cwd: app },
    );
    if (args.baseline) {
      const baseApp = join(scratch, 'baseline-app');
      cpSync(app, baseApp, { recursive: true, verbatimSymlinks: true });
      const basePack = npmPack(String(args.baseline), scratch);
      const own = join(baseApp, 'node_modules', 'reembed');
      rmSync(own, { recursive: true, force: true });
      mkdirSync(own);
      execFileSync('tar', ['xzf', join(scratch, basePack.filename), '-C', own, '--strip-components=1']);
      targets.push(
        {
          name: 'baseline install: reembed --help',
          argv: [join(own, 'bin', 'reembed.js'), '--help'],
          cwd: baseApp,
        },
        { name: "baseline install: import('reembed')", argv: importOf('reembed'), cwd: baseApp },
        { name: 'baseline install: import + defineSpace', argv: importOf('reembed', DEFINE), cwd: baseApp },
      );
    }
  }

  /** In-process import times (`IMPORT_MS` lines), by target. */
  const inProcess = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const seconds = (t: string): number => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
  };
  const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

  /** No start-up files (BASH_ENV, ~/.bashrc: pyenv's ran with every sample here, counted in `times`). */
  const { BASH_ENV: _bashEnv, ENV: _env, ...inherited } = process.env;
  const shellEnv = { ...inherited, NO_COLOR: '1' };

  /** One fresh process: wall ms (bash's clock around it), and CPU ms (user + system) of the process. */
  function time(t: Target): number {
    const command = [process.execPath, ...t.argv].map(quote).join(' ');
    const r = spawnSync(
      'bash',
      [
        '--norc',
        '--noprofile',
        '-c',
        `s=$EPOCHREALTIME; ${command} || exit $?; e=$EPOCHREALTIME; echo "WALL $s $e"; times`,
      ],
      { cwd: t.cwd, encoding: 'utf8', env: shellEnv },
    );
    if (r.status !== 0) throw new Error(`${t.name}: exited ${r.status}:\n${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    const wall = (lines.find((l) => l.startsWith('WALL ')) ?? '').split(' ').slice(1).map(Number);
    const children = (lines.at(-1) ?? '').trim().split(/\s+/).map(seconds);
    cpu.set(t.name, [...(cpu.get(t.name) ?? []), ((children[0] ?? 0) + (children[1] ?? 0)) * 1000]);
    const imported = /IMPORT_MS ([\d.]+)/.exec(r.stdout);
    if (imported) inProcess.set(t.name, [...(inProcess.get(t.name) ?? []), Number(imported[1])]);
    return ((wall[1] ?? 0) - (wall[0] ?? 0)) * 1000;
  }

  const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  for (const t of targets) time(t); // warm the file cache once
  inProcess.clear();
  cpu.clear();
  const loadBefore = loadavg();
  for (let round = 0; round < runs; round++) {
    for (const t of targets) samples.get(t.name)?.push(time(t));
  }
  const loadAfter = loadavg();
  const startup = targets.map((t) => {
    const imports = inProcess.get(t.name);
    return {
      name: t.name,
      medianMs: median(samples.get(t.name) ?? []),
      cpuMedianMs: median(cpu.get(t.name) ?? []),
      ...(imports ? { importMedianMs: median(imports) } : {}),
      ms: samples.get(t.name),
      cpuMs: cpu.get(t.name),
      ...(imports ? { importMs: imports } : {}),
    };
  });
  const round2 = (l: readonly number[]): number[] => l.map((x) => Number(x.toFixed(2)));
  console.error(
    `load average ${round2(loadBefore).join(' ')} → ${round2(loadAfter).join(' ')}; ${runs} rounds`,
  );
  for (const s of startup) {
    const own = s.importMedianMs === undefined ? '' : `, the import itself ${fmt(s.importMedianMs)} ms`;
    console.error(
      `${s.name.padEnd(40)} wall ${fmt(s.medianMs).padStart(7)} ms, cpu ${fmt(s.cpuMedianMs, 0)} ms${own}`,
    );
  }
  report('startup', {
    runs,
    goals: { helpMs: HELP_GOAL_MS, importMs: IMPORT_GOAL_MS, installMB: INSTALL_GOAL_MB },
    loadAverage: { before: round2(loadBefore), after: round2(loadAfter) },
    startup,
    install,
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
