import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Machine and versions, printed with every benchmark so figures are never quoted without context. */
export function machineInfo(): Record<string, string> {
  const cpu = cpus()[0];
  return {
    cpu: `${cpu?.model ?? 'unknown'} x${cpus().length}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString().slice(0, 10),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

/** Parses `--name=value` / `--flag` arguments of a benchmark script. */
export function benchArgs(
  defaults: Record<string, string | number | boolean>,
): Record<string, string | number | boolean> {
  const out = { ...defaults };
  for (const arg of process.argv.slice(2)) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) continue;
    const key = m[1] as string;
    const raw = m[2];
    const def = defaults[key];
    out[key] = raw === undefined ? true : typeof def === 'number' ? Number(raw) : raw;
  }
  return out;
}

/**
 * Where results go: bench/results/, or the directory `npm run bench` (bench/run.ts) gives each run in
 * `REEMBED_BENCH_RESULTS`, so quick and smoke runs never overwrite the committed results.
 */
export function resultsDir(): string {
  return process.env.REEMBED_BENCH_RESULTS ?? join(import.meta.dirname, 'results');
}

/** Writes a benchmark's result as JSON (`<name>.json` in `resultsDir()`) and prints it. */
export function report(name: string, result: Record<string, unknown>): void {
  const full = { benchmark: name, machine: machineInfo(), ...result };
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(full, null, 2)}\n`);
  console.log(JSON.stringify(full, null, 2));
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

const ROOT = join(import.meta.dirname, '..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

let built = false;

/**
 * Loads a module of the package as users run it: compiled, from `dist/` (built first when a source file
 * is newer), or from the TypeScript sources with `from: 'src'`. It matters where a module starts a
 * worker thread: from sources, the thread registers tsx and compiles its imports (130 ms median here),
 * while the compiled thread loads in 32 ms (bench/reader-thread.ts).
 */
export async function load<T>(module: string, from: 'dist' | 'src' = 'dist'): Promise<T> {
  if (from === 'src') return (await import(pathToFileURL(join(ROOT, 'src', `${module}.ts`)).href)) as T;
  if (!built) {
    const index = join(ROOT, 'dist', 'index.js');
    if (!existsSync(index) || statSync(index).mtimeMs < newestSource(join(ROOT, 'src'))) {
      console.error('bench: building dist/ (npm run build)');
      const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0) throw new Error('npm run build failed');
    }
    built = true;
  }
  return (await import(pathToFileURL(join(ROOT, 'dist', `${module}.js`)).href)) as T;
}

/**
 * The machine's memory-bandwidth limit for streaming `bytes` once, measured in this process: the median
 * time of `Buffer#indexOf` for a byte the buffer does not hold (one memchr pass over memory that was
 * written, so every page is real), and the rate in GB/s. An exact search that reads the same bytes can
 * at best match it.
 */
export function streamBandwidth(bytes: number, runs = 5): { ms: number; gbPerSecond: number } {
  const buffer = Buffer.alloc(bytes, 7);
  buffer.indexOf(1);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    if (buffer.indexOf(1) !== -1) throw new Error('streamBandwidth: the probe byte is present');
    times.push(performance.now() - t);
  }
  const ms = median(times);
  return { ms, gbPerSecond: bytes / (ms / 1000) / 1e9 };
}
