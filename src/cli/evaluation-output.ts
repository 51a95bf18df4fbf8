import type { MetricComparison } from '../app/evaluate.js';
import type { CliContext } from './context.js';
import { num } from './output.js';

/**
 * What `reembed eval` (golden sets) and `reembed probe eval` (probe sets) print alike: the `--json`
 * document without per-query rows, the metric × cut-off table of one evaluation and the old-vs-new table
 * of a comparison. Only the labels differ (`METRIC` vs `PROBE METRIC`: probe figures are never judged).
 */

/** The `--json` document of one evaluation: everything but the per-query rows (see `--per-query`). */
export function evaluationJson<E extends { readonly perQuery: readonly unknown[] }>(
  r: E,
): Record<string, unknown> {
  const { perQuery, ...rest } = r;
  return { ...rest, queries: perQuery.length };
}

/** The `--json` document of an old-vs-new comparison: both evaluations without their per-query rows. */
export function comparisonJson<E extends { readonly perQuery: readonly unknown[] }>(c: {
  readonly old: E;
  readonly new: E;
}): Record<string, unknown> {
  return { ...c, old: evaluationJson(c.old), new: evaluationJson(c.new) };
}

/** One row a metric, one column a cut-off: `recall @1 @5 @10`. */
export function printMetricsAtK(
  ctx: CliContext,
  header: string,
  r: { readonly ks: readonly number[]; readonly metrics: Readonly<Record<string, number>> },
  names: readonly string[],
): void {
  ctx.out.table(
    [
      { header, value: (m: string) => m },
      ...r.ks.map((k) => ({
        header: `@${k}`,
        value: (m: string) => num(r.metrics[`${m}@${k}`], 4),
        align: 'right' as const,
      })),
    ],
    names,
  );
}

/** Old, new, their difference (green or red when significant at 0.05), its p-value and 95% interval. */
export function printComparisonTable(
  ctx: CliContext,
  header: string,
  rows: readonly (readonly [string, MetricComparison])[],
): void {
  const { green, red } = ctx.out.style;
  type Row = (typeof rows)[number];
  ctx.out.table(
    [
      { header, value: ([m]: Row) => m },
      { header: 'OLD', value: ([, c]: Row) => num(c.old, 4), align: 'right' },
      { header: 'NEW', value: ([, c]: Row) => num(c.new, 4), align: 'right' },
      {
        header: 'DIFF',
        value: ([, c]: Row) => {
          const text = `${c.meanDiff >= 0 ? '+' : ''}${c.meanDiff.toFixed(4)}`;
          return c.pValue < 0.05 ? (c.meanDiff > 0 ? green(text) : red(text)) : text;
        },
        align: 'right',
      },
      { header: 'P', value: ([, c]: Row) => num(c.pValue, 4), align: 'right' },
      { header: 'CI95', value: ([, c]: Row) => `[${c.ci95[0].toFixed(4)}, ${c.ci95[1].toFixed(4)}]` },
    ],
    rows,
  );
}
