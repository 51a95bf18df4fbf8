import { Worker } from 'node:worker_threads';
import type { SourceDocument } from '../../core/records.js';
import { workerEntryCode } from '../../platform/worker-entry.js';
import type { ReaderThreadReader, ReaderThreadSession, ReaderThreads } from '../../ports/sources.js';
import {
  decodePage,
  type MainToReader,
  type ReaderSession,
  type ReaderToMain,
  type ThreadReaderRecipe,
} from './reader-protocol.js';

type Waiter = { resolve: (page: readonly SourceDocument[]) => void; reject: (error: Error) => void };

/** An idle reader thread is kept this long for the next session, then stopped. */
const IDLE_MS = 30_000;
/** Young-generation limit of a reader thread's heap (see `PooledThread.#spawn`). */
const YOUNG_GENERATION_MB = 8;

/**
 * The SQLite source repository's reader threads (`SourceRepository.readerThreads`): sessions that open
 * their own connection from `recipe` (`openThreadSourceReader`), all served by one process-wide pool.
 */
export function readerThreadsFor(recipe: ThreadReaderRecipe): ReaderThreads {
  return Object.freeze({
    open: (session: ReaderThreadSession) => ReaderThread.open({ ...session, recipe }),
    prewarm: () => ReaderThread.prewarm(),
  });
}

/**
 * The calling thread's side of one reader session (`reader-worker.ts`): pages arrive in id order,
 * preprocessed and chunked (`attachChunks`), at most `depth` ahead of `take()`. Threads are pooled —
 * one is kept idle for the next session, since starting one costs far more than a session. A thread keeps
 * the process alive only while it serves a session; an idle one never does, and stops after `IDLE_MS` or
 * when the last app using the pool closes (`usePool`). Any failure — to start, to load, to read — shows as `failed` and a rejected
 * `take()`, so the caller can carry on reading on its own thread.
 */
export class ReaderThread implements ReaderThreadReader {
  static #sessions = 0;
  static #users = 0;
  readonly #thread: PooledThread;
  readonly #id = ++ReaderThread.#sessions;
  readonly #options: ReaderSession;
  readonly #pages: (readonly SourceDocument[])[] = [];
  #waiter: Waiter | null = null;
  #ready = false;
  #onReady: (() => void) | null = null;
  #failure: Error | null = null;
  #closed = false;

  /** The thread has loaded its code already (a pooled one): opening a reader takes a moment only. */
  readonly warm: boolean;

  private constructor(thread: PooledThread, options: ReaderSession) {
    this.#thread = thread;
    this.warm = thread.loaded;
    this.#options = options;
    thread.session = this;
    this.#send({ type: 'open', session: this.#id, options });
  }

  /**
   * Starts a thread to wait in the pool, unless one is there already, so that a backfill about to start
   * finds its code loaded (loading it is measured by bench/reader-thread.ts).
   * An unused one stops after the pool's idle time, like any idle thread.
   */
  static prewarm(): void {
    PooledThread.prewarm();
  }

  /**
   * Registers a user of the pool (a `Reembed` app) and returns its release: once the last user has
   * released it, the idle thread is stopped, and the release resolves when it has exited — so that a
   * closed app leaves no thread behind. Threads serving a session are their pass's to release.
   */
  static usePool(): () => Promise<void> {
    ReaderThread.#users++;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (--ReaderThread.#users === 0) await PooledThread.stopIdle();
    };
  }

  /** The pool's idle thread, if any: whether it has loaded its code (for tests and diagnostics). */
  static idleThread(): { readonly loaded: boolean } | null {
    return PooledThread.idle();
  }

  /** Opens a session on an idle or new thread; null when threads cannot run this code here. */
  static open(options: ReaderSession): ReaderThread | null {
    const thread = PooledThread.acquire();
    return thread ? new ReaderThread(thread, options) : null;
  }

  get id(): number {
    return this.#id;
  }

  /** True once the thread has opened its reader and waits for `start`. */
  get ready(): boolean {
    return this.#ready && this.#failure === null && !this.#closed;
  }

  get failed(): boolean {
    return this.#failure !== null;
  }

  get failure(): Error | null {
    return this.#failure;
  }

  /** Resolves true once ready, false on failure, close or after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.#ready || this.#failure || this.#closed) return Promise.resolve(this.ready);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#onReady = null;
        resolve(this.ready);
      };
      this.#onReady = done;
    });
  }

  /** Starts reading pages after source id `after` ('' for the beginning). */
  start(after: string): void {
    this.#send({ type: 'start', session: this.#id, after });
  }

  /** The next page; empty at the end of the collection. Rejects if the session failed. */
  take(): Promise<readonly SourceDocument[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    const page = this.#pages.shift();
    if (page) return Promise.resolve(this.#taken(page));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve: (p) => resolve(this.#taken(p)), reject };
    });
  }

  /** Ends the session; the thread goes back to the pool. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#send({ type: 'close', session: this.#id });
    this.#waiter?.reject(new Error('the reader session was closed'));
    this.#waiter = null;
    this.#onReady?.();
    this.#pages.length = 0;
    this.#thread.release(this);
  }

  /** Called by the thread for this session's messages. */
  receive(message: ReaderToMain): void {
    if (this.#closed) return;
    if (message.type === 'ready') {
      this.#ready = true;
      this.#thread.loaded = true;
      this.#onReady?.();
    } else if (message.type === 'error') this.fail(new Error(message.message));
    else if (message.type === 'end') this.#deliver([]);
    else if (message.type === 'page') this.#deliver(decodePage(message.page, this.#options.pipeline));
  }

  fail(error: Error): void {
    if (this.#failure || this.#closed) return;
    this.#failure = error;
    this.#pages.length = 0;
    this.#waiter?.reject(error);
    this.#waiter = null;
    this.#onReady?.();
  }

  #taken(page: readonly SourceDocument[]): readonly SourceDocument[] {
    if (page.length > 0) this.#send({ type: 'credit', session: this.#id });
    return page;
  }

  #deliver(page: readonly SourceDocument[]): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = null;
      waiter.resolve(page);
    } else this.#pages.push(page);
  }

  #send(message: MainToReader): void {
    this.#thread.post(message);
  }
}

/** A reader thread, serving one session at a time. */
class PooledThread {
  static #idle: PooledThread | null = null;
  readonly #worker: Worker;
  session: ReaderThread | null = null;
  /** The thread has loaded its code (a session became ready). */
  loaded = false;
  /** A thread failed to load: this process cannot run them (say, TypeScript without tsx), so stop trying. */
  static #unavailable = false;
  #broken = false;
  #terminating = false;
  #idleTimer: NodeJS.Timeout | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (m: ReaderToMain) => {
      if (m.type === 'loaded') this.loaded = true;
      else if (this.session?.id === m.session) this.session.receive(m);
    });
    worker.on('error', (e) => this.#break(e));
    worker.on('exit', () => this.#break(new Error('the reader thread exited')));
    // After the listeners: adding a 'message' listener to a Worker refs its message port again, and a
    // ref'd port kept every process that had started a thread alive until the idle timer (issue 13).
    worker.unref();
  }

  /** Takes the idle thread or starts one; it keeps the process alive while its session runs. */
  static acquire(): PooledThread | null {
    if (PooledThread.#unavailable) return null;
    const idle = PooledThread.#idle;
    let thread: PooledThread | null;
    if (idle && !idle.#broken) {
      PooledThread.#idle = null;
      if (idle.#idleTimer) clearTimeout(idle.#idleTimer);
      thread = idle;
    } else thread = PooledThread.#spawn();
    // A pass awaiting its next page has nothing else keeping the event loop alive.
    if (thread) thread.#worker.ref();
    return thread;
  }

  static idle(): { readonly loaded: boolean } | null {
    const idle = PooledThread.#idle;
    return idle && !idle.#broken ? { loaded: idle.loaded } : null;
  }

  static prewarm(): void {
    if (PooledThread.#unavailable || (PooledThread.#idle && !PooledThread.#idle.#broken)) return;
    const thread = PooledThread.#spawn();
    if (thread) thread.#park();
  }

  static #spawn(): PooledThread | null {
    const entry = workerEntry();
    if (!entry) return null;
    try {
      // A small young generation: the thread's garbage is short-lived pages, and larger semi-spaces
      // would only grow the thread's share of a backfill's resident memory (bench/backfill.ts part C).
      return new PooledThread(
        new Worker(entry, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }),
      );
    } catch {
      return null;
    }
  }

  post(message: MainToReader): void {
    if (!this.#broken) this.#worker.postMessage(message);
  }

  release(session: ReaderThread): void {
    if (this.session !== session) return;
    this.session = null;
    if (!this.#broken) this.#park();
  }

  /**
   * Stops the idle thread, if any, and resolves once it has exited: a process that is done needs no
   * thread (`Reembed.close()` calls it; threads with a session are their pass's to release).
   */
  static async stopIdle(): Promise<void> {
    const idle = PooledThread.#idle;
    if (!idle) return;
    PooledThread.#idle = null;
    if (idle.#idleTimer) clearTimeout(idle.#idleTimer);
    await idle.#stop();
  }

  /**
   * Makes this thread the pool's idle one (stopping the previous), until the idle time runs out. An idle
   * thread never keeps the process alive.
   */
  #park(): void {
    this.#worker.unref();
    const previous = PooledThread.#idle;
    PooledThread.#idle = this;
    if (previous) void previous.#stop();
    this.#idleTimer = setTimeout(() => {
      if (PooledThread.#idle === this) PooledThread.#idle = null;
      void this.#stop();
    }, IDLE_MS);
    this.#idleTimer.unref();
  }

  #break(error: Error): void {
    if (this.#broken) return;
    this.#broken = true;
    if (!this.loaded && !this.#terminating) PooledThread.#unavailable = true;
    if (PooledThread.#idle === this) PooledThread.#idle = null;
    this.session?.fail(error);
    void this.#stop();
  }

  /** Ends the thread on purpose (its `exit` then is no sign that threads cannot load here). */
  async #stop(): Promise<void> {
    this.#terminating = true;
    this.#worker.unref();
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    await this.#worker.terminate().catch(() => undefined);
  }
}

/** The code that starts `reader-worker` in a thread (see `workerEntryCode`). */
function workerEntry(): string | null {
  return workerEntryCode(import.meta.url, 'reader-worker');
}
