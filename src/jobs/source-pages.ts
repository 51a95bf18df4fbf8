import type { SourceDocument } from '../core/records.js';
import type { SpaceSpec } from '../core/space.js';
import type { ReaderThreadReader, SourceRepository } from '../ports/sources.js';

/** What happened to the reader thread of a pass (emitted by the runner as `reader-thread`). */
export type ReaderThreadEvent =
  | { readonly state: 'started'; readonly after: string }
  | { readonly state: 'failed'; readonly after: string; readonly reason: string };

export interface SourcePagesOptions {
  readonly collection: string;
  readonly pageSize: number;
  /**
   * Size of the first page read on this thread (default `pageSize`): a small one lets the first batch
   * start early. The pages after it double in size up to `pageSize`, so each is read while the batches
   * of the one before are written (a full page right after a small one would leave the writers idle
   * while it is read).
   */
  readonly firstPageSize?: number;
  /** Source id the pass resumes after ('' from the beginning). */
  readonly after: string;
  /** Read and chunk on a reader thread with this pipeline when the repository offers one; null: never. */
  readonly threadPipeline: Pick<SpaceSpec, 'preprocessing' | 'chunker'> | null;
  /**
   * How long the first page may wait for a starting thread instead of being read here. Default: a
   * moment for a pooled thread (it only opens a reader), none for a new one (it loads meanwhile).
   */
  readonly threadWaitMs?: number;
  readonly onThread?: (event: ReaderThreadEvent) => void;
}

export type ReaderThreadMode = 'auto' | 'on' | 'off';

/** `readerThread: 'auto'` starts a reader thread for passes of at least this many pages. */
export const THREAD_MIN_PAGES = 4;
/** `readerThread: 'on'` waits this long at most for a reader thread to load. */
const THREAD_WAIT_MS = 30_000;

/** The scan-phase pages of a pass, with a reader thread as `mode` says (see `BackfillOptions.readerThread`). */
export function passPages(
  sources: SourceRepository,
  options: {
    readonly collection: string;
    readonly pageSize: number;
    readonly firstPageSize?: number;
    readonly after: string;
    /** Sources the pass has left to account for. */
    readonly remaining: number;
    readonly mode: ReaderThreadMode;
    readonly pipeline: Pick<SpaceSpec, 'preprocessing' | 'chunker'>;
    readonly onThread?: (event: ReaderThreadEvent) => void;
  },
): SourcePages {
  const { mode, remaining, pageSize } = options;
  const threaded = mode === 'on' || (mode === 'auto' && remaining >= THREAD_MIN_PAGES * pageSize);
  return new SourcePages(sources, {
    collection: options.collection,
    pageSize,
    ...(options.firstPageSize === undefined ? {} : { firstPageSize: options.firstPageSize }),
    after: options.after,
    threadPipeline: threaded ? options.pipeline : null,
    ...(mode === 'on' ? { threadWaitMs: THREAD_WAIT_MS } : {}),
    ...(options.onThread ? { onThread: options.onThread } : {}),
  });
}

/** True when the repository can read a pass's pages on a reader thread (SQLite; not a networked database). */
export function offersReaderThread(sources: SourceRepository): boolean {
  return (sources.readerThreads?.() ?? null) !== null;
}

/**
 * Starts a reader thread ahead of a pass over `collection` that will take one — the repository offers
 * reader threads and the collection has pages enough for `auto` — so that the pass finds the thread's
 * code loaded. Resolves true when a thread was started or one is idle already.
 */
export async function prewarmReaderThread(sources: SourceRepository, collection: string): Promise<boolean> {
  const threads = sources.readerThreads?.() ?? null;
  if (!threads) return false;
  const { live, deleted } = await sources.count(collection);
  if (live + deleted < THREAD_MIN_PAGES * MIN_PAGE_SIZE) return false;
  threads.prewarm();
  return true;
}

/** The smallest page size of a pass (`BackfillRunner` reads pages of `max(MIN_PAGE_SIZE, batchSize * 8)`). */
export const MIN_PAGE_SIZE = 256;

/**
 * Pages a reader thread may read ahead of the pass: enough to cover scheduling jitter and its WAL
 * checkpoints (tens of milliseconds each), bounded for memory.
 */
export const THREAD_DEPTH = 3;
/** How long the first page waits for a pooled (already loaded) reader thread to open its reader. */
const WARM_WAIT_MS = 10;

/**
 * The id-ordered pages of a pass's scan phase (tombstones included), one after another; an empty page
 * ends the scan. When the source repository offers `readerThreads`, a reader thread is started and,
 * once it is ready (it loads while the first pages are read here), takes over reading, preprocessing
 * and chunking, so the calling thread only embeds and writes. The pages are the same either way; if the
 * thread fails, reading continues here after the last page handed out.
 */
export class SourcePages {
  readonly #sources: SourceRepository;
  readonly #options: SourcePagesOptions;
  #after: string;
  #thread: ReaderThreadReader | null = null;
  #streaming = false;
  /** No (more) reader threads: none offered, or one failed. */
  #inThreadOnly: boolean;
  #ended = false;
  /** Size of the next page read on this thread (see `firstPageSize`). */
  #limit: number;
  /** The page after the last one handed out, being read here. */
  #ahead: Promise<readonly SourceDocument[]> | null = null;

  constructor(sources: SourceRepository, options: SourcePagesOptions) {
    this.#sources = sources;
    this.#options = options;
    this.#after = options.after;
    this.#limit = Math.min(options.firstPageSize ?? options.pageSize, options.pageSize);
    this.#inThreadOnly = options.threadPipeline === null || !offersReaderThread(sources);
  }

  /** True while a reader thread reads the pages. */
  get threaded(): boolean {
    return this.#streaming;
  }

  /**
   * The next page; empty once the scan has ended. Calls must not overlap. Read here (not on a reader
   * thread), the page after it is requested as soon as this one arrives, so it is read while this
   * page's heads are looked up and its batches embedded and written.
   */
  async next(): Promise<readonly SourceDocument[]> {
    if (this.#ended) return [];
    if (!this.#thread && !this.#inThreadOnly) this.#spawn();
    const ahead = this.#ahead;
    this.#ahead = null;
    let page: readonly SourceDocument[];
    if (ahead) page = await ahead;
    else {
      const thread = this.#thread;
      if (thread && !this.#streaming) {
        const wait = this.#options.threadWaitMs ?? (thread.warm ? WARM_WAIT_MS : 0);
        if (wait > 0) await thread.whenReady(wait);
      }
      page = await this.#read();
    }
    if (page.length === 0) {
      this.#ended = true;
      this.suspend();
    } else {
      this.#after = (page[page.length - 1] as SourceDocument).id;
      // Read ahead here unless a reader thread takes over (it reads ahead itself).
      if (!this.#streaming && !this.#thread?.ready) this.#ahead = this.#readAhead();
    }
    return page;
  }

  #readAhead(): Promise<readonly SourceDocument[]> {
    const ahead = this.#scanHere();
    ahead.catch(() => undefined); // awaited by the next `next()`, which sees the failure
    return ahead;
  }

  /**
   * Stops the reader thread (a paused or stopped pass should not hold one); the next `next()` starts
   * another after the last page handed out.
   */
  suspend(): void {
    this.#thread?.close();
    this.#thread = null;
    this.#streaming = false;
  }

  #spawn(): void {
    const threads = this.#sources.readerThreads?.() ?? null;
    const pipeline = this.#options.threadPipeline;
    this.#thread =
      threads && pipeline
        ? threads.open({
            collection: this.#options.collection,
            pageSize: this.#options.pageSize,
            depth: THREAD_DEPTH,
            pipeline,
          })
        : null;
    if (!this.#thread) this.#inThreadOnly = true;
  }

  async #read(): Promise<readonly SourceDocument[]> {
    const thread = this.#thread;
    if (thread && (this.#streaming || thread.ready)) {
      if (!this.#streaming) {
        thread.start(this.#after);
        this.#streaming = true;
        this.#options.onThread?.({ state: 'started', after: this.#after });
      }
      try {
        return await thread.take();
      } catch (error) {
        // Closed by `suspend` (the pass stopped while this page was awaited), or failed.
        if (thread.failed) this.#giveUp(error);
      }
    } else if (thread?.failed) this.#giveUp(thread.failure);
    return this.#scanHere();
  }

  /** The page after `#after`, read on this thread. */
  async #scanHere(): Promise<readonly SourceDocument[]> {
    const after = this.#after;
    const limit = this.#limit;
    this.#limit = Math.min(limit * 2, this.#options.pageSize);
    // An idle turn first, so that a read started during a batch does not run inside it.
    await new Promise((resolve) => setImmediate(resolve));
    return this.#sources.scan(this.#options.collection, {
      afterId: after === '' ? undefined : after,
      limit,
      includeDeleted: true,
    });
  }

  /** The thread is an optimisation: after a failure, read here from the last page handed out. */
  #giveUp(error: unknown): void {
    this.suspend();
    this.#inThreadOnly = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.#options.onThread?.({ state: 'failed', after: this.#after, reason });
  }
}
