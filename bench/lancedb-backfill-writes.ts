/**
 * LanceDB store writes of a backfill into a new namespace, this checkout against another (`--baseline=DIR`,
 * e.g. a copy of main), alternated run by run, each run in a fresh child process on a fresh directory:
 * `n` sources of one chunk (`dimension`-d vectors, cosine), written in calls of `batch` sources — the
 * group commits a backfill makes (the peer benchmark's 20k model upgrade commits 21–22 calls of ~900) —
 * then `afterBackfill` (the compaction a completed pass runs). Reports per variant the median and range of
 * the write time, the compaction, the peak RSS of the child, and the per-run ratio baseline ÷ this checkout.
 *
 * Run: npx tsx bench/lancedb-backfill-writes.ts [--n=20000 --batch=910 --dimension=768 --runs=5
 *      --baseline=/path/to/main]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs, fmt, median, report } from './lib.js';

const args = benchArgs({ n: 20_000, batch: 910, dimension: 768, runs: 5, baseline: '', child: '' });

interface Sample {
  readonly writes_ms: number;
  readonly after_ms: number;
  readonly peak_rss_mb: number;
  readonly records: number;
}

async function child(root: string): Promise<void> {
  const { openLanceDbStore } = (await import(
    join(root, 'src', 'stores', 'lancedb', 'open.ts')
  )) as typeof import('../src/stores/lancedb/open.js');
  const n = Number(args.n);
  const batch = Number(args.batch);
  const dimension = Number(args.dimension);
  const dir = mkdtempSync(join(tmpdir(), 'reembed-lance-writes-'));
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  try {
    const store = await openLanceDbStore({ uri: dir });
    const ns = {
      name: 'docs@v2',
      fingerprint: 'fp-v2',
      spaceName: 'v2',
      dimension,
      metric: 'cosine' as const,
    };
    await store.createNamespace(ns);
    // The vectors are made before the clock starts: only the store's work is timed.
    const calls = [];
    for (let i = 0; i < n; i += batch) {
      const writes = [];
      for (let j = i; j < Math.min(n, i + batch); j++) {
        const vector = new Float32Array(dimension);
        for (let d = 0; d < dimension; d++) vector[d] = Math.sin(j * 7 + d);
        const id = `doc-${String(j).padStart(6, '0')}`;
        writes.push({
          sourceId: id,
          sourceVersion: 1,
          contentHash: `h${j}`,
          tenant: null,
          metadata: { group: j % 3 },
          chunks: [{ chunkId: `${id}#0`, index: 0, text: `document ${j} of the benchmark corpus`, vector }],
        });
      }
      calls.push(writes);
    }
    const t0 = performance.now();
    for (const writes of calls) await store.write(ns.name, ns.fingerprint, writes, { prevalidated: true });
    const t1 = performance.now();
    await store.afterBackfill(ns.name);
    const t2 = performance.now();
    const records = (await store.stats(ns.name)).records;
    await store.close();
    const sample: Sample = {
      writes_ms: t1 - t0,
      after_ms: t2 - t1,
      peak_rss_mb: peak / 2 ** 20,
      records,
    };
    process.stdout.write(`${JSON.stringify(sample)}\n`);
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(variant: string, root: string): Sample {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench', 'lancedb-backfill-writes.ts'), `--child=${root}`, ...childArgs()],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const line = out.stdout.trim().split('\n').pop() ?? '';
  if (out.status !== 0 || !line.startsWith('{'))
    throw new Error(`${variant} child failed (${out.status}): ${out.stderr.slice(-2000)}`);
  return JSON.parse(line) as Sample;
}

function childArgs(): string[] {
  return ['n', 'batch', 'dimension'].map((k) => `--${k}=${args[k]}`);
}

if (String(args.child)) {
  await child(String(args.child));
} else {
  const self = resolve(import.meta.dirname, '..');
  const variants: [string, string][] = [['this checkout', self]];
  if (String(args.baseline)) variants.push(['baseline', resolve(String(args.baseline))]);
  const samples = new Map<string, Sample[]>(variants.map(([v]) => [v, []]));
  for (let r = 0; r < Number(args.runs); r++) {
    // Alternate which variant goes first, so a load change favours neither.
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const [variant, root] of order) {
      const sample = run(variant, root);
      if (sample.records !== Number(args.n)) throw new Error(`${variant}: ${sample.records} records`);
      samples.get(variant)?.push(sample);
      console.error(`run ${r + 1} ${variant}: ${JSON.stringify(sample)}`);
    }
  }
  const summary = Object.fromEntries(
    [...samples].map(([variant, list]) => {
      const pick = (k: keyof Sample) => list.map((s) => s[k]);
      const stat = (k: keyof Sample) => ({
        median: Number(fmt(median(pick(k)), 0)),
        min: Number(fmt(Math.min(...pick(k)), 0)),
        max: Number(fmt(Math.max(...pick(k)), 0)),
      });
      return [
        variant,
        { writes_ms: stat('writes_ms'), after_ms: stat('after_ms'), peak_rss_mb: stat('peak_rss_mb') },
      ];
    }),
  );
  const base = samples.get('baseline');
  const ours = samples.get('this checkout') ?? [];
  const ratios = base?.map((b, i) => Number(fmt(b.writes_ms / (ours[i]?.writes_ms ?? Number.NaN), 2)));
  report('lancedb-backfill-writes', {
    args: {
      n: args.n,
      batch: args.batch,
      dimension: args.dimension,
      runs: args.runs,
      baseline: args.baseline,
    },
    summary,
    ...(ratios ? { writes_ratio_baseline_over_this: ratios, median_ratio: median(ratios) } : {}),
  });
}
