import { ReembedError } from './errors.js';
import { quantileSorted } from './metrics.js';

/**
 * Score thresholds do not transfer between embedding spaces: a cosine of 0.8 in one model can mean what
 * 0.55 means in another. Percentile matching keeps the *share* of results that pass: find where the old
 * threshold sits in the old score distribution, then take the new score at that same percentile.
 * Feed it comparable samples, e.g. the top-k scores of the same queries (golden set or sampled traffic)
 * in both spaces.
 */
export interface ThresholdRecalibration {
  readonly kind: 'threshold-recalibration';
  readonly oldThreshold: number;
  readonly newThreshold: number;
  /** Share of old scores below the old threshold (ties count half), in [0, 1]. */
  readonly percentile: number;
  readonly oldSamples: number;
  readonly newSamples: number;
  /** Reasons to distrust the result (small samples, threshold outside the observed range). */
  readonly warnings: readonly string[];
}

/** Below this many scores per side the percentile estimate is coarse; the result carries a warning. */
export const MIN_RECALIBRATION_SAMPLES = 30;

function checkScores(scores: readonly number[], which: string): number[] {
  if (scores.length === 0) {
    throw new ReembedError(
      'INVALID_INPUT',
      `No ${which} scores to recalibrate from: collect top-k scores of the same queries in both spaces.`,
    );
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new ReembedError(
        'INVALID_INPUT',
        `${which} score #${i} is ${scores[i]}; scores must be finite numbers.`,
        {
          details: { which, index: i },
        },
      );
    }
  }
  return [...scores].sort((x, y) => x - y);
}

/** Mid-rank empirical CDF: (below + equal / 2) / n. */
function percentileOf(sorted: readonly number[], value: number): number {
  let below = 0;
  let equal = 0;
  for (const s of sorted) {
    if (s < value) below++;
    else if (s === value) equal++;
  }
  return (below + equal / 2) / sorted.length;
}

/**
 * Maps a score threshold from the old space to the new one by percentile matching.
 *
 * @example
 * recalibrateThreshold(oldTopScores, newTopScores, 0.8).newThreshold // e.g. 0.57
 */
export function recalibrateThreshold(
  oldScores: readonly number[],
  newScores: readonly number[],
  oldThreshold: number,
): ThresholdRecalibration {
  if (!Number.isFinite(oldThreshold)) {
    throw new ReembedError('INVALID_INPUT', `Old threshold ${oldThreshold} is not a finite number.`);
  }
  const olds = checkScores(oldScores, 'old');
  const news = checkScores(newScores, 'new');
  const percentile = percentileOf(olds, oldThreshold);
  const warnings: string[] = [];
  if (olds.length < MIN_RECALIBRATION_SAMPLES || news.length < MIN_RECALIBRATION_SAMPLES) {
    warnings.push(
      `only ${olds.length} old and ${news.length} new scores; use at least ${MIN_RECALIBRATION_SAMPLES} each for a stable estimate`,
    );
  }
  if (oldThreshold < (olds[0] as number)) {
    warnings.push(
      'the old threshold is below every old score (everything passed); the new threshold is the lowest new score',
    );
  } else if (oldThreshold > (olds[olds.length - 1] as number)) {
    warnings.push(
      'the old threshold is above every old score (nothing passed); the new threshold is the highest new score',
    );
  }
  return Object.freeze({
    kind: 'threshold-recalibration' as const,
    oldThreshold,
    newThreshold: quantileSorted(news, percentile),
    percentile,
    oldSamples: olds.length,
    newSamples: news.length,
    warnings: Object.freeze(warnings),
  });
}
