/**
 * How long a backfill reader thread takes to load its code, compiled (`dist/`, as users run the package)
 * and from the TypeScript sources (through tsx, as `--from=src` benchmarks and the test suite run it).
 * Each measurement is a fresh process: `ReaderThread.prewarm()`, then the time until the thread reports
 * `loaded`. Median over `runs`.
 * Run: npx tsx bench/reader-thread.ts [--runs=5]
 */
import { spawnSync } from 'node:child_process';
import { benchArgs, fmt, load, median, report } from './lib.js';

const args = benchArgs({ runs: 5, child: '', from: 'dist' });

if (args.child) {
  const from = String(args.from) === 'src' ? 'src' : 'dist';
  const { ReaderThread } = await load<typeof import('../src/stores/sqlite/reader-thread.js')>(
    'stores/sqlite/reader-thread',
    from,
  );
  const t = performance.now();
  ReaderThread.prewarm();
  while (!ReaderThread.idleThread()?.loaded) await new Promise((r) => setTimeout(r, 1));
  console.log(JSON.stringify({ ms: performance.now() - t }));
  process.exit(0);
}

const result: Record<string, unknown> = {};
for (const from of ['dist', 'src'] as const) {
  const ms: number[] = [];
  for (let run = 0; run < Number(args.runs); run++) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, import.meta.filename, '--child=1', `--from=${from}`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (child.status !== 0) throw new Error(`the measuring process failed (${child.status ?? child.signal})`);
    ms.push((JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as { ms: number }).ms);
  }
  console.error(`${from}: ${ms.map((m) => fmt(m, 0)).join(' / ')} ms`);
  result[from] = { median_ms: Number(fmt(median(ms), 1)), runs_ms: ms.map((m) => Number(fmt(m, 1))) };
}
report('reader-thread', result);
