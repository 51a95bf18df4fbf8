import { parentPort } from 'node:worker_threads';
import type { MinilmEncoder } from './encoder.js';
import type { MinilmFiles } from './resolve.js';

/**
 * A pool thread of the live MiniLM model (see `pool.ts`): loads the encoder once, then embeds the texts
 * of each `embed` message. TensorFlow.js's Node greeting and warnings are silenced: the thread shares the
 * process's stdout, which may be carrying `--json` output.
 */
export type MainToMinilm =
  | { readonly type: 'init'; readonly files: MinilmFiles }
  | { readonly type: 'embed'; readonly id: number; readonly texts: readonly string[] };
export type MinilmToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly vectors: Float32Array }
  | { readonly type: 'error'; readonly id: number | null; readonly message: string };

const port = parentPort;
if (port) {
  for (const method of ['log', 'info', 'warn', 'debug'] as const) console[method] = () => {};
  let encoder: MinilmEncoder | undefined;
  port.on('message', async (m: MainToMinilm) => {
    try {
      if (m.type === 'init') {
        const { loadMinilmEncoder } = await import('./encoder.js');
        encoder = await loadMinilmEncoder(m.files);
        port.postMessage({ type: 'ready' } satisfies MinilmToMain);
        return;
      }
      if (!encoder) throw new Error('embed before init');
      const vectors = encoder.encode(m.texts);
      port.postMessage({ type: 'done', id: m.id, vectors } satisfies MinilmToMain, [
        vectors.buffer as ArrayBuffer,
      ]);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      port.postMessage({
        type: 'error',
        id: m.type === 'embed' ? m.id : null,
        message,
      } satisfies MinilmToMain);
    }
  });
}
