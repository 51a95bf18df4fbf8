import type { SourceDocument } from '../core/records.js';
import type { SpaceSpec } from '../core/space.js';
import type { SourceRepository } from '../ports/sources.js';
import { ReaderThread } from './reader-thread.js';

export interface SourcePagesOptions {
  readonly collection: string;
  readonly pageSize: number;
  /** Source id the pass resumes after ('' from the beginning). */
  readonly after: string;
  /** Read and chunk on a reader thread with this pipeline when the repository offers one; null: never. */
  readonly threadPipeline: Pick<SpaceSpec, 'preprocessing' | 'chunker'> | null;
}

/** Pages the reader thread may read ahead of the pass: enough to cover jitter, bounded for memory. */
const THREAD_DEPTH = Number(process.env.RB_DEPTH ?? 4);
/** How long the first page waits for a pooled (already started) reader thread to open its reader. */
const WARM_WAIT_MS = 100;

/**
 * The id-ordered pages of a pass's scan phase (tombstones included), one after another; an empty page
 * ends the scan. When the source repository offers a `threadReader`, a reader thread is started and,
 * once it is ready (it loads while the first pages are read here), takes over reading and also
 * preprocesses and chunks every page, so the calling thread only embeds and writes. Pages are the same
 * either way; if the thread fails, reading continues here after the last page handed out.
 */
export class SourcePages {
  readonly #sources: SourceRepository;
  readonly #options: SourcePagesOptions;
  #after: string;
  #thread: ReaderThread | null = null;
  #streaming = false;
  /** No (more) reader threads: none offered, or one failed. */
  #inThreadOnly: boolean;
  #ended = false;

  constructor(sources: SourceRepository, options: SourcePagesOptions) {
    this.#sources = sources;
    this.#options = options;
    this.#after = options.after;
    this.#inThreadOnly = options.threadPipeline === null || typeof sources.threadReader !== 'function';
  }

  /** True while a reader thread reads the pages (for tests and diagnostics). */
  get threaded(): boolean {
    return this.#streaming;
  }

  async next(): Promise<readonly SourceDocument[]> {
    if (this.#ended) return [];
    if (!this.#thread && !this.#inThreadOnly) this.#spawn();
    // A pooled thread is ready within a few milliseconds: worth waiting for, unlike one still starting.
    if (this.#thread?.warm && !this.#streaming) await this.#thread.whenReady(WARM_WAIT_MS);
    const page = await this.#read();
    if (page.length === 0) {
      this.#ended = true;
      this.suspend();
    } else this.#after = (page[page.length - 1] as SourceDocument).id;
    return page;
  }

  /**
   * Stops the reader thread (a paused or stopped pass should not hold one); the next `next()` starts a
   * new one after the last page handed out.
   */
  suspend(): void {
    this.#thread?.close();
    this.#thread = null;
    this.#streaming = false;
  }

  #spawn(): void {
    const recipe = this.#sources.threadReader?.() ?? null;
    const pipeline = this.#options.threadPipeline;
    this.#thread =
      recipe && pipeline
        ? ReaderThread.open({
            recipe,
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
        if (process.env.RB_DEBUG)
          console.error('reader thread takes over after', this.#after, performance.now().toFixed(0));
        this.#streaming = true;
      }
      try {
        return await thread.take();
      } catch {
        this.#giveUp();
      }
    } else if (thread?.failed) this.#giveUp();
    // An idle turn first, so that a prefetch started during a batch does not run inside it.
    await new Promise((resolve) => setImmediate(resolve));
    return this.#sources.scan(this.#options.collection, {
      afterId: this.#after === '' ? undefined : this.#after,
      limit: this.#options.pageSize,
      includeDeleted: true,
    });
  }

  /** The thread is an optimisation: after a failure, read here from the last page handed out. */
  #giveUp(): void {
    this.suspend();
    this.#inThreadOnly = true;
  }
}
