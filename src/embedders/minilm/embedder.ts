import { availableParallelism } from 'node:os';
import { ReembedError } from '../../core/errors.js';
import { defineSpace, describeSpace, type Space } from '../../core/space.js';
import type { Embedder, EmbedOptions } from '../../ports/embedder.js';
import { throwIfAborted } from '../common.js';
import { MINILM_DIMENSION } from './pinned.js';
import { MinilmPool } from './pool.js';
import { loadMinilmFiles } from './resolve.js';
import { type MinilmOptions, minilmSpec } from './space.js';
import { loadWordPiece } from './wordpiece.js';

export { type MinilmOptions, minilmSpace, minilmSpec } from './space.js';

export interface MinilmEmbedOptions extends EmbedOptions {
  /** Called after each finished task with texts done so far and the total, for progress bars. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface MinilmEmbedder extends Embedder {
  readonly threads: number;
  embed(texts: readonly string[], options: MinilmEmbedOptions): Promise<Float32Array[]>;
  /** Stops the model threads; later calls fail with `ABORTED`. */
  close(): Promise<void>;
}

/** Texts per `embed` call a backfill hands over: enough to keep every thread busy, short enough to checkpoint often. */
const MINILM_MAX_BATCH = 64;
const DEFAULT_TASK_SIZE = 16;

/**
 * The live all-MiniLM-L6-v2 embedder: the pinned TensorFlow.js graph on the wasm backend, in worker
 * threads. Loading it checks the optional packages (`DEPENDENCY_MISSING` names the install command) and
 * every model file's sha256 (`INTEGRITY_FAILED`). Heavy modules load in the threads only; this module
 * loads the tokenizer (for `countTokens`).
 */
export async function createMinilmEmbedder(
  space: Space,
  options: MinilmOptions = {},
): Promise<MinilmEmbedder> {
  const expected = defineSpace(space.name, minilmSpec());
  if (expected.fingerprint !== space.fingerprint) {
    throw new ReembedError(
      'INVALID_SPEC',
      `Space ${describeSpace(space)} is not the space of the live MiniLM model (${expected.fingerprint}): its model, ` +
        'revision, truncation or text rules differ. Define it with minilmSpace() or from the stored vectors of this model.',
      { details: { space: space.name, expected: expected.fingerprint, actual: space.fingerprint } },
    );
  }
  const threads = positive(
    options.threads ?? space.runtime.options.threads,
    Math.min(2, availableParallelism()),
    space,
    'threads',
  );
  const taskSize = positive(
    options.taskSize ?? space.runtime.options.taskSize,
    DEFAULT_TASK_SIZE,
    space,
    'taskSize',
  );
  const files = await loadMinilmFiles();
  const wordPiece = await loadWordPiece(files.tokenizer, files.tokenizerConfig);
  const pool = new MinilmPool(files, threads);
  return Object.freeze({
    space,
    threads,
    maxBatchSize: MINILM_MAX_BATCH,
    countTokens: (text: string) => wordPiece.count(text),
    async embed(texts: readonly string[], embedOptions: MinilmEmbedOptions): Promise<Float32Array[]> {
      throwIfAborted(embedOptions.signal);
      // Similar lengths share a task, so each forward pass pads little.
      const order = texts
        .map((_, i) => i)
        .sort((a, b) => (texts[a] as string).length - (texts[b] as string).length);
      const out: Float32Array[] = new Array(texts.length);
      let done = 0;
      const tasks: Promise<void>[] = [];
      for (let start = 0; start < order.length; start += taskSize) {
        const part = order.slice(start, start + taskSize);
        tasks.push(
          pool
            .embed(
              part.map((i) => texts[i] as string),
              embedOptions.signal,
            )
            .then((rows) => {
              part.forEach((i, j) => {
                out[i] = rows.slice(j * MINILM_DIMENSION, (j + 1) * MINILM_DIMENSION);
              });
              done += part.length;
              embedOptions.onProgress?.(done, texts.length);
            }),
        );
      }
      await settleAll(tasks);
      return out;
    },
    close: () => pool.close(),
  });
}

/** Like Promise.all, but waits for every task before rejecting, so no task outlives the call unobserved. */
async function settleAll(tasks: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function positive(value: unknown, fallback: number, space: Space, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ReembedError(
      'INVALID_SPEC',
      `Space "${space.name}": runtime.options.${field} must be a positive integer.`,
      {
        details: { space: space.name, field: `runtime.options.${field}`, value: String(value) },
      },
    );
  }
  return value;
}
