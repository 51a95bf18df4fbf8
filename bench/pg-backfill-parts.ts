/**
 * Issue 5 (a), diagnostic: the parts of a backfill into pgvector, measured alone on the corpus of
 * bench/pg-backfill.ts (`--n` documents of the peer workload, zero-cost embedder).
 *   - keyset page plans: EXPLAIN ANALYZE of the sources scan (`sourcesSql().scan`) for pages of 500 and
 *     4,000 rows, on the freshly ingested table (no planner statistics yet, as autovacuum leaves it for up
 *     to a minute) and after `PgSourceRepository.ensureStatistics()` — the plan, its execution time, and
 *     whether it sorts;
 *   - reading all sources in pages of `--pageSize`, alone and with embedding (chunking, preprocessing,
 *     validation; `embedSources` per `--batchSize`): wall, Node CPU and PostgreSQL CPU, the two alternating
 *     within one process, medians over `--runs` (the first pair is a warm-up and not counted).
 * The store write alone is measured by bench/pg-backfill.ts ("store write alone").
 * Run: REEMBED_PG_URL=... npx tsx bench/pg-backfill-parts.ts [--n=20000 --runs=5 --pageSize=4000 --batchSize=500]
 */
import { embedSources } from '../src/app/embed-sources.js';
import { sourcesSql } from '../src/stores/pg/sql-catalog.js';
import { benchArgs, median, report } from './lib.js';
import { dropBenchSchema, openBackfillCorpus, pgVersion, postgresCpuMs } from './pg-common.js';

const args = benchArgs({ n: 20_000, runs: 5, pageSize: 4_000, batchSize: 500, dimension: 384 });
const n = Number(args.n);
const dim = Number(args.dimension);
const pageSize = Number(args.pageSize);
const batchSize = Number(args.batchSize);
const { docs, target, app, backend } = await openBackfillCorpus('parts', n, dim);

interface Plan {
  readonly rows: number;
  readonly after: string;
  readonly executionMs: number;
  readonly sorts: boolean;
  readonly plan: string;
}

try {
  const sql = sourcesSql(backend.config.schema);
  const ids = docs.map((d) => d.id).sort();
  const explain = async (limit: number, after: string): Promise<Plan> => {
    const { rows } = await backend.pool.query<Record<string, string>>(`EXPLAIN (ANALYZE) ${sql.scan}`, [
      'docs',
      after,
      limit,
      true,
    ]);
    const plan = rows.map((r) => r['QUERY PLAN'] as string);
    const time = plan.find((line) => line.startsWith('Execution Time'));
    return {
      rows: limit,
      after,
      executionMs: Number(time?.match(/([\d.]+) ms/)?.[1] ?? Number.NaN),
      sorts: plan.some((line) => /Sort/.test(line)),
      plan: (plan[0] ?? '').replace(/\s+\(.*$/, '') + (plan.some((l) => /Bitmap/.test(l)) ? ' (bitmap)' : ''),
    };
  };
  const pages = [
    [500, ''],
    [4_000, ids[Math.floor(n / 2)] ?? ''],
  ] as const;
  const stale = (await backend.pool.query<{ stale: boolean }>(sql.statisticsStale, [sql.sourcesTable]))
    .rows[0]?.stale;
  const before: Plan[] = [];
  for (const [limit, after] of pages) before.push(await explain(limit, after));
  await backend.sources.ensureStatistics();
  const after: Plan[] = [];
  for (const [limit, after0] of pages) after.push(await explain(limit, after0));
  for (const [i, p] of before.entries()) {
    const a = after[i] as Plan;
    console.error(
      `page of ${p.rows}: ${p.executionMs} ms (${p.plan}${p.sorts ? ', sorts' : ''}) -> ${a.executionMs} ms (${a.plan}${a.sorts ? ', sorts' : ''})`,
    );
  }

  const embedder = await app.embedders.get(target);
  const samples: Record<'read' | 'readAndEmbed', number[][]> = { read: [], readAndEmbed: [] };
  for (let run = 0; run < 2 * (Number(args.runs) + 1); run++) {
    const embed = run % 2 === 1;
    const cpu = process.cpuUsage();
    const pg = postgresCpuMs();
    const t = performance.now();
    let last = '';
    for (;;) {
      const page = await backend.sources.scan('docs', {
        afterId: last === '' ? undefined : last,
        limit: pageSize,
        includeDeleted: true,
      });
      if (page.length === 0) break;
      last = (page[page.length - 1] as { id: string }).id;
      if (embed)
        for (let i = 0; i < page.length; i += batchSize)
          await embedSources(embedder, page.slice(i, i + batchSize));
    }
    const used = process.cpuUsage(cpu);
    if (run >= 2) {
      samples[embed ? 'readAndEmbed' : 'read'].push([
        performance.now() - t,
        (used.user + used.system) / 1000,
        postgresCpuMs() - pg,
      ]);
    }
  }
  const summary = (rows: number[][]) => ({
    wallMs: median(rows.map((r) => r[0] as number)),
    nodeCpuMs: median(rows.map((r) => r[1] as number)),
    postgresCpuMs: median(rows.map((r) => r[2] as number)),
  });
  const read = summary(samples.read);
  const readAndEmbed = summary(samples.readAndEmbed);
  console.error(
    `read: ${read.wallMs.toFixed(0)} ms, Node ${read.nodeCpuMs.toFixed(0)} ms, PostgreSQL ${read.postgresCpuMs} ms; ` +
      `read + embed: ${readAndEmbed.wallMs.toFixed(0)} ms, Node ${readAndEmbed.nodeCpuMs.toFixed(0)} ms, PostgreSQL ${readAndEmbed.postgresCpuMs} ms`,
  );
  report('pg-backfill-parts', {
    database: await pgVersion(backend),
    config: { n, dimension: dim, runs: Number(args.runs), pageSize, batchSize },
    keysetPages: {
      statisticsMissingAtStart: stale === true,
      withoutStatistics: before,
      afterEnsureStatistics: after,
    },
    read,
    readAndEmbed,
  });
} finally {
  await dropBenchSchema(backend);
  await app.close();
}
