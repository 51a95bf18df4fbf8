/**
 * Entry point of the backfill's reader thread (see `reader-thread.ts`): opens its own read-only view of
 * the sources from a `ThreadReaderRecipe`, then reads pages in id order and preprocesses and chunks
 * every live document with the target space's pipeline, staying at most `depth` pages ahead of what the
 * calling thread has taken. Deliberately small: everything it computes, the calling thread could compute
 * itself (and does, whenever this thread is not available).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { documentChunks } from '../core/pipeline.js';
import type { ThreadSourceReader } from '../ports/sources.js';
import type { MainToReader, ReaderToMain, ReaderWorkerData, WireChunks } from './reader-protocol.js';

const port = parentPort;
if (!port) throw new Error('reader-worker.ts runs only as a worker thread');
const data = workerData as ReaderWorkerData;
const post = (message: ReaderToMain): void => port.postMessage(message);

let reader: ThreadSourceReader | null = null;
let after = '';
let credits = data.depth;
let started = false;
let stopped = false;
let pumping = false;

async function open(): Promise<void> {
  try {
    const module = (await import(data.recipe.module)) as Record<string, unknown>;
    const factory = module[data.recipe.exportName];
    if (typeof factory !== 'function') throw new Error(`${data.recipe.exportName} is not exported`);
    reader = (factory as (args: unknown) => ThreadSourceReader)(data.recipe.args);
    post({ type: 'ready' });
  } catch (error) {
    fail(error);
  }
}

/** Reads and prepares pages while there is credit; one page at a time, so a stop is seen between pages. */
async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    while (started && !stopped && credits > 0 && reader) {
      const docs = await reader.scan(data.collection, {
        afterId: after === '' ? undefined : after,
        limit: data.pageSize,
        includeDeleted: true,
      });
      if (stopped) return;
      credits--;
      if (docs.length === 0) {
        post({ type: 'end' });
        return;
      }
      after = (docs[docs.length - 1] as { id: string }).id;
      const chunks: WireChunks[] = docs.map((doc) => {
        if (doc.deleted) return null;
        const texts = documentChunks(data.pipeline, doc.id, doc.text).map((c) => c.text);
        // The common case (one chunk, the text unchanged) is sent once, not twice.
        return texts.length === 1 && texts[0] === doc.text ? 0 : texts;
      });
      post({ type: 'page', docs, chunks });
      // Let `credit` and `stop` messages in before the next page.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    fail(error);
  } finally {
    pumping = false;
  }
}

function fail(error: unknown): void {
  const e = error as { message?: unknown; code?: unknown };
  post({
    type: 'error',
    message: typeof e?.message === 'string' ? e.message : String(error),
    code: typeof e?.code === 'string' ? e.code : null,
  });
  stop();
}

function stop(): void {
  stopped = true;
  reader?.close();
  reader = null;
  port?.close();
}

port.on('message', (message: MainToReader) => {
  if (message.type === 'stop') stop();
  else if (message.type === 'start') {
    started = true;
    after = message.after;
    void pump();
  } else {
    credits++;
    void pump();
  }
});

await open();
