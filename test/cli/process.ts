import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The CLI from source, as `bin/reembed.js` runs it from dist/. */
export const ENTRY = join(ROOT, 'src/cli/entry.ts');
/** tsx's loader by path, so children run TypeScript from any working directory. */
export const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
/** The CLI as users run it: bin/reembed.js over the build (dist/, and dist/cli/launch.cjs). */
export const BIN = join(ROOT, 'bin/reembed.js');

/**
 * The compiled CLI and library must be current: builds (`npm run build`) when a source file is newer than
 * the build's last output, dist/cli/launch.cjs (scripts/bundle-cli.mjs writes it after tsc).
 */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      const path = join(dir, e.name);
      return Math.max(max, e.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }, 0);
  const built = join(ROOT, 'dist', 'cli', 'launch.cjs');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, 'src'))) return;
  const run = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`npm run build failed:\n${run.stdout}${run.stderr}`);
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds since spawn. */
  readonly at: number;
}

/** A real child process with its output and the times things happened (ms since spawn). */
export interface Child {
  readonly process: ChildProcess;
  stdout: string;
  stderr: string;
  /** When the last chunk of stdout or stderr arrived. */
  lastOutputAt: number;
  readonly exited: Promise<Exit>;
  /** Resolves once `predicate` holds for the output so far. */
  waitFor(predicate: (child: Child) => boolean, timeoutMs?: number): Promise<void>;
}

/**
 * Spawns `node [--import tsx] <script> ...args` with piped streams. `closeStdout` destroys our end of
 * the stdout pipe at once, as `| head` does once it has its lines: every write of the child then fails
 * with EPIPE.
 */
export function spawnNode(
  script: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; closeStdout?: boolean },
): Child {
  return spawnProcess(process.execPath, ['--import', TSX, script, ...args], {
    ...options,
    // No Postgres: an inherited REEMBED_PG_URL would send the commands to it.
    env: { ...process.env, REEMBED_PG_URL: '', NO_COLOR: '1', ...options.env },
  });
}

/** Any program as a child process, with the environment given (nothing added). */
export function spawnProcess(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; closeStdout?: boolean },
): Child {
  const started = performance.now();
  const proc = spawn(file, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters = new Set<() => void>();
  const child: Child = {
    process: proc,
    stdout: '',
    stderr: '',
    lastOutputAt: 0,
    exited: new Promise((done) =>
      proc.on('exit', (code, signal) => done({ code, signal, at: performance.now() - started })),
    ),
    waitFor(predicate, timeoutMs = 30_000) {
      return new Promise((done, fail) => {
        const check = (): void => {
          if (!predicate(child)) return;
          waiters.delete(check);
          clearTimeout(timer);
          done();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`timed out; stdout:\n${child.stdout}\nstderr:\n${child.stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
  const onChunk = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    child[stream] += chunk.toString('utf8');
    child.lastOutputAt = performance.now() - started;
    for (const check of [...waiters]) check();
  };
  if (options.closeStdout) proc.stdout.destroy();
  else proc.stdout.on('data', onChunk('stdout'));
  proc.stderr.on('data', onChunk('stderr'));
  return child;
}

/** `reembed ...args` as a child process. */
export function spawnCli(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; closeStdout?: boolean },
): Child {
  return spawnNode(ENTRY, args, options);
}
