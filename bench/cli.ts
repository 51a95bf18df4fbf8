/**
 * Issue 13, "Speed": wall time of every CLI command that is not long-running by nature (backfill, ingest,
 * eval, demo are), on a collection of 5,000 documents, run as users run it (`node bin/reembed.js`, the
 * compiled CLI, a fresh process each time). Goal: each within 1.5 s. Also the floor every command pays:
 * `node -e 0`, `import('reembed')` (the library entry) and `reembed --help`.
 *
 * The collection is the seeded synthetic corpus (5,000 documents, 150 judged queries, written out in
 * BEIR layout) served by a 256-d hashing space, with a shadow migration to a 256-d LSA space backfilled
 * and shadowing (once with the default gates, once with a golden-set gate, whose every check evaluates
 * the judged queries on both namespaces — an evaluation inside the command, shown separately). Commands that change state run on a fresh copy of that database each time (the copy is
 * not timed). Medians over `--runs` (default 7) interleaved rounds: each round runs every command once,
 * so a burst of load on a shared machine spreads over all of them.
 *
 * Run: npx tsx bench/cli.ts [--runs=7 --docs=5000 --baseline=../main]   (builds dist/ first when stale)
 * `--baseline=DIR` also runs another checkout's built CLI (e.g. the main branch), alternating with this
 * one command by command, for a side-by-side comparison on the same data.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticCorpus } from '../src/corpus/synthetic.js';
import { benchArgs, fmt, load, median, report } from './lib.js';

const args = benchArgs({ runs: 7, docs: 5_000, queries: 150, baseline: '' });
const runs = Number(args.runs);
const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'reembed.js');
/** Another checkout with a built dist/ (e.g. the main branch), run alternately for a side-by-side ratio. */
const BASELINE = args.baseline ? join(String(args.baseline), 'bin', 'reembed.js') : null;
const GOAL_MS = 1_500;

await load('index'); // builds dist/ when a source is newer
const dir = mkdtempSync(join(tmpdir(), 'reembed-bench-cli-'));
const work = join(dir, 'work');
mkdirSync(work);
const base = join(dir, 'base.db');
const migrating = join(dir, 'migrating.db');
const gated = join(dir, 'gated.db');
const dataset = join(dir, 'corpus');

function run(
  argv: readonly string[],
  db: string | null = null,
  bin = BIN,
): { ms: number; code: number | null; out: string } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [bin, ...(db ? ['--db', db] : []), ...argv], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, REEMBED_PG_URL: '', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ms: performance.now() - started, code: r.status, out: `${r.stdout}${r.stderr}` };
}

function must(argv: readonly string[], db: string): void {
  const r = run(argv, db);
  if (r.code !== 0) throw new Error(`reembed ${argv.join(' ')} exited ${r.code}:\n${r.out}`);
}

// The collection: the synthetic corpus in BEIR layout (so golden sets and LSA fits read it like a user's).
const corpus = syntheticCorpus({ seed: 7, docs: Number(args.docs), queries: Number(args.queries) });
mkdirSync(dataset);
writeFileSync(
  join(dataset, 'corpus.jsonl'),
  corpus.docs.map((d) => JSON.stringify({ _id: d.id, title: '', text: d.text })).join('\n'),
);
writeFileSync(
  join(dataset, 'queries.jsonl'),
  corpus.queries.map((q) => JSON.stringify({ _id: q.id, text: q.text })).join('\n'),
);
writeFileSync(
  join(dataset, 'qrels.tsv'),
  [
    'query-id\tcorpus-id\tscore',
    ...Object.entries(corpus.qrels).flatMap(([q, judged]) =>
      Object.entries(judged).map(([d, grade]) => `${q}\t${d}\t${grade}`),
    ),
  ].join('\n'),
);

console.error(`bench: setting up ${corpus.docs.length} documents in ${dir}`);
must(['init'], base);
must(['space', 'add', 'hashing-v1', '--provider', 'hashing', '--dimension', '256', '--seed', '1'], base);
must(['space', 'add', 'lsa-v2', '--provider', 'lsa', '--dimension', '256', '--fit-on', dataset], base);
must(['space', 'add', 'hashing-v3', '--provider', 'hashing', '--dimension', '256', '--seed', '3'], base);
must(['collection', 'create', 'docs', '--space', 'hashing-v1'], base);
must(['ingest', 'docs', dataset], base);
must(['eval', 'docs', '--golden', dataset, '--save-as', 'bench-golden'], base);
for (let i = 0; i < 20; i++) must(['search', 'docs', corpus.queries[i]?.text ?? 'query', '-k', '10'], base);
// Two shadow migrations to LSA, backfilled and shadowing: one with the default gates, one with a golden
// set gate (`ndcg@10 >= old - 0.01`: each gate check evaluates the judged queries on both namespaces).
for (const [db, golden] of [
  [migrating, []],
  [gated, ['--golden', 'bench-golden']],
] as const) {
  copyFileSync(base, db);
  must(['migrate', 'start', 'docs', '--to', 'lsa-v2', '--strategy', 'shadow', ...golden], db);
  must(['backfill', 'run', 'docs'], db);
  must(['migrate', 'step', 'docs'], db); // backfilling → validating
  must(['migrate', 'step', 'docs'], db); // validating → shadowing
  for (let i = 0; i < 25; i++) must(['search', 'docs', corpus.queries[i]?.text ?? 'query', '-k', '10'], db);
}

interface Case {
  readonly name: string;
  readonly argv: readonly string[];
  /** The database the command runs on; `fresh` copies it first (the command changes it). */
  readonly db: 'none' | 'base' | 'migrating' | 'gated' | 'empty';
  readonly fresh?: boolean;
  /** Exit codes that are the command's expected answer (e.g. 10: worker on SQLite). */
  readonly codes?: readonly number[];
}

const query = corpus.queries[0]?.text ?? 'query';
const CASES: readonly Case[] = [
  { name: 'reembed --help', argv: ['--help'], db: 'none' },
  { name: 'reembed migrate --help', argv: ['migrate', '--help'], db: 'none' },
  { name: 'init', argv: ['init'], db: 'empty', fresh: true },
  { name: 'space list', argv: ['space', 'list'], db: 'base' },
  {
    name: 'space add (hashing)',
    argv: ['space', 'add', 'hashing-v9', '--provider', 'hashing', '--dimension', '384'],
    db: 'base',
    fresh: true,
  },
  { name: 'collection list', argv: ['collection', 'list'], db: 'base' },
  {
    name: 'collection create',
    argv: ['collection', 'create', 'other', '--space', 'hashing-v1'],
    db: 'base',
    fresh: true,
  },
  { name: 'search (text, k=10)', argv: ['search', 'docs', query, '-k', '10'], db: 'base' },
  { name: 'search --json (k=100)', argv: ['--json', 'search', 'docs', query, '-k', '100'], db: 'base' },
  { name: 'search during shadow', argv: ['search', 'docs', query, '-k', '10'], db: 'migrating' },
  { name: 'delete (2 ids)', argv: ['delete', 'docs', 'd00001', 'd00002'], db: 'base', fresh: true },
  { name: 'status', argv: ['status'], db: 'migrating' },
  { name: 'status docs --json', argv: ['--json', 'status', 'docs'], db: 'migrating' },
  { name: 'monitor', argv: ['monitor'], db: 'migrating', codes: [0, 11] },
  { name: 'plan (DDL)', argv: ['plan', 'docs', '--space', 'lsa-v2', '--dry-run'], db: 'base' },
  {
    name: 'migrate plan',
    argv: ['migrate', 'plan', 'docs', '--to', 'hashing-v3', '--strategy', 'blue-green'],
    db: 'base',
  },
  {
    name: 'migrate start',
    argv: ['migrate', 'start', 'docs', '--to', 'hashing-v3', '--strategy', 'blue-green'],
    db: 'base',
    fresh: true,
  },
  { name: 'migrate status', argv: ['migrate', 'status', 'docs'], db: 'migrating' },
  { name: 'migrate step (shadowing)', argv: ['migrate', 'step', 'docs'], db: 'migrating', fresh: true },
  {
    name: 'migrate cutover --force',
    argv: ['migrate', 'cutover', 'docs', '--force', '--reason', 'bench'],
    db: 'migrating',
    fresh: true,
  },
  { name: 'migrate rollback', argv: ['migrate', 'rollback', 'docs'], db: 'migrating', fresh: true },
  {
    name: 'migrate step, golden gate (150 queries)',
    argv: ['migrate', 'step', 'docs'],
    db: 'gated',
    fresh: true,
  },
  {
    name: 'migrate cutover, golden gate',
    argv: ['migrate', 'cutover', 'docs', '--force', '--reason', 'bench'],
    db: 'gated',
    fresh: true,
  },
  { name: 'retire run --dry-run', argv: ['retire', 'run', '--dry-run'], db: 'migrating' },
  { name: 'report (HTML)', argv: ['report', '--out', 'report.html'], db: 'migrating' },
  {
    name: 'report (HTML + PNG charts)',
    argv: ['report', '--out', 'report.html', '--png', 'charts'],
    db: 'migrating',
  },
  { name: 'worker status (SQLite: refused)', argv: ['worker', 'status'], db: 'base', codes: [10] },
];

const times = new Map<string, number[]>(CASES.map((c) => [c.name, []]));
const baselineTimes = new Map<string, number[]>(CASES.map((c) => [c.name, []]));
const floor = { node: [] as number[], importReembed: [] as number[] };
const importScript = `const t = performance.now(); await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))}); console.log(performance.now() - t);`;

for (let round = 0; round < runs; round++) {
  const started = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  floor.node.push(performance.now() - started);
  const imported = spawnSync(process.execPath, ['--input-type=module', '-e', importScript], {
    encoding: 'utf8',
  });
  floor.importReembed.push(Number(imported.stdout.trim()));
  for (const c of CASES) {
    // With a baseline, the two builds take turns going first.
    const bins = BASELINE ? (round % 2 === 0 ? [BIN, BASELINE] : [BASELINE, BIN]) : [BIN];
    for (const bin of bins) {
      const dbs = { none: null, base, migrating, gated, empty: join(dir, 'empty.db') };
      let db: string | null = dbs[c.db];
      if (c.fresh && db) {
        const copy = join(dir, 'fresh.db');
        rmSync(copy, { force: true });
        if (c.db !== 'empty') copyFileSync(db, copy);
        db = copy;
      }
      const r = run(c.argv, db, bin);
      if (!(c.codes ?? [0]).includes(r.code ?? -1))
        throw new Error(`${c.name} (${bin}): exit ${r.code}\n${r.out}`);
      (bin === BIN ? times : baselineTimes).get(c.name)?.push(r.ms);
    }
  }
  console.error(`bench: round ${round + 1}/${runs}`);
}

const rows = CASES.map((c) => {
  const ms = times.get(c.name) ?? [];
  const base = baselineTimes.get(c.name) ?? [];
  return {
    command: c.name,
    medianMs: Math.round(median(ms)),
    minMs: Math.round(Math.min(...ms)),
    ...(BASELINE ? { baselineMedianMs: Math.round(median(base)) } : {}),
  };
});
const slowest = rows.reduce((a, b) => (b.medianMs > a.medianMs ? b : a));
console.log(
  `\n${'command'.padEnd(42)} ${'median'.padStart(8)} ${'min'.padStart(8)}${BASELINE ? ' baseline'.padStart(10) : ''}`,
);
for (const r of rows)
  console.log(
    `${r.command.padEnd(42)} ${`${r.medianMs} ms`.padStart(8)} ${`${r.minMs} ms`.padStart(8)}${
      r.baselineMedianMs !== undefined ? `${r.baselineMedianMs} ms`.padStart(10) : ''
    }`,
  );
console.log(
  `\nfloor: node -e 0 ${fmt(median(floor.node), 0)} ms; import('reembed') ${fmt(median(floor.importReembed), 0)} ms (inside the process)`,
);
console.log(`slowest: ${slowest.command} ${slowest.medianMs} ms (goal ≤ ${GOAL_MS} ms)`);
report('cli', {
  runs,
  baseline: BASELINE,
  documents: corpus.docs.length,
  goalMs: GOAL_MS,
  floor: {
    nodeMedianMs: Math.round(median(floor.node)),
    importReembedMedianMs: Math.round(median(floor.importReembed)),
  },
  commands: rows,
  allWithinGoal: rows.every((r) => r.medianMs <= GOAL_MS),
});
rmSync(dir, { recursive: true, force: true });
