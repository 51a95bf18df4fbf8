import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ReembedError } from '../core/errors.js';
import type { SourceInput } from '../core/records.js';
import { corpusDocument, lineError, parseJsonLine } from './document.js';

/**
 * Streaming corpus readers. Documents are read line by line (readline) and handed out in batches, so a
 * corpus of any size is ingested in bounded memory.
 *
 * Error contract: a malformed line (bad JSON, missing id, empty text, an id repeated inside a batch)
 * throws `INVALID_INPUT` naming the file and line, and the batch being assembled is dropped — batches
 * already yielded were complete and valid, the bad one never reaches the caller. `ingest` therefore
 * writes every batch before the bad line and nothing of the batch that holds it.
 */
export interface CorpusBatch {
  readonly file: string;
  readonly docs: readonly SourceInput[];
  /** 1-based line number of each document in `file` (same order as `docs`). */
  readonly lines: readonly number[];
  /** Documents yielded before this batch. */
  readonly offset: number;
}

export interface ReadCorpusOptions {
  /** Documents per batch (default 256). */
  readonly batchSize?: number;
  /**
   * Skip documents that fail validation (empty text, missing id, malformed JSON) instead of rejecting
   * their batch; each skipped line is reported here. Real collections have such lines (Cranfield's
   * documents 471 and 995 are empty in the original), and a demo or a bulk load may prefer to go on.
   */
  readonly onInvalid?: (error: ReembedError) => void;
}

export const DEFAULT_BATCH_SIZE = 256;

/**
 * A corpus path is a JSONL file, or a directory in BEIR layout (`corpus.jsonl` inside). Returns the file to
 * read; `NOT_FOUND` with what was looked for otherwise.
 */
export async function resolveCorpusFile(path: string): Promise<string> {
  const info = await stat(path).catch(() => null);
  if (info?.isFile()) return path;
  if (info?.isDirectory()) {
    const file = join(path, 'corpus.jsonl');
    if ((await stat(file).catch(() => null))?.isFile()) return file;
    throw new ReembedError(
      'NOT_FOUND',
      `${path} is a directory without corpus.jsonl: give a JSONL file or a BEIR directory.`,
      {
        details: { path, looked: file },
      },
    );
  }
  throw new ReembedError(
    'NOT_FOUND',
    `Corpus ${path} does not exist: give a JSONL file or a BEIR directory.`,
    {
      details: { path },
    },
  );
}

/**
 * Yields validated batches of source documents from a JSONL file or BEIR directory.
 *
 * @example
 * for await (const batch of readCorpus('../shared/datasets/scifact', { batchSize: 500 })) {
 *   await app.ingest('docs', batch.docs, { lines: batch.lines });
 * }
 */
export async function* readCorpus(
  path: string,
  options: ReadCorpusOptions = {},
): AsyncGenerator<CorpusBatch> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ReembedError('INVALID_INPUT', `Batch size must be a positive integer, got ${batchSize}.`, {
      details: { field: 'batchSize', value: batchSize },
    });
  }
  const file = await resolveCorpusFile(path);
  const input = createReadStream(file, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let docs: SourceInput[] = [];
  let lines: number[] = [];
  let firstLineOf = new Map<string, number>();
  let offset = 0;
  let lineNumber = 0;
  try {
    for await (const raw of rl) {
      lineNumber++;
      const line = lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (line.trim() === '') continue;
      const where = { file, line: lineNumber };
      let doc: SourceInput;
      try {
        doc = corpusDocument(parseJsonLine(line, where), where);
      } catch (error) {
        if (!options.onInvalid || !(error instanceof ReembedError) || error.code !== 'INVALID_INPUT')
          throw error;
        options.onInvalid(error);
        continue;
      }
      const first = firstLineOf.get(doc.id);
      if (first !== undefined) {
        throw lineError(
          where,
          `id "${doc.id}" already appears at line ${first} of the same batch; keep one line per document.`,
          {
            field: 'id',
            id: doc.id,
            firstLine: first,
          },
        );
      }
      firstLineOf.set(doc.id, lineNumber);
      docs.push(doc);
      lines.push(lineNumber);
      if (docs.length === batchSize) {
        const batch: CorpusBatch = { file, docs, lines, offset };
        offset += docs.length;
        docs = [];
        lines = [];
        firstLineOf = new Map();
        yield batch;
      }
    }
  } catch (error) {
    throw withBatchContext(error, offset, lines[0]);
  } finally {
    rl.close();
    input.destroy();
  }
  if (docs.length > 0) yield { file, docs, lines, offset };
}

/** Adds which batch was rejected to a line error, so callers can say what was (not) written. */
function withBatchContext(error: unknown, offset: number, batchFirstLine: number | undefined): unknown {
  if (!(error instanceof ReembedError) || error.code !== 'INVALID_INPUT') return error;
  return new ReembedError(error.code, error.message, {
    cause: error.cause,
    details: {
      ...error.details,
      documentsBefore: offset,
      batchFirstLine: batchFirstLine ?? error.details.line,
    },
  });
}

/** Reads every document's text (e.g. to fit an LSA model); memory grows with the corpus. */
export async function readCorpusTexts(path: string): Promise<string[]> {
  const texts: string[] = [];
  for await (const batch of readCorpus(path, { batchSize: 1_000 }))
    for (const d of batch.docs) texts.push(d.text);
  return texts;
}
