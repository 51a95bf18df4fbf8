import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { GoldenSet } from '../../core/golden.js';
import { lazyAsync } from '../../platform/lazy.js';
import type { ProgressTask } from '../../ports/progress.js';
import type { ReportGolden } from '../../report/collect.js';
import type { ReportData } from '../../report/data.js';
import { FONT_PACKAGE } from '../../report/fonts.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { durationOption, integerOption, numberOf, numberOption, stringOf } from '../options.js';
import { num } from '../output.js';
import { runningCount } from '../progress.js';

// Handlers' dependencies load when a subcommand runs, not for `--help` or option errors.
const resolveGoldenSet = lazyAsync(() => import('../../app/golden-sets.js'), 'resolveGoldenSet');
const collectReport = lazyAsync(() => import('../../report/collect.js'), 'collectReport');
const readQualityCurves = lazyAsync(() => import('../../report/curves.js'), 'readQualityCurves');
const writeReport = lazyAsync(() => import('../../report/write.js'), 'writeReport');

export interface ReportArgs {
  readonly collection?: string;
  /**
   * Golden sets (BEIR directory, JSONL file or stored name) to evaluate now, each `ref` (every collection
   * holding its judged documents) or `collection=ref` (that collection only).
   */
  readonly golden?: readonly string[];
  readonly allowUnknownDocs?: boolean;
  readonly split?: string;
  /** HTML file (default `report.html`). */
  readonly out?: string;
  /** Directory for PNG charts. */
  readonly png?: string;
  /** Quality-during-migration curves (a benchmark's JSON). */
  readonly curves?: string;
  /** Which dataset of a multi-dataset curves file (default: the first). */
  readonly curvesDataset?: string;
  /** Traffic window in ms (default 24 h). */
  readonly windowMs?: number;
  /** PNG pixels per SVG pixel (default 2). */
  readonly scale?: number;
  readonly concurrency?: number;
}

/**
 * `reembed report [--collection NAME] [--golden [COLLECTION=]DIR|NAME ...] [--out report.html] [--png DIR] [--curves FILE] [--json]`:
 * writes one self-contained HTML page (inline SVG charts and the tables of their numbers) — quality old vs
 * new vs during migration, coverage over time, version distribution, latency and traffic share — and, with
 * `--png`, one PNG per chart. With `--golden` the namespaces (and aliases serving a mix) of each collection
 * the set judges are evaluated now and the results kept in their manifests — a collection that does not
 * hold the set's judged documents is skipped with a note, never an error, and `collection=ref` gives a
 * collection its own set; without `--golden`, stored evaluations are shown. Each run also
 * records a coverage sample, so repeated reports (or cron) build the coverage history.
 */
export async function report(ctx: CliContext, args: ReportArgs): Promise<number> {
  const app = await ctx.app();
  const cwd = ctx.io.cwd;
  const collections = new Set((await app.backend.catalog.listCollections()).map((c) => c.name));
  const goldens: ReportGolden[] = [];
  for (const value of args.golden ?? []) {
    const pair = /^([a-z0-9][a-z0-9._-]{0,62})=(.+)$/.exec(value);
    const named = pair && collections.has(pair[1] as string) ? (pair[1] as string) : null;
    const ref = named !== null ? (pair?.[2] as string) : value;
    const path = resolve(cwd, ref);
    const golden: GoldenSet = (
      await resolveGoldenSet(app.backend, existsSync(path) ? path : ref, {
        ...(args.split ? { split: args.split } : {}),
      })
    ).golden;
    goldens.push({ collection: named, golden });
  }
  const curvesPath = args.curves === undefined ? null : resolve(cwd, args.curves);
  const curves =
    curvesPath === null
      ? null
      : {
          source: relative(cwd, curvesPath) || curvesPath,
          curves: await readQualityCurves(
            curvesPath,
            args.curvesDataset === undefined ? {} : { dataset: args.curvesDataset },
          ),
        };
  const now = new Date();
  // One progress bar per evaluated target, replaced when the next target starts.
  const bar: { task: ProgressTask | null; count?: (done: number) => void } = { task: null };
  let data: ReportData;
  try {
    data = await collectReport(app, {
      now,
      goldens,
      ...(args.allowUnknownDocs ? { allowUnknownDocs: true } : {}),
      curves,
      ...(args.collection !== undefined ? { collection: args.collection } : {}),
      ...(args.windowMs !== undefined ? { since: new Date(now.getTime() - args.windowMs) } : {}),
      evaluation: {
        ...(args.concurrency ? { concurrency: args.concurrency } : {}),
        onTarget: (target, queries) => {
          bar.task?.end();
          bar.task = ctx.progress.start(`eval ${target}`, { total: queries, unit: 'queries' });
          bar.count = runningCount(bar.task);
        },
        onProgress: ({ done }) => bar.count?.(done),
      },
    });
  } finally {
    bar.task?.end();
  }
  const written = await writeReport(data, {
    out: resolve(cwd, args.out ?? 'report.html'),
    ...(args.png !== undefined ? { pngDir: resolve(cwd, args.png) } : {}),
    ...(args.scale !== undefined ? { scale: args.scale } : {}),
  });
  if (args.png !== undefined && written.fonts.family === null) {
    ctx.out.warn(
      `no known font file found: chart text may be missing from the PNGs. Install ${FONT_PACKAGE} (Debian/Ubuntu).`,
    );
  }
  ctx.out.result({ ...written, summary: summary(data) }, () => {
    ctx.out.line(
      `wrote ${written.html} (${written.charts.filter((c) => c.drawn).length} of ${written.charts.length} charts drawn)`,
    );
    for (const png of written.pngs) ctx.out.line(`wrote ${png.path} (${png.width}×${png.height})`);
    for (const c of written.charts) {
      if (!c.drawn) ctx.out.line(ctx.out.style.dim(`  ${c.title}: ${c.empty}`));
      for (const w of c.warnings) ctx.out.warn(`chart ${c.id}: ${w}`);
    }
    if (data.quality.rows.length > 0) {
      ctx.out.line();
      const rows = data.quality.rows;
      ctx.out.table(
        [
          { header: 'TARGET', value: (r: (typeof rows)[number]) => r.target },
          { header: 'ROLE', value: (r: (typeof rows)[number]) => r.role },
          {
            header: 'NDCG@10',
            value: (r: (typeof rows)[number]) => num(r.metrics['ndcg@10'], 4),
            align: 'right',
          },
          {
            header: 'RECALL@10',
            value: (r: (typeof rows)[number]) => num(r.metrics['recall@10'], 4),
            align: 'right',
          },
          {
            header: 'EVALUATED',
            value: (r: (typeof rows)[number]) => `${r.at}${r.source === 'stored' ? ' (stored)' : ''}`,
          },
        ],
        rows,
      );
    }
    for (const s of data.quality.skipped)
      ctx.out.note(`golden set ${s.golden} not evaluated on collection ${s.collection}: it ${s.reason}`);
    const foreign = data.versions.filter((v) => v.foreign);
    if (foreign.length > 0) {
      ctx.out.line(
        ctx.out.style.red(
          `ALERT: foreign fingerprints in ${[...new Set(foreign.map((v) => v.namespace))].join(', ')}`,
        ),
      );
    }
  });
  return 0;
}

/** The `--json` data summary: everything but the long series (coverage samples, per-minute traffic), counted. */
function summary(data: ReportData): Record<string, unknown> {
  const { coverage, trafficByMinute, ...rest } = data;
  return { ...rest, coverageSamples: coverage.length, trafficMinutes: trafficByMinute.length };
}

export const reportCommand: CliCommand = (command, bind) =>
  command
    .option('--collection <name>', 'only this collection')
    .option(
      '--golden <[collection=]ref>',
      'evaluate now on this golden set (BEIR directory, JSONL file or stored name): every collection that holds its judged documents, or only the one named; repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--allow-unknown-docs',
      'score judged documents a collection lacks as misses instead of skipping it',
    )
    .option('--split <name>', 'BEIR split of --golden: read qrels/<split>.tsv')
    .option('--out <file>', 'HTML file to write', 'report.html')
    .option('--png <dir>', 'also write one PNG per chart into this directory')
    .option('--curves <file>', 'quality-during-migration curves (JSON written by the quality benchmark)')
    .option('--curves-dataset <name>', 'dataset of a multi-dataset curves file (default: the first)')
    .option('--since <duration>', 'traffic window, e.g. 1h, 24h, 7d (default 24h)', durationOption)
    .option('--scale <n>', 'PNG pixels per SVG pixel (default 2)', numberOption(0.25))
    .option('--concurrency <n>', 'evaluation queries in flight (default 4)', integerOption(1, 256))
    .action(
      bind(report, (_p, o) => {
        const args: Record<string, unknown> = {
          collection: stringOf(o.collection),
          golden: Array.isArray(o.golden) ? o.golden : undefined,
          allowUnknownDocs: o.allowUnknownDocs === true ? true : undefined,
          split: stringOf(o.split),
          out: stringOf(o.out),
          png: stringOf(o.png),
          curves: stringOf(o.curves),
          curvesDataset: stringOf(o.curvesDataset),
          windowMs: numberOf(o.since),
          scale: numberOf(o.scale),
          concurrency: numberOf(o.concurrency),
        };
        for (const key of Object.keys(args)) if (args[key] === undefined) delete args[key];
        return args as ReportArgs;
      }),
    );
