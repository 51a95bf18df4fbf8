import type { Reembed } from '../app/reembed.js';
import type { TrafficRepository } from '../ports/traffic.js';
import { TrafficRecorder, type TrafficRecorderOptions } from './traffic-recorder.js';

export interface TrafficRecording {
  readonly recorder: TrafficRecorder;
  /** Detaches the observer and flushes what is buffered. Call before `app.close()`. */
  stop(): Promise<void>;
}

/**
 * Starts recording the app's query traffic (per namespace counts, latency, mixed-version responses) into
 * the backend's traffic repository, flushing in the background. Returns null when the backend keeps no
 * traffic statistics.
 *
 * @example
 * const recording = recordTraffic(app);
 * // ... app.search(...) ...
 * await recording?.stop();
 */
export function recordTraffic(
  app: Reembed,
  options: TrafficRecorderOptions & { readonly repository?: TrafficRepository } = {},
): TrafficRecording | null {
  const repository = options.repository ?? app.backend.traffic;
  if (!repository) return null;
  const clock = options.clock ?? app.backend.clock;
  const recorder = new TrafficRecorder(repository, { ...options, ...(clock && { clock }) }).start();
  const detach = app.queries.observe(recorder);
  return {
    recorder,
    async stop() {
      detach();
      await recorder.close();
    },
  };
}
