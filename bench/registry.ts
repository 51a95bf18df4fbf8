/**
 * Every benchmark under bench/ and how `npm run bench` (bench/run.ts) runs it: the script, its arguments in
 * each mode, how many processes to run, what it needs, the figures to read from the JSON it reports
 * (`report()` in lib.ts) and the checks that tell a broken benchmark from a slow machine.
 *
 * The contract a benchmark script keeps: it takes `--name=value` arguments, exits 0 when it worked (0 with a
 * "skipped" line on stderr when something it needs is absent), and reports its results with `report(name,
 * json)`, which writes `<name>.json` to `REEMBED_BENCH_RESULTS` when the runner sets it (else bench/results/).
 * To add a benchmark: write the script, then one entry here.
 */

/** A figure read from a result: one value per process, or several (a benchmark's own repeated runs). */
export interface Metric {
  readonly name: string;
  readonly unit: string;
  readonly values: readonly number[];
  /** Which way is better, for readers of the table. */
  readonly better: 'higher' | 'lower' | 'none';
  readonly goal?: string;
}

export type Mode = 'full' | 'quick' | 'smoke';
export type Requirement = 'pg' | 'datasets' | 'peer';

export interface BenchDefinition {
  readonly id: string;
  readonly title: string;
  readonly script: string;
  readonly args: Readonly<Record<Mode, readonly string[]>>;
  /** Processes per mode (figures are aggregated over every value of every process). */
  readonly runs: Readonly<Record<Mode, number>>;
  readonly requires?: readonly Requirement[];
  /** Excluded from these modes (too long, or it changes the machine), with the reason shown. */
  readonly skip?: Partial<Record<Mode, string>>;
  /** Seconds before a process is killed and the benchmark failed. */
  readonly timeout: Readonly<Record<Mode, number>>;
  /** Figures from the results a run wrote, by name (`report(name, …)`). */
  metrics(results: Readonly<Record<string, Json>>): Metric[];
  /** Problems that mean the benchmark is broken (wrong, empty, not finite) — never "too slow". */
  check(results: Readonly<Record<string, Json>>): string[];
}

// biome-ignore lint/suspicious/noExplicitAny: results are JSON read back from files.
export type Json = any;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const nums = (v: unknown): number[] => (Array.isArray(v) ? v.map(num) : [num(v)]);
const finite = (label: string, ...values: unknown[]): string[] =>
  values.flatMap(nums).every((v) => Number.isFinite(v)) ? [] : [`${label} is not a finite number`];
/** A figure that exists: finite and above zero (a rate or a ratio of times; never "fast enough"). */
const positive = (label: string, ...values: unknown[]): string[] =>
  values.flatMap(nums).every((v) => Number.isFinite(v) && v > 0)
    ? []
    : [`${label} is not a finite number above 0`];
const atLeast = (label: string, value: unknown, min: number): string[] =>
  Number.isFinite(num(value)) && num(value) >= min
    ? []
    : [`${label} is ${String(value)}, expected >= ${min}`];

const metric = (
  name: string,
  unit: string,
  values: unknown,
  better: Metric['better'],
  goal?: string,
): Metric => ({ name, unit, values: nums(values), better, ...(goal ? { goal } : {}) });

const ann = (id: string, n: number, title: string): BenchDefinition => ({
  id,
  title,
  script: 'bench/ann.ts',
  args: {
    full: [
      `--n=${n}`,
      '--rounds=5',
      '--efSweep=64,128',
      ...(n >= 1_000_000 ? ['--exactQueries=10', '--filterQueries=20'] : []),
    ],
    quick: ['--n=10000', '--rounds=1', '--exactQueries=20', '--filterQueries=10'],
    smoke: [
      '--n=2000',
      '--rounds=1',
      '--exactQueries=5',
      '--filterQueries=3',
      '--chunk=1000',
      '--dimension=64',
    ],
  },
  runs: { full: 1, quick: 1, smoke: 1 },
  requires: ['datasets'],
  ...(n >= 1_000_000 ? { skip: { quick: 'covered by ann-100k', smoke: 'covered by ann-100k' } } : {}),
  timeout: { full: n >= 1_000_000 ? 3 * 3600 : 1800, quick: 240, smoke: 120 },
  metrics: (r) => {
    const x = first(r);
    return [
      metric(
        'ANN recall@10 vs exact',
        '',
        x.ann.recallRounds,
        'higher',
        n >= 1_000_000 ? '>= 0.95' : undefined,
      ),
      metric('ANN p50', 'ms', x.ann.roundsP50, 'lower', n >= 1_000_000 ? '<= 5 ms' : undefined),
      metric('ANN p99', 'ms', x.ann.roundsP99, 'lower'),
      ...((x.efSweep ?? []) as Json[]).flatMap((e) => [
        metric(`ef ${e.expansionSearch}: recall@10`, '', e.recallAt10, 'higher'),
        metric(`ef ${e.expansionSearch}: p50`, 'ms', e.roundsP50, 'lower'),
      ]),
      metric('filtered 1% recall@10', '', x.filtered['1%'].recallAt10, 'higher'),
      metric('filtered 1% p50', 'ms', x.filtered['1%'].roundsP50 ?? x.filtered['1%'].p50Ms, 'lower'),
      metric('filtered 10% p50', 'ms', x.filtered['10%'].roundsP50 ?? x.filtered['10%'].p50Ms, 'lower'),
      metric('filtered 50% p50', 'ms', x.filtered['50%'].roundsP50 ?? x.filtered['50%'].p50Ms, 'lower'),
      metric('filtered 1% exact p50', 'ms', x.filtered['1%'].exactP50Ms, 'lower'),
      metric(`exact p50 (${x.exact.mode})`, 'ms', x.exact.roundsP50 ?? x.exact.p50Ms, 'lower'),
      metric('stream the same bytes', 'ms', x.exact.streamSameBytesMs, 'lower'),
      metric('exact ÷ stream', 'x', x.exact.ratioToStream, 'lower', '<= 2'),
      ...(x.exactInMemory
        ? [
            metric(
              'exact p50 (in-memory float32 copy, unlimited budget)',
              'ms',
              x.exactInMemory.p50Ms,
              'lower',
            ),
            metric('exact in memory ÷ stream', 'x', x.exactInMemory.ratioToStream, 'lower', '<= 2'),
          ]
        : []),
      metric('index build', 's', x.setup.indexBuildSeconds, 'lower'),
      metric('index file', 'MiB', x.setup.indexFileMiB, 'lower'),
      metric(
        'RSS after ANN queries',
        'MiB',
        x.memory.rssAfterAnnQueriesMiB,
        'lower',
        n >= 1_000_000 ? '< 1024' : undefined,
      ),
    ];
  },
  check: (r) => {
    const x = first(r);
    return [
      ...atLeast('ANN recall@10', x.ann.recallAt10, 0.5),
      ...atLeast('exact recall vs truth', x.exact.recallVsTruth, 0.999),
      ...finite('ANN p50', x.ann.p50Ms),
    ];
  },
});

/** The one result of a benchmark that writes one (under whichever of its names it used). */
function first(results: Readonly<Record<string, Json>>): Json {
  const values = Object.values(results);
  if (values.length === 0) throw new Error('no result');
  return values[0];
}

export const BENCHMARKS: readonly BenchDefinition[] = [
  {
    id: 'startup',
    title: "Package shape: reembed --help and import('reembed') cold start, SQLite-only install size",
    script: 'bench/startup.ts',
    args: {
      full: ['--runs=21'],
      // The install needs the npm registry and compiles better-sqlite3 when no prebuilt binary is
      // fetched (over 5 minutes on a loaded 2-core machine): the full run only.
      quick: ['--runs=5', '--install=false'],
      smoke: ['--runs=2', '--install=false'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    // Smoke: a stale dist/ is rebuilt first (npm run build), which takes minutes on a loaded machine.
    timeout: { full: 1800, quick: 1800, smoke: 420 },
    metrics: (r) => {
      const all = r.startup.startup as Json[];
      // The installed package when the run installed it, else this checkout's dist/.
      const s = (name: string): Json =>
        all.find((x) => x.name === `install: ${name}`) ??
        all.find((x) => x.name === `checkout: ${name}`) ??
        all.find((x) => x.name === name);
      return [
        metric('node -e 0 (floor)', 'ms', s('node -e 0').ms, 'lower'),
        metric('reembed --help', 'ms', s('reembed --help').ms, 'lower', '< 150 ms'),
        metric("import('reembed'), process", 'ms', s("import('reembed')").ms, 'lower'),
        metric("import('reembed'), process CPU", 'ms', s("import('reembed')").cpuMs, 'lower'),
        metric("import('reembed'), the import", 'ms', s("import('reembed')").importMs, 'lower', '< 100 ms'),
        ...(r.startup.install
          ? [
              metric(
                'SQLite-only install, node_modules',
                'MB',
                r.startup.install.nodeModulesMB,
                'lower',
                '< 150 MB',
              ),
            ]
          : []),
      ];
    },
    check: (r) => [
      ...positive('startup times', ...(r.startup.startup as Json[]).map((x) => x.medianMs)),
      ...(r.startup.install
        ? [
            ...positive('node_modules size', r.startup.install.nodeModulesMB),
            ...(r.startup.install.helpExit === 0 ? [] : ['reembed --help failed in the installed package']),
            ...(String(r.startup.install.missingPeer).startsWith('DEPENDENCY_MISSING')
              ? []
              : [`reembed/pg without pg gave: ${r.startup.install.missingPeer}`]),
          ]
        : []),
    ],
  },
  {
    id: 'ingest',
    title: 'Ingest + embed (hashing 384-d) into the embedded store, docs/s',
    script: 'bench/ingest.ts',
    args: {
      full: ['--runs=5'],
      quick: ['--n=5000', '--runs=2'],
      smoke: ['--n=500', '--runs=1', '--batch=250'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    timeout: { full: 600, quick: 120, smoke: 60 },
    metrics: (r) => [metric('ingest', 'docs/s', r.ingest.runs, 'higher', '>= 20,000')],
    check: (r) => positive('ingest docs/s', r.ingest.runs),
  },
  {
    id: 'search',
    title: 'Exact search over 100,000 x 384 (hashing vectors), single queries',
    script: 'bench/search.ts',
    args: { full: [], quick: ['--n=20000', '--queries=50'], smoke: ['--n=1000', '--queries=10'] },
    runs: { full: 5, quick: 1, smoke: 1 },
    timeout: { full: 900, quick: 180, smoke: 60 },
    metrics: (r) => [
      metric('store exact p50', 'ms', r.search.store_exact_ms.median, 'lower', '< 40'),
      metric('library end to end p50', 'ms', r.search.library_end_to_end_ms.median, 'lower'),
      metric('plain JS scan p50', 'ms', r.search.plain_js_scan_ms.median, 'lower'),
    ],
    check: (r) => finite('search p50', r.search.store_exact_ms.median, r.search.library_end_to_end_ms.median),
  },
  ann('ann-100k', 100_000, 'ANN (HNSW, int8) in the embedded store, 100,000 x 384 real-structure vectors'),
  ann('ann-1m', 1_000_000, 'ANN (HNSW, int8) in the embedded store, 1,000,000 x 384 real-structure vectors'),
  {
    id: 'ann-reachability',
    title:
      'Records an HNSW build leaves unreachable (each searched for with its own vector): concurrent vs serial insertion, real-structure vectors',
    script: 'bench/ann-reachability.ts',
    args: {
      full: ['--n=20000', '--rounds=3'],
      quick: ['--n=2000', '--rounds=1'],
      smoke: ['--n=1000', '--rounds=1', '--dimension=64'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['datasets'],
    timeout: { full: 1800, quick: 240, smoke: 120 },
    metrics: (r) => {
      const x = r['ann-reachability'];
      const ways = ['parallel', 'serial', 'repaired'].filter((w) => x[w]);
      return ways.flatMap((w) => [
        metric(
          `${w}: unreachable records`,
          '',
          (x[w].runs as Json[]).map((run) => run.unreachable),
          'lower',
          w === 'parallel' ? undefined : '0',
        ),
        metric(
          `${w}: build`,
          's',
          (x[w].runs as Json[]).map((run) => run.buildMs / 1000),
          'lower',
        ),
      ]);
    },
    check: (r) => {
      const x = r['ann-reachability'];
      const n = num(x.n);
      const ways = ['parallel', 'serial', 'repaired'].filter((w) => x[w]);
      return [
        ...atLeast('records', n, 1),
        ...(ways.includes('parallel') && ways.includes('serial') ? [] : ['parallel or serial build missing']),
        ...ways.flatMap((w) => [
          ...atLeast(`${w} builds`, (x[w].runs as Json[]).length, 1),
          ...positive(
            `${w} build time`,
            (x[w].runs as Json[]).map((run) => run.buildMs),
          ),
          // A broken index or search loses most records, not a few per ten thousand: more than 5% missing
          // from their own search means the measurement itself is broken.
          ...(x[w].runs as Json[]).flatMap((run) =>
            Number.isInteger(run.unreachable) && run.unreachable >= 0 && run.unreachable <= n * 0.05
              ? []
              : [`${w}: ${String(run.unreachable)} of ${n} records unreachable (expected a few at most)`],
          ),
        ]),
      ];
    },
  },
  {
    id: 'vectors',
    title: 'Nearest-neighbour structure of the benchmark vectors vs real MiniLM embeddings',
    script: 'bench/vectors.ts',
    args: {
      full: [],
      quick: ['--n=5000', '--hnswN=5000'],
      smoke: ['--n=2000', '--sample=50', '--dimension=64'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['datasets'],
    timeout: { full: 900, quick: 240, smoke: 120 },
    metrics: (r) =>
      (r.vectors.sets as Json[]).flatMap((s) => [
        metric(`${s.name}: LID`, '', s.lid, 'none'),
        metric(`${s.name}: relative contrast`, '', s.relativeContrast, 'none'),
      ]),
    check: (r) =>
      (r.vectors.sets as Json[]).flatMap((s) => finite(`${s.name} LID`, s.lid, s.relativeContrast)),
  },
  {
    id: 'safety',
    title: 'Cost of safety per query: guard and trace, dual-read with fusion, embed-on-read',
    script: 'bench/safety.ts',
    args: {
      full: ['--rounds=5'],
      quick: ['--n=10000', '--rounds=1', '--queries=50'],
      smoke: ['--n=1000', '--rounds=1', '--queries=20'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    timeout: { full: 1200, quick: 240, smoke: 90 },
    metrics: (r) => [
      metric('exact search (store)', 'ms', r.safety.exact.roundsP50, 'lower'),
      metric('guard + trace (median per query)', 'ms', r.safety.guard.roundsMs, 'lower'),
      metric('guard + trace ÷ exact search', '%', r.safety.guard.roundsShare, 'lower', '< 2%'),
      metric('dual-read with fusion, added', 'ms', r.safety.fused.roundsAddedMs, 'lower'),
      metric('embed-on-read, added', 'ms', r.safety.embedOnRead.roundsAddedMs, 'lower'),
    ],
    check: (r) => [
      ...finite('guard', r.safety.guard.roundsMs),
      ...atLeast('fused hits', r.safety.fused.hits, 1),
      ...atLeast('embed-on-read documents embedded', r.safety.embedOnRead.docsPerQuery, 0.01),
    ],
  },
  {
    id: 'migration-1m',
    title:
      'Blue-green migration of 1,000,000 documents on the embedded store, queries served throughout (hashing-384 seed 1 → seed 2)',
    script: 'bench/migration-scale.ts',
    args: {
      full: ['--n=1000000', '--before=5', '--after=30'],
      quick: ['--n=10000', '--batch=2000', '--before=2', '--after=3'],
      smoke: ['--n=1000', '--batch=500', '--before=1', '--after=1'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    timeout: { full: 4 * 3600, quick: 240, smoke: 90 },
    metrics: (r) => {
      const x = r['migration-scale'];
      const phase = (name: string): Json => (x.phases as Json[]).find((p) => p.name === name);
      const q = (name: string): Json => x.queries.perPhase[name] ?? {};
      return [
        metric('ingest into v1', 'docs/s', x.migration.ingestDocsPerSecond, 'higher'),
        metric('v1 index build (before serving)', 's', phase('index-v1')?.seconds, 'lower'),
        metric('migration wall time, start → cutover', 's', x.migration.wallSeconds, 'lower'),
        metric(
          'backfill step (writes + v2 index build)',
          'docs/s',
          x.migration.backfillDocsPerSecond,
          'higher',
        ),
        metric('backfill writes alone', 'docs/s', x.migration.backfillWriteDocsPerSecond, 'higher'),
        metric('v2 index build after the writes', 's', x.migration.backfillIndexSeconds, 'lower'),
        metric('cutover (default gates + alias write)', 's', phase('cutover')?.seconds, 'lower'),
        metric('peak RSS, whole process', 'MiB', x.memory.peakRssMiB, 'lower', '< 1024'),
        metric('queries served', '', x.queries.total, 'none'),
        metric('failed queries', '', x.queries.failed, 'lower', '0'),
        metric('query p50 (from when due)', 'ms', x.queries.overall.dueP50Ms, 'lower'),
        metric('query p99 (from when due)', 'ms', x.queries.overall.dueP99Ms, 'lower'),
        metric('query p99 during backfill', 'ms', q('backfill').dueP99Ms, 'lower'),
        metric(
          'longest event-loop hold (backfill step)',
          'ms',
          phase('backfill')?.eventLoopMaxHeldMs,
          'lower',
        ),
        metric('longest event-loop hold (cutover)', 'ms', phase('cutover')?.eventLoopMaxHeldMs, 'lower'),
        metric('on disk', 'MiB', x.disk.totalMiB, 'lower'),
      ];
    },
    check: (r) => {
      const x = r['migration-scale'];
      const names = new Set((x.phases as Json[]).map((p) => p.name));
      const missing = [
        'ingest',
        'index-v1',
        'serve-before',
        'start',
        'backfill',
        'cutover',
        'serve-after',
      ].filter((p) => !names.has(p));
      return [
        ...(missing.length > 0 ? [`phases missing: ${missing.join(', ')}`] : []),
        ...(x.queries.failed === 0
          ? []
          : [`${x.queries.failed} failed or mixed queries: ${JSON.stringify(x.queries.firstFailures)}`]),
        ...(x.queries.oldAfterNew === 0 ? [] : [`${x.queries.oldAfterNew} answers from v1 after v2 served`]),
        ...atLeast('queries answered by v1', x.queries.servedOld, 1),
        ...atLeast('queries answered by v2 after the cutover', x.queries.servedNew, 1),
        ...(['cut-over', 'retiring'].includes(x.migration.finalState)
          ? []
          : [`migration ended ${x.migration.finalState}, expected cut-over or retiring`]),
        ...positive('backfill docs/s and peak RSS', x.migration.backfillDocsPerSecond, x.memory.peakRssMiB),
      ];
    },
  },
  {
    id: 'backfill',
    title: 'Backfill on the embedded store (zero-cost embedder vs raw insert, 50 ms embedder, 200k memory)',
    script: 'bench/backfill.ts',
    args: {
      full: ['--part=all', '--runs=5'],
      quick: ['--part=A', '--n=5000', '--runs=2'],
      smoke: ['--part=A', '--n=1000', '--runs=1'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    timeout: { full: 1800, quick: 180, smoke: 120 },
    metrics: (r) => {
      const x = first(r);
      return [
        metric(
          'zero-cost backfill ÷ raw insert',
          'x',
          x.zero_cost_vs_raw_insert?.ratios,
          'higher',
          '>= 0.80',
        ),
        ...(x.latency_50ms_concurrency_8
          ? [
              metric(
                '50 ms embedder, concurrency 8: share of ideal',
                'x',
                x.latency_50ms_concurrency_8.share_of_ideal_median,
                'higher',
                '>= 0.90',
              ),
            ]
          : []),
        ...(x.memory_200k
          ? [metric('peak RSS, 200k backfill', 'MB', x.memory_200k.peak_rss_mb, 'lower', '< 300')]
          : []),
      ];
    },
    check: (r) => positive('backfill ratio', first(r).zero_cost_vs_raw_insert?.ratios),
  },
  {
    id: 'reader-thread',
    title: 'Backfill reader thread start-up (compiled vs from sources)',
    script: 'bench/reader-thread.ts',
    args: { full: ['--runs=5'], quick: ['--runs=2'], smoke: ['--runs=1'] },
    runs: { full: 1, quick: 1, smoke: 1 },
    timeout: { full: 300, quick: 120, smoke: 120 },
    metrics: (r) => [
      metric('reader thread load, compiled', 'ms', r['reader-thread'].dist.runs_ms, 'lower'),
      metric('reader thread load, from sources', 'ms', r['reader-thread'].src.runs_ms, 'lower'),
    ],
    check: (r) => finite('reader thread load', r['reader-thread'].dist.runs_ms),
  },
  {
    id: 'quality',
    title: 'Quality during a migration (SciFact, Cranfield): nDCG@10 at 50% coverage, dual-read latency',
    script: 'bench/quality.ts',
    args: {
      full: [],
      quick: ['--datasets=cranfield', '--seeds=1', '--latency=false'],
      smoke: ['--datasets=cranfield', '--seeds=1', '--latency=false'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['datasets'],
    timeout: { full: 900, quick: 180, smoke: 180 },
    metrics: (r) => {
      const at50 = (x: Json, method: string) => {
        const cell = x.results[method]['ndcg@10'][3] as number[];
        return cell;
      };
      return (r.quality.reports as Json[]).flatMap((x) => [
        metric(`${x.name}: nDCG@10 at 50%, lazy (default)`, '', at50(x, 'lazy (default fusion)'), 'higher'),
        metric(`${x.name}: nDCG@10 clean v1`, '', at50(x, 'clean v1'), 'higher'),
        metric(`${x.name}: nDCG@10 clean v2`, '', at50(x, 'clean v2'), 'higher'),
        ...(x.latency
          ? [
              metric(`${x.name}: single read p50`, 'ms', x.latency.single.p50, 'lower'),
              metric(`${x.name}: fused read p50`, 'ms', x.latency.fused.p50, 'lower'),
            ]
          : []),
      ]);
    },
    check: (r) =>
      (r.quality.reports as Json[]).flatMap((x) =>
        atLeast(`${x.name} nDCG@10 of clean v2`, (x.results['clean v2']['ndcg@10'][0] as number[])[0], 0.05),
      ),
  },
  {
    id: 'peer-langchain',
    title: 'reembed vs LangChain.js index() on the peer workload: reembed ÷ peer throughput per phase',
    script: 'bench/peer-langchain.ts',
    args: {
      full: ['--n=20000', '--latencyN=5000', '--runs=3'],
      quick: ['--n=2000', '--latencyN=500', '--runs=1', '--setups=memory'],
      smoke: ['--n=500', '--latencyN=200', '--runs=1', '--setups=memory', '--parts=base'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['peer'],
    timeout: { full: 7200, quick: 240, smoke: 180 },
    metrics: (r) =>
      (r.peer.parts as Json[]).flatMap((p) =>
        (p.rows as Json[])
          .filter((row) => row.ratios.length > 0)
          .map((row) => metric(`${p.part} ${p.setup} n=${p.n}: ${row.phase}`, 'x', row.ratios, 'higher')),
      ),
    check: (r) => [
      ...(r.peer.parts as Json[]).flatMap((p) =>
        (p.failures as string[]).map((f) => `peer run failed: ${f}`),
      ),
      ...(r.peer.parts as Json[]).flatMap((p) =>
        (p.rows as Json[])
          .filter((row) => row.reembedOk === false)
          .map((row) => `reembed failed verification: ${row.phase}`),
      ),
    ],
  },
  {
    id: 'pg-backfill',
    title: 'Backfill into pgvector vs a plain multi-row INSERT (client and database sharing the cores)',
    script: 'bench/pg-backfill.ts',
    args: {
      full: ['--n=20000', '--runs=15', '--concurrency=2', '--batchSize=500', '--rangeSize=1000'],
      quick: ['--n=4000', '--runs=2', '--concurrency=2', '--batchSize=500', '--rangeSize=1000'],
      smoke: ['--n=1000', '--runs=1', '--concurrency=2', '--batchSize=250', '--rangeSize=500'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['pg'],
    timeout: { full: 1800, quick: 240, smoke: 120 },
    metrics: (r) => {
      const x = r['pg-backfill'];
      const perRun = (path: Json) =>
        (path.runsMs as number[]).map((ms, i) => (x.plainInsert.runsMs[i] as number) / ms);
      return [
        metric('runner ÷ plain INSERT (per run)', 'x', perRun(x.runner), 'higher', '>= 0.70'),
        metric('distributed ÷ plain INSERT (per run)', 'x', perRun(x.distributed), 'higher'),
        metric('store write ÷ plain INSERT (per run)', 'x', perRun(x.storeWrite), 'higher'),
        metric('plain INSERT', 'ms', x.plainInsert.runsMs, 'lower'),
      ];
    },
    check: (r) =>
      finite('pg-backfill ratios', r['pg-backfill'].ratioRunner, r['pg-backfill'].ratioDistributed),
  },
  {
    id: 'pg-workers',
    title: 'Two distributed worker processes vs one (50 ms embedding latency)',
    script: 'bench/pg-workers.ts',
    args: {
      full: ['--n=10000', '--runs=5', '--delay=50'],
      quick: ['--n=1000', '--runs=1', '--delay=50'],
      smoke: ['--n=300', '--runs=1', '--delay=20', '--rangeSize=100'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['pg'],
    skip: {
      smoke: 'starts and stops three worker processes, most of a minute on a loaded machine; --quick runs it',
    },
    timeout: { full: 1800, quick: 240, smoke: 180 },
    metrics: (r) => {
      const x = r['pg-workers'];
      const speedups = (x.oneWorker.runsMs as number[]).map(
        (ms, i) => ms / (x.twoWorkers.runsMs[i] as number),
      );
      return [metric('2 workers ÷ 1 worker', 'x', speedups, 'higher', '>= 1.6')];
    },
    check: (r) => positive('2-worker speed-up', r['pg-workers'].speedup),
  },
  {
    id: 'pg-search-many',
    title:
      "A cutover gate's 300 exact searches on pgvector: one batched read (searchMany) vs one scan per query",
    script: 'bench/pg-search-many.ts',
    args: {
      full: ['--n=100000', '--rounds=3'],
      quick: ['--n=10000', '--rounds=1'],
      smoke: ['--n=1000', '--rounds=1', '--queries=50'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['pg'],
    timeout: { full: 1800, quick: 240, smoke: 120 },
    metrics: (r) => {
      const x = r['pg-search-many'];
      const speedups = (x.oneByOne.runsMs as number[]).map(
        (ms, i) => ms / (x.searchMany.runsMs[i] as number),
      );
      return [metric('searchMany ÷ one by one', 'x', speedups, 'higher')];
    },
    check: (r) => [
      ...(r['pg-search-many'].identical === true ? [] : ['searchMany answered differently from search']),
      ...positive('speed-up', r['pg-search-many'].speedup),
    ],
  },
  {
    id: 'pg-hnsw',
    title: "pgvector HNSW, 100,000 x 384 real-structure vectors (the ann benchmark's): recall@10 and latency",
    script: 'bench/pg-hnsw.ts',
    args: {
      full: ['--n=100000', '--rounds=5'],
      quick: ['--n=10000', '--rounds=1', '--ef=40,100'],
      smoke: ['--n=1000', '--rounds=1', '--ef=40', '--queries=20', '--dimension=64'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['pg', 'datasets'],
    timeout: { full: 3600, quick: 300, smoke: 180 },
    metrics: (r) =>
      (r['pg-hnsw'].efSearch as Json[]).flatMap((e) => [
        metric(`ef_search ${e.efSearch}: recall@10`, '', e.roundsRecall ?? e.recallAt10, 'higher'),
        metric(`ef_search ${e.efSearch}: p50`, 'ms', e.roundsP50, 'lower'),
      ]),
    check: (r) => [
      ...atLeast('exact scan recall vs truth', r['pg-hnsw'].exactScanInPostgres.recallVsTruth, 0.999),
      ...(r['pg-hnsw'].efSearch as Json[]).flatMap((e) =>
        atLeast(`ef ${e.efSearch} recall`, e.recallAt10, 0.2),
      ),
    ],
  },
  {
    id: 'scaling',
    title:
      'Scaling model: per-worker backfill rate and bytes per document on PostgreSQL, projected to 100M documents',
    script: 'bench/scaling.ts',
    args: {
      full: ['--n=50000', '--runs=5'],
      quick: ['--n=5000', '--runs=2'],
      smoke: ['--n=500', '--runs=1', '--dims=64', '--tokenSample=200'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['pg'],
    timeout: { full: 3600, quick: 300, smoke: 120 },
    metrics: (r) => [
      ...(r.scaling.measured as Json[]).flatMap((f) => [
        metric(`${f.dimension}-d: docs/s, one worker`, 'docs/s', f.docsPerSecond.concurrency1, 'higher'),
        metric(`${f.dimension}-d: docs/s, one instance`, 'docs/s', f.docsPerSecond.concurrencyHigh, 'higher'),
        metric(
          `${f.dimension}-d: bytes per document (namespace + HNSW)`,
          'B',
          f.bytesPerDocument.namespace,
          'lower',
        ),
      ]),
      metric('tokens per document', '', r.scaling.tokensPerDocument.mean, 'none'),
      metric('100M at 1M tokens/min', 'h', r.scaling.projection.providerBound.hours, 'none'),
    ],
    check: (r) => [
      ...(r.scaling.measured as Json[]).flatMap((f) =>
        positive(
          `${f.dimension}-d figures`,
          f.docsPerSecond.concurrency1,
          f.docsPerSecond.concurrencyHigh,
          f.bytesPerDocument.namespace,
          f.bytesPerDocument.sources,
        ),
      ),
      ...positive('tokens per document', r.scaling.tokensPerDocument.mean),
    ],
  },
  {
    id: 'pg-backfill-parts',
    title: "The PostgreSQL backfill runner's parts measured alone (diagnostic)",
    script: 'bench/pg-backfill-parts.ts',
    args: { full: ['--runs=7'], quick: ['--n=4000', '--runs=2'], smoke: ['--n=1000', '--runs=1'] },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['pg'],
    skip: { smoke: 'diagnostic; --quick runs it' },
    timeout: { full: 900, quick: 240, smoke: 120 },
    metrics: (r) => [
      metric('read sources (wall)', 'ms', r['pg-backfill-parts'].read.wallMs, 'lower'),
      metric('read and embed (Node CPU)', 'ms', r['pg-backfill-parts'].readAndEmbed.nodeCpuMs, 'lower'),
    ],
    check: (r) => finite('parts', r['pg-backfill-parts'].read.wallMs),
  },
  {
    id: 'pg-runner-profile',
    title: 'Where the PostgreSQL backfill runner spends its time (diagnostic)',
    script: 'bench/pg-runner-profile.ts',
    args: { full: ['--runs=5'], quick: ['--n=4000', '--runs=2'], smoke: ['--n=1000', '--runs=1'] },
    runs: { full: 1, quick: 1, smoke: 1 },
    requires: ['pg'],
    skip: { smoke: 'diagnostic; --quick runs it' },
    timeout: { full: 900, quick: 240, smoke: 120 },
    metrics: (r) => [
      metric(
        'wall',
        'ms',
        (r['pg-runner-profile'].runs as Json[]).map((x) => x.wall_ms),
        'lower',
      ),
      metric(
        'share of wall time with every write slot busy',
        'x',
        r['pg-runner-profile'].median_share_writes_saturated,
        'higher',
      ),
    ],
    check: (r) => finite('profile', r['pg-runner-profile'].median_wall_ms),
  },
  {
    id: 'provider-rate',
    title:
      'Provider-bound speed: default-settings backfill against a rate-limited OpenAI-compatible server (scaled window), one runner and two workers sharing the key',
    script: 'bench/provider-rate.ts',
    args: {
      full: ['--n=12000', '--window=3000', '--tpw=60000', '--runs=3'],
      quick: ['--n=4000', '--window=2000', '--tpw=60000', '--runs=1'],
      smoke: ['--n=1500', '--window=1000', '--tpw=30000', '--runs=1'],
    },
    runs: { full: 1, quick: 1, smoke: 1 },
    timeout: { full: 900, quick: 240, smoke: 120 },
    metrics: (r) => {
      const x = r['provider-rate'];
      return [
        metric('one runner: tokens ÷ what the limit allows', 'x', x.one?.overall_ratio, 'higher', '>= 0.95'),
        metric('one runner: 429 share after the first window', 'x', x.one?.share_429, 'lower', '< 0.01'),
        ...(x.two
          ? [
              metric(
                'two workers: tokens ÷ what the limit allows',
                'x',
                x.two.overall_ratio,
                'higher',
                '>= 0.95',
              ),
              metric(
                'two workers: 429 share after the first window',
                'x',
                x.two.share_429,
                'lower',
                '< 0.01',
              ),
            ]
          : []),
      ];
    },
    check: (r) => [
      ...positive('one runner ratio', r['provider-rate'].one?.overall_ratio),
      ...finite('one runner 429 share', r['provider-rate'].one?.share_429),
    ],
  },
];
