import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';
import { type ProgressReporter, type ProgressTask, silentProgress } from '../ports/progress.js';
import type { TextSink } from './output.js';

export { type ProgressReporter, type ProgressTask, silentProgress } from '../ports/progress.js';

/**
 * Progress bars for terminals: one bar per task on stderr with count, rate and ETA
 * (`ingest docs ███░░ 1200/5183 docs | 2,310 docs/s | ETA 2s`). Anything else — stderr not a TTY, `--json`,
 * `--quiet` — gets `silentProgress`, so pipes and logs never see control characters.
 */
export function createProgress(
  stderr: TextSink,
  options: { json: boolean; quiet: boolean },
): ProgressReporter {
  if (options.json || options.quiet || stderr.isTTY !== true) return silentProgress;
  return new TerminalProgress(stderr);
}

/** Formats a duration in seconds as `42s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Formats a rate with thousands separators and one decimal below 10 (`2,310`, `4.5`). */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  return perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond).toLocaleString('en-US');
}

/**
 * Feeds `task` from a running count, as library `onProgress` callbacks report one (`done` so far, with the
 * `total` when they know it): each call advances the bar by what is new. A count that starts again from
 * zero (the second namespace of a comparison) advances by the new count.
 *
 * @example
 * const count = runningCount(task);
 * await createProbeSet(app, collection, { onProgress: ({ read, total }) => count(read, total) });
 */
export function runningCount(task: ProgressTask): (done: number, total?: number) => void {
  let last = 0;
  return (done, total) => {
    if (total !== undefined) task.setTotal(total);
    task.advance(done >= last ? done - last : done);
    last = done;
  };
}

interface Payload {
  readonly label: string;
  readonly unit: string;
  readonly known: boolean;
}

/** cli-progress, loaded when a terminal first shows a bar (commands in pipes and scripts never need it). */
let bars: typeof cliProgress | null = null;
function loadBars(): typeof cliProgress {
  bars ??= createRequire(import.meta.url)('cli-progress') as typeof cliProgress;
  return bars;
}

class TerminalProgress implements ProgressReporter {
  readonly #stream: TextSink;

  constructor(stream: TextSink) {
    this.#stream = stream;
  }

  start(label: string, options: { total?: number; unit?: string } = {}): ProgressTask {
    const started = performance.now();
    const payload: Payload = { label, unit: options.unit ?? 'items', known: options.total !== undefined };
    const cli = loadBars();
    const bar = new cli.SingleBar(
      {
        // cli-progress only needs `write` (and `isTTY`) from the stream.
        stream: this.#stream as unknown as NodeJS.WritableStream,
        hideCursor: true,
        clearOnComplete: false,
        fps: 10,
        barsize: 24,
        format: (opts, params, p: Payload) =>
          renderLine(opts, params, p, (performance.now() - started) / 1000),
      },
      cli.Presets.shades_classic,
    );
    bar.start(options.total ?? 0, 0, payload);
    let ended = false;
    let known = payload.known;
    return {
      advance: (n = 1) => {
        if (!ended) bar.increment(n);
      },
      setTotal: (total) => {
        if (ended) return;
        if (!known) {
          known = true;
          bar.update({ ...payload, known: true });
        }
        bar.setTotal(total);
      },
      end: () => {
        if (ended) return;
        ended = true;
        bar.stop();
      },
    };
  }
}

function renderLine(
  options: cliProgress.Options,
  params: cliProgress.Params,
  payload: Payload,
  elapsed: number,
): string {
  const rate = elapsed > 0 ? params.value / elapsed : 0;
  const rateText = `${formatRate(rate)} ${payload.unit}/s`;
  if (!payload.known)
    return `${payload.label} ${params.value} ${payload.unit} | ${rateText} | ${formatDuration(elapsed)}`;
  const bar = loadBars().Format.BarFormat(params.progress, options);
  const remaining = rate > 0 ? (params.total - params.value) / rate : Number.NaN;
  const eta =
    params.value >= params.total ? `done in ${formatDuration(elapsed)}` : `ETA ${formatDuration(remaining)}`;
  return `${payload.label} ${bar} ${params.value}/${params.total} ${payload.unit} | ${rateText} | ${eta}`;
}
