import { createReadStream } from 'node:fs';
import type { OnDeleted } from '../app/ingest.js';
import type { Reembed } from '../app/reembed.js';
import { ReembedError } from '../core/errors.js';
import type { CorpusBatch } from '../corpus/reader.js';
import type { ProgressTask } from '../ports/progress.js';

export interface IngestTotals {
  readonly documents: number;
  readonly changed: number;
  readonly unchanged: number;
  /** Previously deleted documents made live again, and the first of their ids. */
  readonly restored: number;
  readonly restoredIds: readonly string[];
  /** Previously deleted documents left deleted (`--deleted skip`). */
  readonly skippedDeleted: number;
  readonly batches: number;
  /** Per namespace: sources written / skipped and records written. */
  readonly namespaces: Readonly<Record<string, { written: number; skipped: number; records: number }>>;
  readonly seconds: number;
}

/**
 * Ingests batches in order, one `app.ingest` call (all-or-nothing) per batch. When a batch fails — a bad
 * line found by the reader, or a failure while embedding or writing — earlier batches stay written and
 * the error is re-thrown with how many documents were ingested before it and which batch was refused.
 */
export async function ingestBatches(
  app: Reembed,
  collection: string,
  batches: AsyncIterable<CorpusBatch> | Iterable<CorpusBatch>,
  task: ProgressTask,
  options: { onDeleted?: OnDeleted } = {},
): Promise<IngestTotals> {
  const started = performance.now();
  let documents = 0;
  let changed = 0;
  let unchanged = 0;
  let restored = 0;
  let skippedDeleted = 0;
  const restoredIds: string[] = [];
  let count = 0;
  const namespaces: Record<string, { written: number; skipped: number; records: number }> = {};
  let current: CorpusBatch | undefined;
  try {
    for await (const batch of batches) {
      current = batch;
      const r = await app.ingest(collection, batch.docs, {
        lines: batch.lines,
        ...(options.onDeleted ? { onDeleted: options.onDeleted } : {}),
      });
      documents += r.received;
      changed += r.changed;
      unchanged += r.unchanged;
      restored += r.restored;
      skippedDeleted += r.skippedDeleted;
      for (const id of r.restoredIds) if (restoredIds.length < 20) restoredIds.push(id);
      count++;
      for (const [ns, n] of Object.entries(r.namespaces)) {
        const t = namespaces[ns] ?? { written: 0, skipped: 0, records: 0 };
        namespaces[ns] = {
          written: t.written + n.written,
          skipped: t.skipped + n.skipped,
          records: t.records + n.records,
        };
      }
      task.advance(batch.docs.length);
      current = undefined;
    }
  } catch (error) {
    throw stoppedAt(error, documents, current);
  } finally {
    task.end();
  }
  return {
    documents,
    changed,
    unchanged,
    restored,
    restoredIds,
    skippedDeleted,
    batches: count,
    namespaces,
    seconds: (performance.now() - started) / 1000,
  };
}

function stoppedAt(error: unknown, ingested: number, batch: CorpusBatch | undefined): unknown {
  if (!(error instanceof ReembedError)) return error;
  const firstLine = batch?.lines[0] ?? (error.details.batchFirstLine as number | undefined);
  const refused =
    firstLine !== undefined
      ? `the batch starting at line ${firstLine} was not written`
      : 'nothing of the failing batch was written';
  // An invalid line of the corpus (e.g. a document with neither text nor title, as Cranfield's 471 and 995).
  const badLine = error.code === 'INVALID_INPUT' && typeof error.details.line === 'number';
  return new ReembedError(
    error.code,
    `${error.message.replace(/\.?$/, '.')} Stopped: ${ingested} document(s) before it were ingested; ${refused}. ` +
      `Fix the input${badLine ? ' (or pass --skip-invalid to ingest every valid line and list the invalid ones)' : ''} ` +
      'and run ingest again: documents already ingested and unchanged are skipped.',
    {
      cause: error,
      details: {
        ...error.details,
        ingested,
        ...(firstLine !== undefined ? { batchFirstLine: firstLine } : {}),
      },
    },
  );
}

/** Counts newline-terminated lines of a file in one streaming pass (for a progress total). */
export async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1] as number;
  }
  return last === 10 ? lines : lines + 1;
}
