/**
 * Side-by-side benchmark: reembed vs its named peer, LangChain.js `index()` + RecordManager
 * (../shared/peers/langchain-index), on the identical corpus and mutation plan, in one run.
 *
 * Every run of every setup starts two kinds of process, in rotating order: the peer's own `bench.mjs`
 * (one `--stores=` value at a time, so its peak RSS is isolated, as its README advises) and this file in
 * `--child=reembed` mode (peer-reembed.ts). Both print one JSON line per phase; medians over `--runs` go
 * into bench/results/peer.md.
 *
 * Setups: `memory` = peer MemoryVectorStore + InMemoryRecordManager vs reembed's embedded SQLite;
 * `lancedb` = peer LanceDB + SQLiteRecordManager vs reembed's SQLite catalog + LanceDB vectors.
 * Parts: `base` (N=--n, no embed latency) and `latency` (N=--latencyN, --latency ms per batch of 128;
 * reembed's model upgrade at the default backfill concurrency and at --concurrency8).
 *
 * The peer needs its own install outside the repo, e.g.:
 *   cp -r ../shared/peers/langchain-index /tmp/peer-langchain && chmod -R u+w /tmp/peer-langchain
 *   (cd /tmp/peer-langchain && npm ci)   # or `npm install` if npm ci refuses the lock file
 * Run: npx tsx bench/peer-langchain.ts [--peer=/tmp/peer-langchain --n=20000 --latencyN=5000 --runs=3
 *      --setups=memory,lancedb --parts=base,latency --out=bench/results/peer.md]
 * Re-render the report of a finished run (its scratch dir is printed): --render=/tmp/peer-bench-XXXX
 * Side by side with another checkout's reembed (its own bench/peer-langchain.ts, run from its directory,
 * which needs node_modules): --baseline=/path/to/main [--variants=default,baseline]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, report, resultsDir } from './lib.js';
import { runJsonLines } from './peer-child.js';
import { type PartResult, peerMarkdown } from './peer-markdown.js';
import { runReembedPhases } from './peer-reembed.js';
import { rowsOf, type Sample } from './peer-report.js';

const args = benchArgs({
  child: '',
  render: '',
  setup: 'sqlite',
  n: 20_000,
  latencyN: 5_000,
  latency: 50,
  concurrency: 'default',
  backfillBatch: 'default',
  concurrency8: 8,
  batchDiag: 1024,
  ingestChunk: 2048,
  queries: 5,
  seed: 42,
  runs: 3,
  peer: '/tmp/peer-langchain',
  setups: 'memory,lancedb',
  parts: 'base,latency',
  out: '',
  /** Another checkout (e.g. main's) whose reembed runs as the `baseline` variant, side by side in each round. */
  baseline: '',
  /** Reembed variants per part, comma-separated (default: `default,batch1024` base, `default,c8` latency). */
  variants: '',
});
/** Default: bench/results/peer.md, or beside the runner's results (bench/run.ts) so quick runs keep it. */
const out = String(args.out) || join(resultsDir(), 'peer.md');

const SELF = fileURLToPath(import.meta.url);
const REEMBED_SETUP: Record<string, 'sqlite' | 'lancedb'> = { memory: 'sqlite', lancedb: 'lancedb' };

async function child(): Promise<void> {
  const concurrency = String(args.concurrency);
  await runReembedPhases({
    setup: String(args.setup) === 'lancedb' ? 'lancedb' : 'sqlite',
    n: Number(args.n),
    latencyMs: Number(args.latency),
    ...(concurrency === 'default' ? {} : { concurrency: Number(concurrency) }),
    ...(String(args.backfillBatch) === 'default' ? {} : { backfillBatch: Number(args.backfillBatch) }),
    ingestChunk: Number(args.ingestChunk),
    queries: Number(args.queries),
    seed: Number(args.seed),
    emit: (line) => console.log(JSON.stringify(line)),
  });
}

/** Child flags of a reembed variant: `default`, `c8` (backfill concurrency 8), `batch1024` (backfill batch). */
function variantArgs(variant: string): string[] {
  const m = /^(c|batch)(\d+)$/.exec(variant);
  if (!m) return ['--concurrency=default'];
  return m[1] === 'c' ? [`--concurrency=${m[2]}`] : [`--backfillBatch=${m[2]}`];
}

interface Job {
  readonly side: 'peer' | 'reembed';
  readonly variant: string;
  readonly command: string;
  readonly args: string[];
  readonly cwd: string;
}

function jobsFor(
  setup: string,
  n: number,
  latency: number,
  variants: readonly string[],
  scratch: string,
): Job[] {
  const peer: Job = {
    side: 'peer',
    variant: '-',
    command: process.execPath,
    args: [
      'bench.mjs',
      `--n=${n}`,
      `--stores=${setup}`,
      `--embed-latency-ms=${latency}`,
      `--out=${join(scratch, 'peer-results.jsonl')}`,
    ],
    cwd: resolve(String(args.peer)),
  };
  const baseline = resolve(String(args.baseline) || '.');
  const ours = variants.map(
    (v): Job => ({
      side: 'reembed',
      variant: v,
      command: process.execPath,
      args: [
        ...process.execArgv,
        v === 'baseline' ? join(baseline, 'bench', 'peer-langchain.ts') : SELF,
        '--child=reembed',
        `--setup=${REEMBED_SETUP[setup]}`,
        `--n=${n}`,
        `--latency=${latency}`,
        ...variantArgs(v),
        `--ingestChunk=${args.ingestChunk}`,
        `--queries=${args.queries}`,
        `--seed=${args.seed}`,
      ],
      cwd: v === 'baseline' ? baseline : process.cwd(),
    }),
  );
  return [peer, ...ours];
}

/**
 * Runs a job, retrying (up to twice, 15 s apart) a process that produced no phase at all — e.g. when a
 * file of the shared checkout was mid-edit and failed to compile. A run that failed halfway is kept.
 */
async function runWithRetry(job: Job, logFile: string) {
  for (let attempt = 1; ; attempt++) {
    const r = await runJsonLines(job.command, job.args, { cwd: job.cwd, logFile });
    if (r.code === 0 || r.lines.length > 0 || attempt === 3) return r;
    console.error(
      `[peer-bench] ${job.side}[${job.variant}] exited ${r.code} with no output; retrying:\n${r.stderr.slice(-600)}`,
    );
    await new Promise((res) => setTimeout(res, 15_000));
  }
}

function summary(lines: readonly Record<string, unknown>[]): string {
  return lines
    .map(
      (l) =>
        `${l.phase} ${Math.round(Number(l.ms))}ms${(l.verify as { ok?: boolean })?.ok ? '' : ' (verify failed)'}`,
    )
    .join(', ');
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'peer-bench-'));
  const logFile = join(scratch, 'stderr.log');
  const setups = String(args.setups)
    .split(',')
    .filter((s) => s in REEMBED_SETUP);
  const parts = String(args.parts).split(',');
  const runs = Number(args.runs);
  const samples: Sample[] = [];
  const results: PartResult[] = [];
  let peerVersions: Record<string, unknown> = {};
  console.error(`[peer-bench] raw lines and child stderr in ${scratch}`);
  for (const part of parts) {
    const latency = part === 'latency' ? Number(args.latency) : 0;
    const n = part === 'latency' ? Number(args.latencyN) : Number(args.n);
    // Base: the library defaults, plus a diagnostic larger backfill batch (fewer store commits).
    // Latency: the default backfill concurrency and a higher one.
    const variants = String(args.variants)
      ? String(args.variants).split(',')
      : part === 'latency'
        ? ['default', `c${args.concurrency8}`]
        : ['default', `batch${args.batchDiag}`];
    if (variants.includes('baseline') && !String(args.baseline))
      throw new Error('--variants=…,baseline needs --baseline=<checkout>');
    const failures: string[] = [];
    for (let run = 0; run < runs; run++) {
      for (const setup of setups) {
        const jobs = jobsFor(setup, n, latency, variants, scratch);
        const order = jobs.map((_, i) => jobs[(i + run) % jobs.length] as Job); // rotate who goes first
        for (const job of order) {
          const r = await runWithRetry(job, logFile);
          const m = /versions (\{.*\})/.exec(r.stderr);
          if (job.side === 'peer' && m?.[1]) peerVersions = JSON.parse(m[1]) as Record<string, unknown>;
          const phases = r.lines.filter((l) => typeof l.phase === 'string' && l.phase !== 'setup');
          if (r.code !== 0 || phases.length < 4) {
            failures.push(
              `${part} run ${run + 1} ${setup} ${job.side}[${job.variant}]: exit ${r.code}, ${phases.length} phases`,
            );
            console.error(`[peer-bench] FAILED ${failures.at(-1)}\n${r.stderr.slice(-2000)}`);
          }
          for (const line of phases)
            samples.push({ part, setup, side: job.side, variant: job.variant, run, line });
          writeFileSync(join(scratch, 'samples.json'), JSON.stringify(samples));
          console.error(
            `[peer-bench] ${part} n=${n} run ${run + 1}/${runs} ${setup} ${job.side}${job.side === 'reembed' ? `[${job.variant}]` : ''}: ${summary(phases)}`,
          );
        }
      }
    }
    results.push({ part, n, latency, variants, setups, failures });
  }
  const run: SavedRun = { samples, results, peerVersions, runs, argv: process.argv.slice(2) };
  writeFileSync(join(scratch, 'run.json'), JSON.stringify(run));
  write(run, scratch);
}

interface SavedRun {
  readonly samples: Sample[];
  readonly results: PartResult[];
  readonly peerVersions: Record<string, unknown>;
  readonly runs: number;
  readonly argv: string[];
}

function write(run: SavedRun, scratch: string): void {
  const md = peerMarkdown({ ...run, scratch });
  console.log(md);
  if (out !== 'none') {
    writeFileSync(resolve(out), md);
    console.error(`[peer-bench] wrote ${resolve(out)}`);
  }
  report('peer', { peerVersions: run.peerVersions, runs: run.runs, argv: run.argv, parts: figures(run) });
}

/**
 * Per part, setup and phase: the milliseconds of each run on both sides, and the per-run ratio reembed
 * docs/s ÷ peer docs/s (run i of reembed against run i of the peer: both ran in the same round).
 */
function figures(run: SavedRun): Record<string, unknown>[] {
  return run.results.flatMap((r) =>
    r.setups.map((setup) => ({
      part: r.part,
      n: r.n,
      latency: r.latency,
      setup,
      failures: r.failures,
      rows: rowsOf(run.samples, r.part, setup, r.variants).map((row) => {
        const peer = row.peer?.ms ?? [];
        const ours = row.reembed?.ms ?? [];
        const docsPeer = row.peer?.docs ?? Number.NaN;
        const docsOurs = row.reembed?.docs ?? Number.NaN;
        const ratios =
          ours.length && peer.length
            ? ours.map((ms, i) => docsOurs / ms / (docsPeer / (peer[i] ?? (peer[0] as number))))
            : [];
        return {
          phase: row.phase,
          peerMs: peer,
          reembedMs: ours,
          ratios,
          peerOk: row.peer ? row.peer.ok.every(Boolean) : null,
          reembedOk: row.reembed ? row.reembed.ok.every(Boolean) : null,
        };
      }),
    })),
  );
}

/** `--render=DIR`: rewrites the report from a finished run's `run.json`, without running anything. */
function render(dir: string): void {
  write(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as SavedRun, dir);
}

if (String(args.child) === 'reembed') await child();
else if (String(args.render) !== '') render(resolve(String(args.render)));
else await main();
