import type { Space } from '../core/space.js';

export type InputType = 'query' | 'document';

/** A retry an embedder made inside one `embed` call (e.g. after a 429 or a 5xx), reported as it happens. */
export interface EmbedRetry {
  readonly attempt: number;
  readonly delayMs: number;
  /** HTTP status of the failed attempt, or null for a network error or timeout. */
  readonly status: number | null;
  readonly reason: string;
}

export interface EmbedOptions {
  readonly inputType: InputType;
  readonly signal?: AbortSignal;
  /**
   * Called for every retry the embedder makes within this call, so a caller (the backfill) counts the
   * provider's failures it absorbed — not only the ones that reached it. Optional for embedders that
   * never retry.
   */
  readonly onRetry?: (retry: EmbedRetry) => void;
}

/**
 * Turns texts into vectors of exactly one space. Implementations apply the space's input-type prefix,
 * truncation and normalisation; the caller chunks and preprocesses (see `core/pipeline.ts`) and validates
 * every returned vector before anything is written.
 */
export interface Embedder {
  readonly space: Space;
  /** Preferred number of texts per call (the backfill runner batches by this and by tokens). */
  readonly maxBatchSize: number;
  embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]>;
  /** Token count as the model counts it (or a close estimate), for cost estimates and token rate limits. */
  countTokens(text: string): number;
  /** What `countTokens` counts with, and whether it is the model's own count (absent: an estimate). */
  readonly tokenizer?: { readonly name: string; readonly exact: boolean };
  close?(): Promise<void>;
}

/** Builds the embedder of a space (local models, HTTP providers ...). */
export interface EmbedderFactory {
  create(space: Space): Promise<Embedder>;
}
