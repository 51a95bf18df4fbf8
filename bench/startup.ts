/**
 * Issue 14, item 5 (package shape): what every user pays before doing anything.
 *
 * - `reembed --help` cold start (goal < 150 ms) and `import('reembed')` (goal < 100 ms): fresh processes
 *   of the compiled package (`node bin/reembed.js --help`, `node -e "await import('<dist>/index.js')"`),
 *   with `node -e 0` beside them as the floor of any Node process on this machine. Medians over `--runs`
 *   interleaved rounds (each round runs each once, so a burst of load spreads over all of them).
 *   `--baseline=DIR` runs another checkout's built package (e.g. ../main) in the same rounds.
 * - The size of a SQLite-only install: `npm pack`, then `npm install ./reembed-x.tgz` into an empty
 *   project (no optional peers), `node_modules` measured in bytes on disk (goal < 150 MB), with the number
 *   of packages. The same install then checks what a user without the peers sees: `reembed --help` runs,
 *   `reembed/testing` resolves, and `openPgBackend` from `reembed/pg` fails with DEPENDENCY_MISSING
 *   naming the install command (a real missing package, not a simulated one). `--install=false` skips it.
 *
 * Run: npx tsx bench/startup.ts [--runs=15 --baseline=../main --install=true]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs, fmt, load, median, report } from './lib.js';

const args = benchArgs({ runs: 15, baseline: '', install: true });
const runs = Number(args.runs);
const ROOT = join(import.meta.dirname, '..');
const HELP_GOAL_MS = 150;
const IMPORT_GOAL_MS = 100;
const INSTALL_GOAL_MB = 150;

await load('index'); // builds dist/ when a source is newer

interface Target {
  readonly name: string;
  readonly argv: readonly string[];
}

/** Imports the package entry and prints how long the import took inside the process. */
const importOf = (dir: string): string[] => [
  '--input-type=module',
  '-e',
  `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(join(dir, 'dist', 'index.js')).href)}); console.log('IMPORT_MS ' + (performance.now() - t));`,
];

const targets: Target[] = [
  { name: 'node -e 0', argv: ['-e', '0'] },
  { name: 'reembed --help', argv: [join(ROOT, 'bin', 'reembed.js'), '--help'] },
  { name: "import('reembed')", argv: importOf(ROOT) },
];
if (args.baseline) {
  const base = String(args.baseline);
  targets.push(
    { name: 'baseline: reembed --help', argv: [join(base, 'bin', 'reembed.js'), '--help'] },
    { name: "baseline: import('reembed')", argv: importOf(base) },
  );
}

/** In-process import times (`IMPORT_MS` lines), by target. */
const inProcess = new Map<string, number[]>();

function time(argv: readonly string[], cwd = tmpdir(), name = ''): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, argv, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status}:\n${r.stderr}`);
  const imported = /IMPORT_MS ([\d.]+)/.exec(r.stdout);
  if (imported && name) inProcess.set(name, [...(inProcess.get(name) ?? []), Number(imported[1])]);
  return ms;
}

const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
for (const t of targets) time(t.argv); // warm the file cache once
for (let round = 0; round < runs; round++) {
  for (const t of targets) samples.get(t.name)?.push(time(t.argv, tmpdir(), t.name));
}
const startup = targets.map((t) => {
  const ms = samples.get(t.name) ?? [];
  const imports = inProcess.get(t.name);
  return {
    name: t.name,
    medianMs: median(ms),
    ms,
    ...(imports ? { importMedianMs: median(imports), importMs: imports } : {}),
  };
});
for (const s of startup) {
  const own = s.importMedianMs === undefined ? '' : ` (the import itself ${fmt(s.importMedianMs)} ms)`;
  console.error(`${s.name.padEnd(30)} median ${fmt(s.medianMs)} ms${own}`);
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

let install: Record<string, unknown> | null = null;
if (args.install !== false && args.install !== 'false') {
  const dir = mkdtempSync(join(tmpdir(), 'reembed-bench-install-'));
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    ) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];
    const tarball = packed[0] as (typeof packed)[number];
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }),
    );
    const started = performance.now();
    execFileSync('npm', ['install', '--no-audit', '--no-fund', join(dir, tarball.filename)], {
      cwd: app,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const installSeconds = (performance.now() - started) / 1000;
    const modules = join(app, 'node_modules');
    const bytes = duBytes(modules);
    const peers = ['pg', 'graphile-worker', '@lancedb/lancedb', 'apache-arrow', 'vega', 'vega-lite'];
    const present = peers.filter((p) => spawnSync('test', ['-d', join(modules, p)]).status === 0);
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
    const missingPeer = check.stdout.trim();
    const installHelp = samplesOf(() => time([join(modules, 'reembed', 'bin', 'reembed.js'), '--help'], app));
    install = {
      tarball: {
        file: tarball.filename,
        bytes: tarball.size,
        unpackedBytes: tarball.unpackedSize,
        files: tarball.entryCount,
      },
      nodeModulesBytes: bytes,
      nodeModulesMB: bytes / 1e6,
      packages: countPackages(modules),
      installSeconds,
      optionalPeersInstalled: present,
      helpExit: help.status,
      helpMedianMsFromInstall: median(installHelp),
      missingPeer,
    };
    console.error(
      `install: node_modules ${fmt(bytes / 1e6)} MB, ${install.packages} packages; peers present: ${present.join(', ') || 'none'}`,
    );
    console.error(`install: reembed/pg without pg → ${missingPeer}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function samplesOf(f: () => number): number[] {
  return Array.from({ length: Math.max(3, Math.min(runs, 7)) }, f);
}

report('startup', {
  runs,
  goals: { helpMs: HELP_GOAL_MS, importMs: IMPORT_GOAL_MS, installMB: INSTALL_GOAL_MB },
  startup,
  install,
});
