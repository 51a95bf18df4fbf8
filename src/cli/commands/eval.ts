import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import {
  type AppEvaluateOptions,
  evaluateAlias,
  evaluateMigration,
  evaluateNamespace,
  type MigrationEvaluation,
  perQueryRows,
  type TargetEvaluation,
} from '../../app/evaluate.js';
import { requireGoldenSets, resolveGoldenSet } from '../../app/golden-sets.js';
import { defined } from '../../core/defined.js';
import { ReembedError } from '../../core/errors.js';
import { METRIC_NAMES } from '../../core/metrics.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import {
  comparisonJson,
  evaluationJson,
  printComparisonTable,
  printMetricsAtK,
} from '../evaluation-output.js';
import { integerOption, numberOf, stringOf } from '../options.js';
import { num } from '../output.js';
import { runningCount } from '../progress.js';

export interface EvalArgs {
  readonly alias?: string;
  readonly golden?: string;
  readonly namespace?: string;
  readonly migration?: string;
  readonly old?: string;
  readonly new?: string;
  readonly ks?: readonly number[];
  readonly threshold?: number;
  readonly perQuery?: string;
  readonly saveAs?: string;
  readonly replace?: boolean;
  readonly split?: string;
  readonly exact?: boolean;
  readonly allowUnknownDocs?: boolean;
  readonly concurrency?: number;
  readonly iterations?: number;
  readonly seed?: number;
  /** List the stored golden sets instead of evaluating. */
  readonly list?: boolean;
}

/**
 * `reembed eval <alias> --golden DIR|FILE|NAME` — evaluate an alias as applications query it;
 * `--namespace NS` one namespace; `--migration ID` or `--old NS --new NS` both sides with the difference,
 * a paired randomisation p-value and a bootstrap CI per metric (and `--threshold T` recalibrated to the
 * new space). `--save-as NAME` stores the golden set in the catalog; `--per-query FILE` writes JSONL;
 * `--list` shows stored golden sets. Never writes to a namespace.
 */
export async function evaluate(ctx: CliContext, args: EvalArgs): Promise<number> {
  const app = await ctx.app();
  if (args.list) return listGolden(ctx);
  const targets = [args.alias, args.namespace, args.migration, args.old ?? args.new].filter(
    (t) => t !== undefined,
  );
  if (targets.length > 1) {
    throw new ReembedError(
      'INVALID_INPUT',
      'Evaluate one target: an alias, --namespace, --migration, or --old with --new.',
    );
  }
  if ((args.old === undefined) !== (args.new === undefined)) {
    throw new ReembedError(
      'INVALID_INPUT',
      '--old and --new go together: name both namespaces of the comparison.',
    );
  }
  if (args.golden === undefined) {
    throw new ReembedError(
      'INVALID_INPUT',
      'Pass --golden DIR|FILE|NAME (a BEIR directory, a JSONL file or a stored set).',
    );
  }
  const migrationMode = args.migration !== undefined || args.old !== undefined;
  if (args.threshold !== undefined && !migrationMode) {
    throw new ReembedError(
      'INVALID_INPUT',
      '--threshold recalibrates between two spaces: use it with --migration or --old/--new.',
    );
  }
  // A path that exists is loaded; anything else is the name of a stored set.
  const path = resolve(ctx.io.cwd, args.golden);
  const resolved = await resolveGoldenSet(app.backend, existsSync(path) ? path : args.golden, {
    ...(args.split ? { split: args.split } : {}),
    ...(args.saveAs ? { saveAs: args.saveAs } : {}),
    ...(args.replace ? { replace: true } : {}),
    actor: app.actor,
  });
  const { golden } = resolved;
  if (targets.length === 0) {
    if (!resolved.saved)
      throw new ReembedError(
        'INVALID_INPUT',
        'Nothing to evaluate: name an alias, --namespace, --migration or --old/--new (or --save-as to only store the set).',
      );
    ctx.out.result(resolved.saved, () =>
      ctx.out.line(
        `Saved golden set ${resolved.saved?.name}: ${golden.queries.length} queries, ${golden.judgments} judgments (${golden.digest}).`,
      ),
    );
    return 0;
  }
  if (resolved.saved) ctx.out.note(`saved golden set ${resolved.saved.name} (${resolved.saved.digest})`);

  const task = ctx.progress.start(`eval ${golden.name}`, {
    total: golden.queries.length * (migrationMode ? 2 : 1),
    unit: 'queries',
  });
  const count = runningCount(task);
  const options: AppEvaluateOptions = {
    ...(args.ks ? { ks: args.ks } : {}),
    ...(args.exact ? { exact: true } : {}),
    ...(args.allowUnknownDocs ? { allowUnknownDocs: true } : {}),
    ...(args.concurrency ? { concurrency: args.concurrency } : {}),
    onProgress: ({ done }) => count(done),
  };
  let result: TargetEvaluation | MigrationEvaluation;
  try {
    if (migrationMode) {
      const target =
        args.migration !== undefined
          ? { migration: args.migration }
          : { old: args.old as string, new: args.new as string };
      result = await evaluateMigration(app, target, golden, {
        ...options,
        ...(args.threshold !== undefined ? { threshold: args.threshold } : {}),
        ...(args.iterations ? { iterations: args.iterations } : {}),
        ...(args.seed !== undefined ? { seed: args.seed } : {}),
      });
    } else if (args.namespace !== undefined)
      result = await evaluateNamespace(app, args.namespace, golden, options);
    else result = await evaluateAlias(app, args.alias as string, golden, options);
  } finally {
    task.end();
  }
  if (args.perQuery) {
    const rows = perQueryRows(result);
    await writeFile(
      resolve(ctx.io.cwd, args.perQuery),
      rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''),
    );
  }
  const summary = result.kind === 'evaluation' ? evaluationJson(result) : comparisonJson(result);
  ctx.out.result({ ...summary, ...(resolved.saved ? { saved: resolved.saved } : {}) }, () =>
    result.kind === 'evaluation' ? printTarget(ctx, result) : printMigration(ctx, result),
  );
  return 0;
}

function printTarget(ctx: CliContext, r: TargetEvaluation): void {
  ctx.out.line(
    `${ctx.out.style.bold(`${r.target.kind} ${r.target.name}`)} on golden set ${r.golden.name} (${r.golden.queries} queries, ${r.golden.digest})`,
  );
  printMetricsAtK(ctx, 'METRIC', r, METRIC_NAMES);
  printFooter(ctx, r);
}

function printFooter(ctx: CliContext, r: TargetEvaluation): void {
  const s = r.skipped;
  ctx.out.line(
    `latency p50 ${num(r.latency.p50, 2)} ms, p99 ${num(r.latency.p99, 2)} ms; ${r.errors.count} failed queries`,
  );
  ctx.out.line(
    `skipped: ${s.noJudgments} queries without judgments, ${s.noRelevant} without a relevant document, ${s.judgmentsWithoutQuery} judgments without query`,
  );
  if (r.annRecall)
    ctx.out.line(
      `ANN recall vs exact: ${Object.entries(r.annRecall)
        .map(([k, v]) => `${k} ${num(v, 4)}`)
        .join(', ')}`,
    );
}

function printMigration(ctx: CliContext, r: MigrationEvaluation): void {
  ctx.out.line(
    ctx.out.style.bold(`old ${r.old.target.name} vs new ${r.new.target.name}`) +
      (r.migration ? ` (migration ${r.migration})` : ''),
  );
  printComparisonTable(ctx, 'METRIC', Object.entries(r.comparisons));
  ctx.out.line(
    `old: p50 ${num(r.old.latency.p50, 2)} ms, p99 ${num(r.old.latency.p99, 2)} ms, ${r.old.errors.count} failed; new: p50 ${num(r.new.latency.p50, 2)} ms, p99 ${num(r.new.latency.p99, 2)} ms, ${r.new.errors.count} failed`,
  );
  const rc = r.recalibration;
  if (rc) {
    ctx.out.line(
      `threshold ${rc.oldThreshold} in the old space ≈ ${num(rc.newThreshold, 4)} in the new one (percentile ${num(rc.percentile * 100, 1)} of top-k scores, ${rc.oldSamples}/${rc.newSamples} scores)`,
    );
    for (const w of rc.warnings) ctx.out.warn(w);
  }
}

async function listGolden(ctx: CliContext): Promise<number> {
  const sets = await requireGoldenSets((await ctx.app()).backend).list();
  ctx.out.result(sets, () => {
    ctx.out.table(
      [
        { header: 'NAME', value: (g: (typeof sets)[number]) => g.name },
        { header: 'QUERIES', value: (g: (typeof sets)[number]) => g.queries, align: 'right' },
        { header: 'JUDGMENTS', value: (g: (typeof sets)[number]) => g.judgments, align: 'right' },
        { header: 'DIGEST', value: (g: (typeof sets)[number]) => g.digest },
        { header: 'SAVED', value: (g: (typeof sets)[number]) => `${g.savedAt} by ${g.savedBy}` },
        { header: 'SOURCE', value: (g: (typeof sets)[number]) => g.source },
      ],
      sets,
      'No stored golden sets. Save one: reembed eval --golden ../shared/datasets/scifact --save-as scifact',
    );
  });
  return 0;
}

/** `1,5,10,100` → [1, 5, 10, 100]. */
export function parseKs(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  const parse = integerOption(1, 10_000);
  try {
    return parts.map(parse);
  } catch {
    throw new InvalidArgumentError(`expected comma-separated cut-offs such as 1,5,10,100, got "${value}".`);
  }
}

function parseThreshold(value: string): number {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a score such as 0.5, got "${value}".`);
  return n;
}

export const evalCommand: CliCommand = (command, bind) =>
  command
    .arguments('[alias]')
    .option('--golden <ref>', 'BEIR directory, JSONL file ({query, relevant}) or name of a stored golden set')
    .option('--namespace <ns>', 'evaluate one namespace instead of an alias')
    .option('--migration <id>', "compare a migration's old and new namespaces")
    .option('--old <ns>', 'old namespace of a comparison (with --new)')
    .option('--new <ns>', 'new namespace of a comparison (with --old)')
    .option('-k, --k <list>', 'cut-offs (default 1,5,10,100)', parseKs)
    .option(
      '--threshold <score>',
      'old-space score threshold to recalibrate for the new space',
      parseThreshold,
    )
    .option('--per-query <file>', 'write per-query results as JSONL')
    .option('--save-as <name>', 'store the golden set in the catalog under this name')
    .option('--replace', 'replace a stored golden set of the same name')
    .option('--split <name>', 'BEIR split: read qrels/<split>.tsv')
    .option('--exact', 'force exact search')
    .option(
      '--allow-unknown-docs',
      'score judged documents the collection lacks as misses instead of refusing',
    )
    .option('--concurrency <n>', 'queries in flight (default 4)', integerOption(1, 256))
    .option(
      '--iterations <n>',
      'randomisation/bootstrap iterations (default 10000)',
      integerOption(1, 1_000_000),
    )
    .option('--seed <n>', 'seed of the significance tests (default 42)', integerOption(0))
    .option('--list', 'list stored golden sets')
    .action(
      bind(
        evaluate,
        (p, o): EvalArgs =>
          defined({
            alias: stringOf(p[0]),
            golden: stringOf(o.golden),
            namespace: stringOf(o.namespace),
            migration: stringOf(o.migration),
            old: stringOf(o.old),
            new: stringOf(o.new),
            ks: Array.isArray(o.k) ? o.k : undefined,
            threshold: numberOf(o.threshold),
            perQuery: stringOf(o.perQuery),
            saveAs: stringOf(o.saveAs),
            replace: o.replace === true || undefined,
            split: stringOf(o.split),
            exact: o.exact === true || undefined,
            allowUnknownDocs: o.allowUnknownDocs === true || undefined,
            concurrency: numberOf(o.concurrency),
            iterations: numberOf(o.iterations),
            seed: numberOf(o.seed),
            list: o.list === true || undefined,
          }),
      ),
    );
