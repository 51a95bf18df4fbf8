import { Worker } from 'node:worker_threads';
import { ReembedError } from '../../core/errors.js';
import { workerEntryCode } from '../../platform/worker-entry.js';
import type { MinilmFiles } from './resolve.js';
import type { MainToMinilm, MinilmToMain } from './worker.js';

/**
 * Worker threads running the live model, one model copy each. TensorFlow.js's wasm backend cannot use
 * threads under Node (its multithread flag is off there), so the cores are used by running one single-
 * threaded model per thread and handing each a separate batch. Threads start on first use (about 1-2 s
 * to load the model), are unref'd while idle so they never keep a finished process alive, and a thread
 * whose batch is aborted is terminated (a forward pass cannot be interrupted) and replaced on demand.
 */
interface Task {
  readonly id: number;
  readonly texts: readonly string[];
  readonly resolve: (vectors: Float32Array) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

class PoolThread {
  readonly worker: Worker;
  ready = false;
  task: Task | null = null;

  constructor(worker: Worker) {
    this.worker = worker;
  }
}

let nextTaskId = 1;

export class MinilmPool {
  readonly size: number;
  readonly #files: MinilmFiles;
  readonly #threads = new Set<PoolThread>();
  #queue: Task[] = [];
  #closed = false;

  constructor(files: MinilmFiles, size: number) {
    this.#files = files;
    this.size = Math.max(1, Math.floor(size));
  }

  /** Vectors of `texts` (row-major, 384 per text), computed on the next free thread. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array> {
    if (this.#closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(abortedError());
    return new Promise<Float32Array>((resolve, reject) => {
      const task: Task = {
        id: nextTaskId++,
        texts,
        signal,
        resolve: (v) => {
          signal?.removeEventListener('abort', task.onAbort);
          resolve(v);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', task.onAbort);
          reject(e);
        },
        onAbort: () => this.#abort(task),
      };
      signal?.addEventListener('abort', task.onAbort, { once: true });
      this.#queue.push(task);
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.splice(0)) task.reject(closedError());
    const threads = [...this.#threads];
    this.#threads.clear();
    for (const t of threads) t.task?.reject(closedError());
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  #pump(): void {
    for (const thread of this.#threads) {
      if (this.#queue.length === 0) break;
      if (!thread.ready || thread.task !== null) continue;
      const task = this.#queue.shift() as Task;
      thread.task = task;
      thread.worker.ref();
      thread.worker.postMessage({ type: 'embed', id: task.id, texts: task.texts } satisfies MainToMinilm);
    }
    let loading = 0;
    for (const thread of this.#threads) if (!thread.ready) loading++;
    while (this.#queue.length > loading && this.#threads.size < this.size) {
      this.#spawn();
      loading++;
    }
  }

  #spawn(): void {
    const worker = new Worker(workerEntry(), { eval: true });
    const thread = new PoolThread(worker);
    this.#threads.add(thread);
    worker.on('message', (m: MinilmToMain) => this.#receive(thread, m));
    worker.on('error', (error) => this.#lose(thread, error));
    worker.on('exit', () => this.#lose(thread, new Error('the model thread exited')));
    worker.postMessage({ type: 'init', files: this.#files } satisfies MainToMinilm);
  }

  #receive(thread: PoolThread, m: MinilmToMain): void {
    if (m.type === 'ready') {
      thread.ready = true;
    } else if (m.type === 'error' && m.id === null) {
      // The model did not load: it will not load on another thread either.
      const error = new ReembedError(
        'EMBEDDER_FAILED',
        `The live MiniLM model failed to load: ${m.message}`,
        {
          details: { provider: 'minilm' },
        },
      );
      this.#threads.delete(thread);
      void thread.worker.terminate();
      for (const task of this.#queue.splice(0)) task.reject(error);
      return;
    } else if (thread.task && thread.task.id === m.id) {
      const task = thread.task;
      thread.task = null;
      if (m.type === 'done') task.resolve(m.vectors);
      else task.reject(new ReembedError('EMBEDDER_FAILED', `The live MiniLM model failed: ${m.message}`));
    }
    if (thread.task === null) thread.worker.unref();
    this.#pump();
  }

  #lose(thread: PoolThread, error: Error): void {
    if (!this.#threads.delete(thread)) return;
    if (!thread.ready) {
      // A thread that dies before its model loaded would die again: fail the waiting calls, do not respawn.
      const failed = new ReembedError(
        'EMBEDDER_FAILED',
        `The live MiniLM model thread stopped while loading: ${error.message}`,
        { details: { provider: 'minilm' }, cause: error },
      );
      for (const task of this.#queue.splice(0)) task.reject(failed);
      return;
    }
    thread.task?.reject(
      new ReembedError('EMBEDDER_TRANSIENT', `The live MiniLM model thread stopped: ${error.message}`, {
        cause: error,
      }),
    );
    thread.task = null;
    if (!this.#closed) this.#pump();
  }

  #abort(task: Task): void {
    const queued = this.#queue.indexOf(task);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
    } else {
      const thread = [...this.#threads].find((t) => t.task === task);
      if (!thread) return;
      this.#threads.delete(thread);
      thread.task = null;
      void thread.worker.terminate();
    }
    task.reject(abortedError());
    this.#pump();
  }
}

function abortedError(): ReembedError {
  return new ReembedError(
    'ABORTED',
    'Embedding was aborted by the caller; nothing was returned for this batch.',
  );
}

function closedError(): ReembedError {
  return new ReembedError(
    'ABORTED',
    'The live MiniLM model was closed; nothing was returned for this batch.',
  );
}

/** The code that starts `worker` in a thread (see `workerEntryCode`). */
function workerEntry(): string {
  const code = workerEntryCode(import.meta.url, 'worker');
  if (code === null)
    throw new Error('the MiniLM worker cannot start here: TypeScript sources need tsx installed');
  return code;
}
