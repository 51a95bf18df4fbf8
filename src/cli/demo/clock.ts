import { type Clock, systemClock } from '../../ports/clock.js';

/**
 * The demo's clock: real time plus an offset the demo can move forward, so a rollback window of an hour
 * elapses in an instant. The migration service reads retirement deadlines and traffic times from it;
 * everything else (latencies, the timeline's wall-clock times) stays real.
 */
export class DemoClock implements Clock {
  #offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }

  /** Simulates `ms` of waiting. */
  advance(ms: number): void {
    this.#offsetMs += ms;
  }

  /** Simulated time skipped so far. */
  get skippedMs(): number {
    return this.#offsetMs;
  }
}
