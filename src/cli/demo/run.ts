import { ReembedError } from '../../core/errors.js';
import { evaluateV1Step } from './evaluate.js';
import { cutoverStep, migrateValidateStep, retireStep } from './finish.js';
import { guardStep } from './guard.js';
import { migrateBackfillStep, migratePlanStep, migrateStartStep } from './migrate.js';
import { mixedStep } from './mixed.js';
import { goldenStep, ingestStep, setupStep } from './setup.js';
import type { DemoOptions, DemoState, DemoStep, StepReport } from './types.js';
import { buildV2Step, fitV2Step } from './upgrade.js';

/**
 * Part 1 of the demo's story, in order: serve v1, measure it, fit v2 at the same dimension, build v2
 * properly, show the guard refusing to mix, then measure the mixed index the guard prevents.
 */
export const DEMO_STEPS: readonly DemoStep[] = [
  setupStep,
  ingestStep,
  goldenStep,
  evaluateV1Step,
  fitV2Step,
  buildV2Step,
  guardStep,
  mixedStep,
];

/**
 * Part 2: the migration from v1 to v2 with one strategy — plan, start, backfill in stages under live
 * traffic, validation and the strategy's last phase, cutover, and retirement after the rollback window.
 */
export const MIGRATION_STEPS: readonly DemoStep[] = [
  migratePlanStep,
  migrateStartStep,
  migrateBackfillStep,
  migrateValidateStep,
  cutoverStep,
  retireStep,
];

/** The steps a run takes: part 1, and part 2 when a strategy is chosen. */
export function demoSteps(options: Pick<DemoOptions, 'strategy'>): readonly DemoStep[] {
  return options.strategy ? [...DEMO_STEPS, ...MIGRATION_STEPS] : DEMO_STEPS;
}

/**
 * Runs the steps in order, reporting each as it finishes. The first failure is reported (`failed`), the
 * remaining steps as `skipped`, and the error is re-thrown with every report attached in `reports`. Once
 * `signal` aborts, the next step is not started, and a step that throws is not reported as failed:
 * `ABORTED` is thrown (with `details.step` when it was interrupted mid-step).
 */
export async function runDemoSteps(
  state: DemoState,
  steps: readonly DemoStep[],
  onReport: (report: StepReport, index: number) => void,
  signal?: AbortSignal,
): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  for (const [index, step] of steps.entries()) {
    // One turn of the event loop first: a step that never waited on I/O gave a SIGINT handler no chance.
    if (signal) await new Promise((resolve) => setImmediate(resolve));
    // Interrupted: stop between steps (each is a few seconds at most), so the caller can clean up.
    if (signal?.aborted) {
      throw new ReembedError('ABORTED', `The demo was interrupted before step ${index + 1} (${step.name}).`, {
        details: { reports },
      });
    }
    const started = performance.now();
    try {
      const outcome = await step.run(state);
      const report: StepReport = {
        name: step.name,
        status: 'done',
        seconds: (performance.now() - started) / 1000,
        summary: outcome.summary,
        details: outcome.details ?? {},
      };
      reports.push(report);
      onReport(report, index);
    } catch (error) {
      // Interrupted mid-step: the step stopped because it was asked to, it did not fail.
      if (signal?.aborted) {
        throw new ReembedError(
          'ABORTED',
          `The demo was interrupted during step ${index + 1} (${step.name}).`,
          { details: { reports, step: step.name, index: index + 1 }, cause: error },
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      const failed: StepReport = {
        name: step.name,
        status: 'failed',
        seconds: (performance.now() - started) / 1000,
        summary: message,
        details: {},
      };
      reports.push(failed);
      onReport(failed, index);
      for (const rest of steps.slice(index + 1)) {
        const skipped: StepReport = {
          name: rest.name,
          status: 'skipped',
          seconds: 0,
          summary: `skipped: ${step.name} failed`,
          details: {},
        };
        reports.push(skipped);
      }
      throw error;
    }
  }
  return reports;
}
