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

/** `+7.6s`, or `+7.6s +1h00m` once the demo's clock skipped simulated time. */
export function formatAt(e: Pick<TimelineEvent, 'at' | 'simulated'>): string {
  const wall = `+${e.at.toFixed(1)}s`;
  return e.simulated > 0 ? `${wall} +${formatDuration(e.simulated)}` : wall;
}

export function printTimeline(ctx: CliContext, state: DemoState): void {
  const { bold, dim } = ctx.out.style;
  const m = state.migration;
  const events = state.timeline;
  if (events.length === 0) return;
  ctx.out.line();
  ctx.out.line(
    bold(
      m
        ? `TIMELINE — ${m.strategy} migration of alias ${state.alias} (${m.from} → ${m.to}); time since the demo started${m.clock.skippedMs > 0 ? ', + simulated time' : ''}:`
        : 'TIMELINE (time since the demo started):',
    ),
  );
  const wallWidth = Math.max(...events.map((e) => `+${e.at.toFixed(1)}s`.length));
  const simWidth = Math.max(
    ...events.map((e) => (e.simulated > 0 ? formatDuration(e.simulated).length + 1 : 0)),
  );
  const stateWidth = Math.max(...events.map((e) => (e.state ?? '-').length));
  for (const e of events) {
    const wall = `+${e.at.toFixed(1)}s`.padStart(wallWidth);
    const sim =
      simWidth > 0 ? ` ${(e.simulated > 0 ? `+${formatDuration(e.simulated)}` : '').padEnd(simWidth)}` : '';
    ctx.out.line(
      `  ${wall}${sim}  ${dim((e.state ?? '-').padEnd(stateWidth))}  ${e.event.padEnd(10)} ${e.summary}`,
    );
  }
}
