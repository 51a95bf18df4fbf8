import { Worker } from 'node:worker_threads';

/**
 * Peak process RSS per phase, sampled every 50 ms by a worker thread — the same method as the LangChain
 * peer's harness, so the two peak figures are comparable (sampling continues while the main thread is
 * busy in synchronous work such as a SQLite transaction).
 */
export class RssSampler {
  readonly #peak = new Int32Array(new SharedArrayBuffer(4)); // KiB
  readonly #worker: Worker;

  constructor() {
    this.#worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const a = new Int32Array(workerData);
       setInterval(() => {
         const kb = Math.round(process.memoryUsage.rss() / 1024);
         if (kb > Atomics.load(a, 0)) Atomics.store(a, 0, kb);
       }, 50);`,
      { eval: true, workerData: this.#peak.buffer },
    );
    this.#worker.unref();
  }

  /** Starts a new phase: the peak restarts from the current RSS. */
  reset(): void {
    Atomics.store(this.#peak, 0, Math.round(process.memoryUsage.rss() / 1024));
  }

  /** Highest RSS since `reset`, in MB (one decimal). */
  peakMb(): number {
    const kb = Math.max(Atomics.load(this.#peak, 0), Math.round(process.memoryUsage.rss() / 1024));
    return Number((kb / 1024).toFixed(1));
  }

  stop(): Promise<number> {
    return this.#worker.terminate();
  }
}
