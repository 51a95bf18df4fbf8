/**
 * `npm run bench`: runs every benchmark of bench/registry.ts, each in its own process, and
 * - appends one JSON line per process to `<out>/runs.jsonl` (benchmark, mode, run, machine, versions,
 *   arguments, figures, the raw result), and keeps each benchmark's latest result as `<out>/<name>.json`;
 * - aggregates each figure over every value of every process (median, min, max, samples) into
 *   `<out>/summary.json` (merged: benchmarks not run keep their last figures);
 * - in full mode, regenerates the tables of BENCHMARKS.md between `<!-- bench:begin … -->` and
 *   `<!-- bench:end … -->` markers from bench/results/summary.json (hand-written text outside stays).
 *
 * Modes: full (default; results in bench/results/), `--quick` (small sizes, under 5 minutes, results in a
 * temporary directory) and `--smoke` (tiny sizes: the CI check that every benchmark still runs).
 * A benchmark that exits non-zero, writes no result, or fails its checks (wrong or empty figures — never
 * slowness) fails the run: the exit code is 1 and the failures are listed at the end.
 *
 * Options: --only=id,id  --skip=id,id  --runs=N (processes per benchmark)  --out=DIR  --docs / --no-docs
 *          --list  --json (print the summary of this run as one JSON document on stdout)
 * Examples: npm run bench -- --quick
 *           npm run bench -- --only=ann-100k,safety
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { machineDetails, versions } from './environment.js';
import { median } from './lib.js';
import { renderBenchmarks } from './markdown.js';
import { haveDatasets } from './real-vectors.js';
import {
  BENCHMARKS,
  type BenchDefinition,
  type Json,
  type Metric,
  type Mode,
  type Requirement,
} from './registry.js';

const ROOT = resolve(import.meta.dirname, '..');

interface Options {
  readonly mode: Mode;
  readonly only: readonly string[] | null;
  readonly skip: readonly string[];
  readonly runs: number | null;
  readonly out: string;
  readonly docs: boolean;
  readonly list: boolean;
  readonly json: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const flags = new Map<string, string | true>();
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m)
      throw new Error(`npm run bench: unknown argument ${arg} (options look like --name or --name=value)`);
    flags.set(m[1] as string, m[2] ?? true);
  }
  const known = ['quick', 'smoke', 'only', 'skip', 'runs', 'out', 'docs', 'no-docs', 'list', 'json'];
  for (const key of flags.keys())
    if (!known.includes(key))
      throw new Error(`npm run bench: unknown option --${key} (known: ${known.join(', ')})`);
  const mode: Mode = flags.has('smoke') ? 'smoke' : flags.has('quick') ? 'quick' : 'full';
  const list = (key: string) =>
    typeof flags.get(key) === 'string' ? String(flags.get(key)).split(',') : null;
  const only = list('only');
  for (const id of [...(only ?? []), ...(list('skip') ?? [])])
    if (!BENCHMARKS.some((b) => b.id === id))
      throw new Error(`npm run bench: no benchmark ${id} (known: ${BENCHMARKS.map((b) => b.id).join(', ')})`);
  const runs = flags.has('runs') ? Number(flags.get('runs')) : null;
  if (runs !== null && !(Number.isInteger(runs) && runs >= 1))
    throw new Error('npm run bench: --runs must be a positive integer');
  const out =
    typeof flags.get('out') === 'string'
      ? resolve(String(flags.get('out')))
      : mode === 'full'
        ? join(ROOT, 'bench', 'results')
        : mkdtempSync(join(tmpdir(), `reembed-bench-${mode}-`));
  return {
    mode,
    only,
    skip: list('skip') ?? [],
    runs,
    out,
    docs: flags.has('docs') || (mode === 'full' && !flags.has('no-docs') && !flags.has('out')),
    list: flags.has('list'),
    json: flags.has('json'),
  };
}

function unmet(requirement: Requirement): string | null {
  if (requirement === 'pg')
    return process.env.REEMBED_PG_URL
      ? null
      : 'REEMBED_PG_URL is not set (scripts/provision-postgres.sh prints one)';
  if (requirement === 'datasets')
    return haveDatasets() ? null : 'the datasets (../shared/datasets or REEMBED_DATASETS) are absent';
  const peer = process.env.REEMBED_PEER_DIR ?? '/tmp/peer-langchain';
  return existsSync(join(peer, 'node_modules'))
    ? null
    : `the LangChain peer is not installed at ${peer} (see bench/peer-langchain.ts; REEMBED_PEER_DIR)`;
}

export interface Aggregate {
  readonly name: string;
  readonly unit: string;
  readonly better: Metric['better'];
  readonly goal: string | null;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: number;
}

export interface BenchSummary {
  readonly id: string;
  readonly title: string;
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly reason: string | null;
  readonly mode: Mode;
  readonly command: string;
  readonly processes: number;
  readonly seconds: number;
  readonly at: string;
  readonly loadAverage: readonly number[];
  readonly figures: readonly Aggregate[];
  readonly problems: readonly string[];
}

function aggregate(perRun: readonly Metric[][]): Aggregate[] {
  const byName = new Map<string, { metric: Metric; values: number[] }>();
  for (const metrics of perRun) {
    for (const m of metrics) {
      const entry = byName.get(m.name) ?? { metric: m, values: [] };
      entry.values.push(...m.values.filter((v) => Number.isFinite(v)));
      byName.set(m.name, entry);
    }
  }
  return [...byName.values()].map(({ metric, values }) => ({
    name: metric.name,
    unit: metric.unit,
    better: metric.better,
    goal: metric.goal ?? null,
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
    samples: values.length,
  }));
}

/** Runs one process of a benchmark; resolves with its exit status, its results and the tail of its stderr. */
function runProcess(
  def: BenchDefinition,
  args: readonly string[],
  resultsDir: string,
  timeoutSeconds: number,
  echo: boolean,
): Promise<{
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  results: Record<string, Json>;
  stderr: string;
}> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', def.script, ...args], {
      cwd: ROOT,
      env: { ...process.env, REEMBED_BENCH_RESULTS: resultsDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr = (stderr + text).slice(-20_000);
      if (!echo) return;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) process.stderr.write(`  [${def.id}] ${line}\n`);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const results: Record<string, Json> = {};
      if (existsSync(resultsDir)) {
        for (const file of readdirSync(resultsDir)
          .filter((f) => f.endsWith('.json'))
          .sort()) {
          try {
            results[file.slice(0, -5)] = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
          } catch {
            // A result file that is not JSON counts as missing.
          }
        }
      }
      resolveRun({ code, signal, timedOut, results, stderr });
    });
  });
}

async function runBenchmark(
  def: BenchDefinition,
  options: Options,
  jsonl: string,
  context: Json,
): Promise<BenchSummary> {
  const args = def.args[options.mode];
  const command = `node --import tsx ${def.script}${args.length ? ` ${args.join(' ')}` : ''}`;
  const base = { id: def.id, title: def.title, mode: options.mode, command, at: new Date().toISOString() };
  const reason =
    def.skip?.[options.mode] ?? (def.requires ?? []).map(unmet).find((r): r is string => r !== null) ?? null;
  if (reason) {
    process.stderr.write(`- ${def.id}: skipped (${reason})\n`);
    return {
      ...base,
      status: 'skipped',
      reason,
      processes: 0,
      seconds: 0,
      loadAverage: loadavg(),
      figures: [],
      problems: [],
    };
  }
  const processes = options.runs ?? def.runs[options.mode];
  process.stderr.write(`- ${def.id}: ${processes} x ${command}\n`);
  const started = performance.now();
  const loadAverage = loadavg();
  const perRun: Metric[][] = [];
  const problems: string[] = [];
  for (let run = 0; run < processes; run++) {
    const dir = mkdtempSync(join(tmpdir(), `reembed-bench-${def.id}-`));
    const t = performance.now();
    try {
      const r = await runProcess(def, args, dir, def.timeout[options.mode], !options.json);
      const failed =
        r.timedOut || r.code !== 0
          ? `run ${run + 1}: ${r.timedOut ? `timed out after ${def.timeout[options.mode]} s` : `exited with ${r.code ?? r.signal}`}`
          : Object.keys(r.results).length === 0
            ? /skipped/i.test(r.stderr)
              ? null
              : `run ${run + 1}: wrote no result`
            : null;
      let metrics: Metric[] = [];
      const runProblems: string[] = failed
        ? [failed, `stderr (tail):\n${r.stderr.trim().split('\n').slice(-25).join('\n')}`]
        : [];
      if (!failed && Object.keys(r.results).length > 0) {
        try {
          metrics = def.metrics(r.results);
          runProblems.push(...def.check(r.results).map((p) => `run ${run + 1}: ${p}`));
        } catch (error) {
          runProblems.push(
            `run ${run + 1}: its result does not have the expected figures (${(error as Error).message})`,
          );
        }
      }
      if (!failed && Object.keys(r.results).length === 0) {
        process.stderr.write(`- ${def.id}: skipped by the benchmark itself\n`);
        return {
          ...base,
          status: 'skipped',
          reason:
            r.stderr
              .trim()
              .split('\n')
              .find((l) => /skipped/i.test(l)) ?? 'skipped',
          processes: run,
          seconds: 0,
          loadAverage,
          figures: [],
          problems: [],
        };
      }
      perRun.push(metrics);
      problems.push(...runProblems);
      // The latest result of each name also stays beside the summary (bench/results/<name>.json in full mode).
      for (const [name, result] of Object.entries(r.results))
        writeFileSync(join(options.out, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
      appendFileSync(
        jsonl,
        `${JSON.stringify({
          benchmark: def.id,
          mode: options.mode,
          run: run + 1,
          of: processes,
          at: new Date().toISOString(),
          seconds: (performance.now() - t) / 1000,
          loadAverage: loadavg(),
          command,
          ...context,
          ok: runProblems.length === 0,
          problems: runProblems,
          metrics,
          results: r.results,
        })}\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const figures = aggregate(perRun);
  const status = problems.length ? 'failed' : 'ok';
  process.stderr.write(`- ${def.id}: ${status} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  if (problems.length)
    process.stderr.write(`${problems.map((p) => `    ${p.replaceAll('\n', '\n    ')}`).join('\n')}\n`);
  return {
    ...base,
    status,
    reason: null,
    processes,
    seconds: (performance.now() - started) / 1000,
    loadAverage,
    figures,
    problems,
  };
}

function formatFigure(a: Aggregate): string {
  const f = (x: number) =>
    Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3);
  return `${a.name}: ${f(a.median)}${a.unit ? ` ${a.unit}` : ''} (${f(a.min)}–${f(a.max)}, ${a.samples})`;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options.list) {
    for (const b of BENCHMARKS)
      console.log(
        `${b.id.padEnd(18)} ${b.title}${b.requires?.length ? ` [needs ${b.requires.join(', ')}]` : ''}`,
      );
    return 0;
  }
  const selected = BENCHMARKS.filter((b) => (options.only ? options.only.includes(b.id) : true)).filter(
    (b) => !options.skip.includes(b.id),
  );
  mkdirSync(options.out, { recursive: true });
  const jsonl = join(options.out, 'runs.jsonl');
  const context = { machine: machineDetails(), versions: await versions() };
  process.stderr.write(
    `npm run bench (${options.mode}): ${selected.length} benchmarks, results in ${relative(process.cwd(), options.out) || '.'}\n` +
      `machine: ${context.machine.cpu}, ${context.machine.memory}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}\n`,
  );
  const started = performance.now();
  const summaries: BenchSummary[] = [];
  for (const def of selected) summaries.push(await runBenchmark(def, options, jsonl, context));

  const summaryPath = join(options.out, 'summary.json');
  const previous = existsSync(summaryPath)
    ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as Json)
    : { benchmarks: {} };
  const merged = { ...previous.benchmarks };
  for (const s of summaries) if (s.status !== 'skipped' || !merged[s.id]) merged[s.id] = { ...s, ...context };
  writeFileSync(
    summaryPath,
    `${JSON.stringify({ updated: new Date().toISOString(), benchmarks: merged }, null, 1)}\n`,
  );
  if (options.docs) {
    const path = join(ROOT, 'BENCHMARKS.md');
    writeFileSync(
      path,
      renderBenchmarks(readFileSync(path, 'utf8'), Object.values(merged) as BenchSummary[]),
    );
    process.stderr.write('regenerated the tables of BENCHMARKS.md\n');
  }

  const failed = summaries.filter((s) => s.status === 'failed');
  process.stderr.write(`\n${'='.repeat(72)}\n`);
  for (const s of summaries) {
    process.stderr.write(
      `${s.status === 'ok' ? 'ok     ' : s.status === 'failed' ? 'FAILED ' : 'skipped'} ${s.id}${s.reason ? ` (${s.reason})` : ''}\n`,
    );
    for (const a of s.figures) process.stderr.write(`          ${formatFigure(a)}\n`);
  }
  process.stderr.write(
    `${summaries.length - failed.length} of ${summaries.length} benchmarks ok or skipped, ${failed.length} failed, ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s; JSON lines in ${jsonl}\n`,
  );
  if (options.json)
    console.log(JSON.stringify({ mode: options.mode, out: options.out, benchmarks: summaries }, null, 1));
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  return 2;
});
