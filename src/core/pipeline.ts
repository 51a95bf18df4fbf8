import { chunkText } from './chunker.js';
import { preprocess } from './preprocess.js';
import type { SpaceSpec } from './space.js';
import { forEachTokenSpan } from './tokenize.js';

/**
 * The text pipeline of a space, in the order it runs:
 * 1. `preprocess` (spec.preprocessing) — documents and queries alike;
 * 2. `chunkText` (spec.chunker) — documents only; chunk ids are `${sourceId}#${index}`;
 * 3. `applyInput` — truncation (spec.truncation) and the input-type prefix (spec.inputType), applied by
 *    embedders right before encoding, so callers always hand embedders pipeline output.
 * Every step is pure and deterministic: the same spec and text give the same chunks everywhere.
 */
export interface DocumentChunk {
  readonly chunkId: string;
  readonly index: number;
  readonly text: string;
}

type PipelineSpec = Pick<SpaceSpec, 'preprocessing' | 'chunker'>;

/** `documentChunks(space.spec, 'doc-7', text)` → `[{ chunkId: 'doc-7#0', index: 0, text }, ...]`. */
export function documentChunks(spec: PipelineSpec, sourceId: string, text: string): DocumentChunk[] {
  const clean = preprocess(text, spec.preprocessing);
  return chunkText(clean, spec.chunker).map((c) =>
    Object.freeze({ chunkId: chunkIdOf(sourceId, c.index), index: c.index, text: c.text }),
  );
}

/*
 * Chunk texts of documents computed ahead of time — e.g. by the backfill's reader thread, which
 * preprocesses and chunks pages while the calling thread embeds and writes. `sourceChunkTexts` uses them
 * only for the same pipeline (preprocessing and chunker); keyed weakly by the document object, so they
 * are collected with it, and a copy of a document (maybe with another text) does not carry them.
 */
/** Per pipeline key: document → its chunk texts, or `SAME` when the one chunk is the text itself. */
const precomputed = new Map<string, WeakMap<object, readonly string[] | typeof SAME>>();
const SAME = 0;
const pipelineKeys = new WeakMap<object, string>();

function pipelineKey(spec: PipelineSpec): string {
  let key = pipelineKeys.get(spec);
  if (key === undefined) {
    key = JSON.stringify([spec.preprocessing, spec.chunker]);
    pipelineKeys.set(spec, key);
  }
  return key;
}

/**
 * Records the chunk texts `documentChunks(spec, doc.id, doc.text)` produced for `doc` elsewhere (they
 * must come from that function, with an equal spec), so `sourceChunkTexts` need not compute them again.
 * `texts` omitted: one chunk, the document's text unchanged (the common case, stored without a copy).
 */
export function attachChunks(
  doc: { readonly id: string },
  spec: PipelineSpec,
  texts?: readonly string[],
): void {
  const key = pipelineKey(spec);
  let byDoc = precomputed.get(key);
  if (byDoc === undefined) {
    byDoc = new WeakMap();
    precomputed.set(key, byDoc);
  }
  byDoc.set(doc, texts ?? SAME);
}

/**
 * The chunk texts of a source document — `documentChunks(spec, doc.id, doc.text)`, whose chunk `i` has id
 * `chunkIdOf(doc.id, i)` — reusing texts attached with `attachChunks` for the same pipeline.
 */
export function sourceChunkTexts(
  spec: PipelineSpec,
  doc: { readonly id: string; readonly text: string },
): readonly string[] {
  const ready = precomputed.get(pipelineKey(spec))?.get(doc);
  if (ready === SAME) return [doc.text];
  if (ready !== undefined) return ready;
  return chunkText(preprocess(doc.text, spec.preprocessing), spec.chunker).map((c) => c.text);
}

export function chunkIdOf(sourceId: string, index: number): string {
  return `${sourceId}#${index}`;
}

/** The text a query is embedded from: preprocessed like documents, never chunked. */
export function queryText(spec: Pick<SpaceSpec, 'preprocessing'>, text: string): string {
  return preprocess(text, spec.preprocessing);
}

/**
 * What an embedder encodes for one pipeline text: the text truncated to `spec.truncation.maxTokens` word
 * tokens (see `core/tokenize.ts`; side `end` keeps the beginning, `start` keeps the end), then prefixed
 * with `spec.inputType[inputType]`. The prefix does not count against `maxTokens`. Returns the input
 * itself when there is nothing to do (no allocation on the hot path).
 */
export function applyInput(
  spec: Pick<SpaceSpec, 'truncation' | 'inputType'>,
  text: string,
  inputType: 'query' | 'document',
): string {
  const prefix = spec.inputType[inputType];
  const truncated = truncateTokens(text, spec.truncation.maxTokens, spec.truncation.side);
  return prefix === '' ? truncated : prefix + truncated;
}

/** Cuts `text` at a token boundary so that at most `maxTokens` word tokens remain. */
export function truncateTokens(text: string, maxTokens: number | null, side: 'end' | 'start'): string {
  if (maxTokens === null) return text;
  if (maxTokens <= 0) return '';
  const starts: number[] = [];
  const ends: number[] = [];
  forEachTokenSpan(text, (start, end) => {
    starts.push(start);
    ends.push(end);
  });
  if (starts.length <= maxTokens) return text;
  if (side === 'end') return text.slice(0, ends[maxTokens - 1] as number);
  return text.slice(starts[starts.length - maxTokens] as number);
}
