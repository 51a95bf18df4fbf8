import { ReembedError } from '../../core/errors.js';
import { evaluateRetriever, type Retrieve } from '../../eval/evaluate.js';
import { runningCount } from '../progress.js';
import { mark } from './timeline.js';
import type { DemoEvaluation, DemoState, DemoStep, StepOutcome } from './types.js';

/** Runs the golden set through `retrieve` (recall@10, nDCG@10) and records the row in the state. */
export async function evaluateRow(
  state: DemoState,
  row: Omit<DemoEvaluation, 'metrics' | 'queries' | 'seconds'>,
  retrieve: Retrieve,
): Promise<DemoEvaluation> {
  const golden = state.golden;
  if (!golden)
    throw new ReembedError('INVALID_STATE', 'The demo evaluates only after the golden set is loaded.');
  const task = state.ctx.progress.start(`evaluate ${row.row}`, {
    total: golden.queries.length,
    unit: 'queries',
  });
  const count = runningCount(task);
  try {
    const result = await evaluateRetriever(golden, retrieve, {
      ks: [10],
      maxErrors: 0,
      onProgress: ({ done }) => count(done),
    });
    const evaluation: DemoEvaluation = {
      ...row,
      metrics: {
        'recall@10': result.metrics['recall@10'] ?? 0,
        'ndcg@10': result.metrics['ndcg@10'] ?? 0,
        'mrr@10': result.metrics['mrr@10'] ?? 0,
      },
      queries: result.golden.queries,
      seconds: result.durationMs / 1000,
    };
    state.evaluations.push(evaluation);
    return evaluation;
  } finally {
    task.end();
  }
}

export function metricsLine(e: DemoEvaluation): string {
  return `recall@10 ${(e.metrics['recall@10'] ?? 0).toFixed(3)}, nDCG@10 ${(e.metrics['ndcg@10'] ?? 0).toFixed(3)}`;
}

/** Step (a): the golden queries through the alias, which serves the clean v1 namespace. */
export const evaluateV1Step: DemoStep = {
  name: 'evaluate-v1',
  async run(state: DemoState): Promise<StepOutcome> {
    const e = await evaluateRow(
      state,
      {
        row: 'clean-v1',
        label: '(a) clean v1',
        index: state.v1Namespace ?? '?',
        queryWith: state.v1?.name ?? '?',
      },
      async (text, k) => (await state.app.search(state.alias, { text, k })).hits.map((h) => h.sourceId),
    );
    mark(
      state,
      'serving',
      `alias ${state.alias} → ${e.index} (${state.documents ?? 0} documents): ${metricsLine(e)}`,
      { namespace: e.index, metrics: e.metrics },
    );
    return { summary: `(a) clean v1 through alias ${state.alias}: ${metricsLine(e)}`, details: { ...e } };
  },
};
