import { MINILM_DIMENSION } from './pinned.js';
import type { MinilmFiles } from './resolve.js';
import { loadWordPiece, type WordPiece } from './wordpiece.js';

/**
 * all-MiniLM-L6-v2 on TensorFlow.js's WebAssembly backend, in the thread that calls it (a pool worker).
 * The graph pools and normalises itself; its output `Identity:0` is `[batch, 384]` unit vectors.
 * Texts are embedded in sub-batches sorted by token count and padded to the longest (padding is masked,
 * so a text's vector does not depend on its batch: max difference 1.3e-7 measured across batchings).
 */
export interface MinilmEncoder {
  /** Vectors of `texts`, row-major (`texts.length × 384`). */
  encode(texts: readonly string[]): Float32Array;
  readonly wordPiece: WordPiece;
}

interface GraphModelLike {
  execute(inputs: Record<string, unknown>): unknown;
}

/** Sequences per forward pass. The manifest's vectors were computed in batches of 32. */
export const SUB_BATCH = 32;

export async function loadMinilmEncoder(files: MinilmFiles): Promise<MinilmEncoder> {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const converter = await import('@tensorflow/tfjs-converter');
  wasm.setWasmPaths(files.wasmDir);
  if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js wasm backend did not start');
  await tf.ready();
  const json = JSON.parse(new TextDecoder().decode(files.modelJson)) as {
    modelTopology: unknown;
    weightsManifest: { weights: unknown[] }[];
  };
  const weights = files.weights;
  const model = (await converter.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology as never,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as never,
      weightData: weights.buffer.slice(
        weights.byteOffset,
        weights.byteOffset + weights.byteLength,
      ) as ArrayBuffer,
    }),
  })) as unknown as GraphModelLike;
  const wordPiece = await loadWordPiece(files.tokenizer, files.tokenizerConfig);

  function forward(seqs: readonly Int32Array[]): Float32Array {
    const n = seqs.length;
    let width = 0;
    for (const s of seqs) width = Math.max(width, s.length);
    const ids = new Int32Array(n * width);
    const mask = new Int32Array(n * width);
    seqs.forEach((s, i) => {
      ids.set(s, i * width);
      mask.fill(1, i * width, i * width + s.length);
    });
    return tf.tidy(() => {
      const out = model.execute({
        input_ids: tf.tensor2d(ids, [n, width], 'int32'),
        attention_mask: tf.tensor2d(mask, [n, width], 'int32'),
        token_type_ids: tf.zeros([n, width], 'int32'),
      }) as { dataSync(): Float32Array };
      return out.dataSync().slice();
    });
  }

  return Object.freeze({
    wordPiece,
    encode(texts: readonly string[]): Float32Array {
      const seqs = texts.map((t) => wordPiece.ids(t));
      const order = seqs.map((_, i) => i).sort((a, b) => (seqs[a]?.length ?? 0) - (seqs[b]?.length ?? 0));
      const out = new Float32Array(texts.length * MINILM_DIMENSION);
      for (let start = 0; start < order.length; start += SUB_BATCH) {
        const part = order.slice(start, start + SUB_BATCH);
        const vectors = forward(part.map((i) => seqs[i] as Int32Array));
        part.forEach((i, j) => {
          out.set(vectors.subarray(j * MINILM_DIMENSION, (j + 1) * MINILM_DIMENSION), i * MINILM_DIMENSION);
        });
      }
      return out;
    },
  });
}
