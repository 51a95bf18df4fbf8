import { spaceView } from '../commands/space.js';
import type { CliContext } from '../context.js';
import { migrationDocument, printMigration } from './migration-report.js';
import type { DemoEvaluation, DemoState, StepReport } from './types.js';

/** Where the demo ran: a SQLite file, or a PostgreSQL schema (`path` is then the redacted URL). */
export interface DemoDb {
  readonly backend: 'sqlite' | 'pg';
  readonly path: string;
  /** PostgreSQL: the fresh schema the demo created. */
  readonly schema?: string;
  readonly temporary: boolean;
  readonly kept: boolean;
}

export interface DemoConclusion {
  readonly mixedBelowV1: boolean;
  readonly mixedBelowV2: boolean;
  /** v2 − v1 and mixed − v1 in nDCG@10 (negative = worse than never upgrading). */
  readonly upgradeGain: number;
  readonly mixedVsV1: number;
  readonly mixedVsV2: number;
}

function ndcg(e: DemoEvaluation | undefined): number {
  return e?.metrics['ndcg@10'] ?? Number.NaN;
}

export function conclusionOf(evaluations: readonly DemoEvaluation[]): DemoConclusion {
  const [v1, v2, mixed] = (['clean-v1', 'clean-v2', 'mixed'] as const).map((row) =>
    evaluations.find((e) => e.row === row),
  );
  return {
    mixedBelowV1: ndcg(mixed) < ndcg(v1),
    mixedBelowV2: ndcg(mixed) < ndcg(v2),
    upgradeGain: ndcg(v2) - ndcg(v1),
    mixedVsV1: ndcg(mixed) - ndcg(v1),
    mixedVsV2: ndcg(mixed) - ndcg(v2),
  };
}

/** The single JSON document `reembed demo --json` prints. */
export function demoDocument(
  state: DemoState,
  reports: readonly StepReport[],
  db: DemoDb,
): Record<string, unknown> {
  return {
    kind: 'demo',
    dataset: {
      name: state.dataset.name,
      kind: state.dataset.kind,
      source: state.dataset.source,
      documents: state.documents ?? 0,
      queries: state.golden?.queries.length ?? 0,
    },
    options: state.options,
    db,
    spaces: { v1: state.v1 ? spaceView(state.v1) : null, v2: state.v2 ? spaceView(state.v2) : null },
    steps: reports,
    guard: state.guard ?? null,
    results: state.evaluations,
    conclusion: conclusionOf(state.evaluations),
    migration: migrationDocument(state.migration),
    timeline: state.timeline,
  };
}

export function printHeader(ctx: CliContext, state: DemoState, db: DemoDb): void {
  const { bold } = ctx.out.style;
  const strategy = state.options.strategy;
  ctx.out.line(
    bold(
      state.options.scenario === 'deprecation'
        ? 'reembed demo — the old model is retired: serve the new one at once through a gated bridge, re-embed in the background, cut over'
        : strategy
          ? `reembed demo — why one index must not mix two embedding models, and a ${strategy} migration from v1 to v2`
          : 'reembed demo — what happens when one index mixes two embedding models',
    ),
  );
  ctx.out.line(`  dataset   ${state.dataset.source}`);
  if (db.backend === 'pg')
    ctx.out.line(`  database  PostgreSQL ${db.path}, schema ${db.schema}${lifetimeNote(db, 'dropped')}`);
  else ctx.out.line(`  database  ${db.path}${lifetimeNote(db, 'removed')}`);
  ctx.out.line();
}

/** What happens to the demo's database at the end: a created one is removed unless `--keep` keeps it. */
function lifetimeNote(db: DemoDb, removed: 'dropped' | 'removed'): string {
  if (!db.temporary) return '';
  return db.kept ? ' (created for the demo, kept: --keep)' : ` (temporary: ${removed} at the end)`;
}

export function printStep(ctx: CliContext, report: StepReport, index: number): void {
  const mark = report.status === 'done' ? '' : ctx.out.style.red(`${report.status.toUpperCase()} `);
  ctx.out.line(
    `${String(index + 1).padStart(2)}. ${mark}${report.summary} ${ctx.out.style.dim(`[${report.seconds.toFixed(1)} s]`)}`,
  );
}

export function printSummary(ctx: CliContext, state: DemoState, db: DemoDb): void {
  const { bold, red, dim } = ctx.out.style;
  if (state.guard) {
    ctx.out.line();
    ctx.out.line(bold('The guard, verbatim:'));
    ctx.out.line(`  ${red(state.guard.code)}: ${state.guard.message}`);
  }
  ctx.out.line();
  ctx.out.line(
    bold(`Retrieval quality on ${state.golden?.queries.length ?? 0} judged queries (${state.dataset.name}):`),
  );
  ctx.out.table(
    [
      { header: 'INDEX', value: (e: DemoEvaluation) => e.label },
      {
        header: 'WHERE',
        value: (e: DemoEvaluation) => (e.index === 'memory' ? 'in memory (refused by the store)' : e.index),
      },
      { header: 'QUERY', value: (e: DemoEvaluation) => e.queryWith },
      {
        header: 'RECALL@10',
        value: (e: DemoEvaluation) => (e.metrics['recall@10'] ?? 0).toFixed(3),
        align: 'right',
      },
      {
        header: 'NDCG@10',
        value: (e: DemoEvaluation) => (e.metrics['ndcg@10'] ?? 0).toFixed(3),
        align: 'right',
      },
    ],
    state.evaluations,
  );
  const c = conclusionOf(state.evaluations);
  ctx.out.line();
  const share = Math.round(100 * state.options.migratedShare);
  const versus = c.mixedBelowV1
    ? `${(-c.mixedVsV1).toFixed(3)} nDCG@10 below never upgrading (a) and ${(-c.mixedVsV2).toFixed(3)} below finishing the upgrade (b)`
    : `${(-c.mixedVsV2).toFixed(3)} nDCG@10 below finishing the upgrade (b) (it still beats v1 here only because v1 is weak and half the documents are already v2)`;
  ctx.out.line(
    `With ${share}% of the documents re-embedded, the mixed index is ${versus} — and nothing raised an error: ` +
      'v1 vectors compared with a v2 query are noise, so recall just falls.',
  );
  ctx.out.line(
    'reembed refuses to build it: a namespace holds exactly one space fingerprint (the guard above), a query vector ' +
      'meets only records of its own space, and an alias moves from v1 to v2 atomically, once v2 is complete and validated.',
  );
  printMigration(ctx, state);
  ctx.out.line();
  if (db.kept)
    ctx.out.line(
      dim(
        db.backend === 'pg'
          ? `Explore: REEMBED_PG_SCHEMA=${db.schema} reembed status --pg <url>`
          : `Explore: reembed status --db ${db.path}`,
      ),
    );
  else
    ctx.out.line(
      dim('Run with --keep (or --db FILE) to explore the result with `reembed status` and `reembed search`.'),
    );
}
