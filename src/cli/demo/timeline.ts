import type { MigrationState } from '../../core/migration.js';
import type { CliContext } from '../context.js';
import { formatDuration } from '../progress.js';
import type { DemoState } from './types.js';

export const TIMELINE_EVENTS = [
  'serving',
  'plan',
  'transition',
  'coverage',
  'rollout',
  'gates',
  'cutover',
  'retirement',
  'clock',
] as const;
export type TimelineEventKind = (typeof TIMELINE_EVENTS)[number];

/** One line of the demo's TIMELINE: what happened, when, and in which migration state. */
export interface TimelineEvent {
  /** Wall-clock seconds since the demo started. */
  readonly at: number;
  /** Simulated seconds skipped so far (the rollback window), added to `at` for the service's clock. */
  readonly simulated: number;
  readonly event: TimelineEventKind;
  /** The migration's state after the event (null while v1 serves alone, before any migration). */
  readonly state: MigrationState | null;
  readonly summary: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Appends an event stamped with the elapsed time and the migration's current state. */
export function mark(
  state: DemoState,
  event: TimelineEventKind,
  summary: string,
  data: Readonly<Record<string, unknown>> = {},
): TimelineEvent {
  const entry: TimelineEvent = Object.freeze({
    at: (performance.now() - state.started) / 1000,
    simulated: (state.migration?.clock.skippedMs ?? 0) / 1000,
    event,
    state: state.migration?.state ?? null,
    summary,
    data,
  });
  state.timeline.push(entry);
  return entry;
}

export function formatAt(e: Pick<TimelineEvent, 'at' | 'simulated'>): string {
  const wall = `+${e.at.toFixed(1)}s`;
  return e.simulated > 0 ? `${wall} (+${formatDuration(e.simulated)} simulated)` : wall;
}

export function printTimeline(ctx: CliContext, state: DemoState): void {
  const { bold, dim } = ctx.out.style;
  const m = state.migration;
  ctx.out.line();
  ctx.out.line(
    bold(
      m
        ? `TIMELINE — ${m.strategy} migration of alias ${state.alias} (${m.from} → ${m.to}), time since the demo started:`
        : 'TIMELINE:',
    ),
  );
  const width = Math.max(...state.timeline.map((e) => formatAt(e).length), 6);
  const stateWidth = Math.max(...state.timeline.map((e) => (e.state ?? '-').length), 5);
  for (const e of state.timeline) {
    ctx.out.line(
      `  ${formatAt(e).padStart(width)}  ${dim((e.state ?? '-').padEnd(stateWidth))}  ${e.event.padEnd(10)} ${e.summary}`,
    );
  }
}
