/**
 * The resume point of a pass whose batches complete out of order (concurrency > 1): only the highest
 * cursor below which every batch has committed may be checkpointed, so a resume repeats at most the
 * batches that were in flight (invariant 6) and never skips one.
 */
export class ContiguousCursor {
  #next = 0;
  #cursor: string;
  #processed: number;
  readonly #done = new Map<number, { cursor: string; scanned: number }>();

  constructor(cursor: string, processed: number) {
    this.#cursor = cursor;
    this.#processed = processed;
  }

  get cursor(): string {
    return this.#cursor;
  }

  /** Sources of the pass covered by the checkpointable prefix. */
  get processed(): number {
    return this.#processed;
  }

  /** Batches completed beyond the contiguous prefix (they will be repeated by a resume). */
  get ahead(): number {
    return this.#done.size;
  }

  /**
   * The checkpoint that completing `batches` (together, in any order) would produce, or null when the
   * prefix would not move because an earlier batch is still open.
   */
  preview(
    batches: readonly { seq: number; cursor: string; scanned: number }[],
  ): { cursor: string; processed: number } | null {
    const extra = new Map(batches.map((b) => [b.seq, b]));
    if (!extra.has(this.#next)) return null;
    let last = this.#cursor;
    let processed = this.#processed;
    for (let s = this.#next; ; s++) {
      const entry = extra.get(s) ?? this.#done.get(s);
      if (!entry) break;
      last = entry.cursor;
      processed += entry.scanned;
    }
    return { cursor: last, processed };
  }

  /** Records `seq` as committed and advances the prefix as far as it goes. */
  complete(seq: number, cursor: string, scanned: number): void {
    this.#done.set(seq, { cursor, scanned });
    while (this.#done.has(this.#next)) {
      const entry = this.#done.get(this.#next) as { cursor: string; scanned: number };
      this.#done.delete(this.#next);
      this.#cursor = entry.cursor;
      this.#processed += entry.scanned;
      this.#next++;
    }
  }
}
