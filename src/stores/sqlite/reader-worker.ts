/**
 * Entry point of a backfill reader thread (see `reader-thread.ts`). For one session at a time it opens
 * its own reader of the sources from a `ThreadReaderRecipe`, reads pages in id order, and preprocesses
 * and chunks every live document with the target space's pipeline, staying at most `depth` pages ahead
 * of what the calling thread has taken; between pages it runs the reader's `checkpoint` housekeeping.
 * Deliberately small: everything it computes, the calling thread could compute itself (and does,
 * whenever no thread is available).
 */
import { parentPort } from 'node:worker_threads';
import { sourceChunkTexts } from '../../core/pipeline.js';
import {
  encodePage,
  type MainToReader,
  type ReaderSession,
  type ReaderToMain,
  type ThreadSourceReader,
  type WireChunks,
} from './reader-protocol.js';

const port = parentPort;
if (!port) throw new Error('reader-worker runs only as a worker thread');
const post = (message: ReaderToMain): void => port.postMessage(message);

interface Session {
  readonly id: number;
  readonly options: ReaderSession;
  reader: ThreadSourceReader | null;
  after: string;
  credits: number;
  started: boolean;
  pumping: boolean;
  checkpointed: number;
  /** Checkpoints while the calling thread writes but takes no pages (this thread is ahead). */
  timer: NodeJS.Timeout | null;
}

const CHECKPOINT_MS = 50;

let current: Session | null = null;

async function open(id: number, options: ReaderSession): Promise<void> {
  const session: Session = {
    id,
    options,
    reader: null,
    after: '',
    credits: options.depth,
    started: false,
    pumping: false,
    checkpointed: 0,
    timer: null,
  };
  current = session;
  try {
    const module = (await import(options.recipe.module)) as Record<string, unknown>;
    const factory = module[options.recipe.exportName];
    if (typeof factory !== 'function') throw new Error(`${options.recipe.exportName} is not exported`);
    const reader = (factory as (args: unknown) => ThreadSourceReader)(options.recipe.args);
    if (current !== session) {
      reader.close();
      return;
    }
    session.reader = reader;
    if (reader.checkpoint) {
      // Whatever earlier writes left in the WAL is copied before this thread reports ready (the
      // calling thread reads meanwhile), so that later checkpoints, between pages, stay short.
      reader.checkpoint();
      session.checkpointed = performance.now();
      session.timer = setInterval(() => housekeeping(session), CHECKPOINT_MS * 2);
      session.timer.unref();
    }
    post({ type: 'ready', session: id });
    void pump(session);
  } catch (error) {
    fail(session, error);
  }
}

/** Reads and prepares pages while there is credit, one at a time so that a close is seen in between. */
async function pump(session: Session): Promise<void> {
  if (session.pumping) return;
  session.pumping = true;
  try {
    while (current === session && session.started && session.credits > 0 && session.reader) {
      const { collection, pageSize, pipeline } = session.options;
      const docs = await session.reader.scan(collection, {
        afterId: session.after === '' ? undefined : session.after,
        limit: pageSize,
        includeDeleted: true,
      });
      if (current !== session) return;
      session.credits--;
      if (docs.length === 0) {
        post({ type: 'end', session: session.id });
        return;
      }
      session.after = (docs[docs.length - 1] as { id: string }).id;
      const chunks: WireChunks[] = docs.map((doc) => {
        if (doc.deleted) return null;
        const texts = sourceChunkTexts(pipeline, doc);
        // The common case (one chunk, the text unchanged) is sent once, not twice.
        return texts.length === 1 && texts[0] === doc.text ? 0 : texts;
      });
      post({ type: 'page', session: session.id, page: encodePage(docs, chunks) });
      if (session.credits === 0) housekeeping(session);
      // Let `credit` and `close` messages in before the next page.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    fail(session, error);
  } finally {
    session.pumping = false;
  }
}

/**
 * Runs the reader's checkpoint at most every `CHECKPOINT_MS`, and only while this thread is ahead (no
 * credit left, or not reading): a checkpoint takes tens of milliseconds, which the pages already sent
 * cover, so the calling thread never waits for one.
 */
function housekeeping(session: Session): void {
  const now = performance.now();
  if (!session.reader?.checkpoint || now - session.checkpointed < CHECKPOINT_MS) return;
  if (session.started && session.credits > 0) return;
  session.checkpointed = now;
  session.reader.checkpoint();
}

function fail(session: Session, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (current === session) post({ type: 'error', session: session.id, message });
  close(session.id);
}

function close(id: number): void {
  if (current?.id !== id) return;
  if (current.timer) clearInterval(current.timer);
  current.reader?.close();
  current = null;
}

port.on('message', (message: MainToReader) => {
  if (message.type === 'open') {
    if (current) close(current.id);
    void open(message.session, message.options);
    return;
  }
  if (current?.id !== message.session) return;
  if (message.type === 'close') close(message.session);
  else if (message.type === 'start') {
    current.started = true;
    current.after = message.after;
    void pump(current);
  } else {
    current.credits++;
    void pump(current);
  }
});
post({ type: 'loaded', session: 0 });
