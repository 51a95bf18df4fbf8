import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { attachChunks } from '../core/pipeline.js';
import type { SourceDocument } from '../core/records.js';
import type { MainToReader, ReaderToMain, ReaderWorkerData } from './reader-protocol.js';

type Waiter = { resolve: (page: readonly SourceDocument[]) => void; reject: (error: Error) => void };

/**
 * The calling thread's handle on a reader thread (`reader-worker.ts`): pages arrive in id order,
 * preprocessed and chunked (`attachChunks`), at most `depth` ahead of `take()`. The thread never keeps
 * the process alive, and any failure of it — to start, to load, to read — is reported by `failed` and a
 * rejected `take()`, so the caller can carry on reading on its own thread.
 */
export class ReaderThread {
  readonly #worker: Worker;
  readonly #data: ReaderWorkerData;
  readonly #pages: (readonly SourceDocument[])[] = [];
  #waiter: Waiter | null = null;
  #ready = false;
  #failure: Error | null = null;
  #closed = false;

  private constructor(worker: Worker, data: ReaderWorkerData) {
    this.#worker = worker;
    this.#data = data;
    worker.unref();
    worker.on('message', (m: ReaderToMain) => this.#receive(m));
    worker.on('error', (e) => this.#fail(e));
    worker.on('exit', () => this.#fail(new Error('the reader thread exited')));
  }

  /** Starts a reader thread; null when threads cannot run this code here (see `workerEntry`). */
  static spawn(data: ReaderWorkerData): ReaderThread | null {
    const entry = workerEntry();
    if (!entry) return null;
    try {
      return new ReaderThread(new Worker(entry.code, { eval: true, workerData: data }), data);
    } catch {
      return null;
    }
  }

  /** True once the thread has opened its reader and waits for `start`. */
  get ready(): boolean {
    return this.#ready && this.#failure === null && !this.#closed;
  }

  get failed(): boolean {
    return this.#failure !== null;
  }

  /** Starts reading pages after source id `after` ('' for the beginning). */
  start(after: string): void {
    this.#send({ type: 'start', after });
  }

  /** The next page; empty at the end of the collection. Rejects if the thread failed. */
  take(): Promise<readonly SourceDocument[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    const page = this.#pages.shift();
    if (page) {
      if (page.length > 0) this.#send({ type: 'credit' });
      return Promise.resolve(page);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = {
        resolve: (p) => {
          if (p.length > 0) this.#send({ type: 'credit' });
          resolve(p);
        },
        reject,
      };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#send({ type: 'stop' });
    // A thread still loading would only see `stop` once loaded; it holds nothing worth waiting for.
    if (!this.#ready) void this.#worker.terminate();
    this.#waiter?.reject(new Error('the reader thread was closed'));
    this.#waiter = null;
  }

  #send(message: MainToReader): void {
    if (!this.#closed || message.type === 'stop') this.#worker.postMessage(message);
  }

  #receive(message: ReaderToMain): void {
    if (message.type === 'ready') this.#ready = true;
    else if (message.type === 'error') this.#fail(new Error(message.message));
    else if (message.type === 'end') this.#deliver([]);
    else {
      const { pipeline } = this.#data;
      const docs = message.docs.map((doc, i) => {
        Object.freeze(doc.metadata);
        Object.freeze(doc);
        const chunks = message.chunks[i];
        if (chunks === 0) attachChunks(doc, pipeline, [doc.text]);
        else if (chunks) attachChunks(doc, pipeline, chunks);
        return doc;
      });
      this.#deliver(docs);
    }
  }

  #deliver(page: readonly SourceDocument[]): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = null;
      waiter.resolve(page);
    } else this.#pages.push(page);
  }

  #fail(error: Error): void {
    if (process.env.RB_DEBUG) console.error("reader thread failed", error);
    if (this.#failure || this.#closed) return;
    this.#failure = error;
    this.#pages.length = 0;
    this.#waiter?.reject(error);
    this.#waiter = null;
    void this.#worker.terminate();
  }
}

/**
 * How to start `reader-worker`: compiled (`.js`) it loads directly; from TypeScript sources (tsx, vitest)
 * the thread first registers tsx's loader, which Node 20 does not pass on to worker threads. Null when
 * neither works here (e.g. TypeScript sources without tsx installed).
 */
function workerEntry(): { code: string } | null {
  const here = import.meta.url;
  if (!here.startsWith('file:')) return null;
  const ext = here.endsWith('.ts') ? 'ts' : 'js';
  const entry = JSON.stringify(new URL(`./reader-worker.${ext}`, here).href);
  if (ext === 'js') return { code: `import(${entry});` };
  let api: string;
  try {
    const loader = createRequire(here).resolve('tsx/esm');
    api = pathToFileURL(loader.replace(/index\.mjs$/, 'api/index.mjs')).href;
  } catch {
    return null;
  }
  // Where the loader is inherited (newer Node) the entry loads at once; register only when it is not,
  // and retry under another URL (the module map remembers the failed load of the first).
  const retry = JSON.stringify(new URL('./reader-worker.ts?tsx', here).href);
  return {
    code: `import(${entry}).catch((e) => {
      if (e?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
      return import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${retry}); });
    });`,
  };
}
