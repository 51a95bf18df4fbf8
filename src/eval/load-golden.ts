import { basename, extname, join } from 'node:path';
import { ReembedError } from '../core/errors.js';
import { type GoldenSet, GoldenSetBuilder, type SourceLocation } from '../core/golden.js';
import { forEachLine, isDirectory, isFile } from './lines.js';

/**
 * Golden set loaders. Two layouts:
 * - a BEIR directory: `queries.jsonl` (`{"_id", "text"}` per line) and judgments in `qrels.tsv` or
 *   `qrels/<split>.tsv` (`query-id  corpus-id  score`, header line optional; TREC `qid 0 docid rel` also
 *   read); queries without judgments are skipped and counted;
 * - a JSONL file: `{"id"?: "q1", "query": "...", "relevant": ["doc", ...] | {"doc": grade}}` per line;
 *   a missing id becomes the line number. An empty `relevant` is an error.
 * Every error names the file and the line.
 */
export interface LoadGoldenOptions {
  /** Name of the set (default: directory or file name). */
  readonly name?: string;
  /** BEIR split: reads `qrels/<split>.tsv`. Default: `qrels.tsv`, else `qrels/test.tsv`. */
  readonly split?: string;
  /** Every judged doc id must be in this set (e.g. the collection's source ids). */
  readonly knownDocIds?: { has(id: string): boolean };
  /** BEIR only: check judged doc ids against the ids of `corpus.jsonl` in the same directory. */
  readonly checkCorpus?: boolean;
}

/**
 * Loads a golden set from a BEIR directory or a JSONL file.
 *
 * @example
 * const golden = await loadGoldenSet('../shared/datasets/scifact', { checkCorpus: true });
 * golden.queries.length // 300
 */
export async function loadGoldenSet(path: string, options: LoadGoldenOptions = {}): Promise<GoldenSet> {
  if (await isDirectory(path)) return loadBeirGoldenSet(path, options);
  if (await isFile(path)) return loadJsonlGoldenSet(path, options);
  throw new ReembedError(
    'NOT_FOUND',
    `Golden set ${path} not found: give a BEIR directory (queries.jsonl + qrels.tsv) or a .jsonl file.`,
    { details: { path } },
  );
}

function lineError(where: SourceLocation, message: string): ReembedError {
  return new ReembedError('INVALID_INPUT', `${where.file}:${where.line}: ${message}`, {
    details: { ...where },
  });
}

function parseJsonObject(line: string, where: SourceLocation): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw lineError(
      where,
      `not valid JSON (${(error as Error).message}); each line must be one JSON object.`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw lineError(where, 'expected a JSON object on this line.');
  }
  return value as Record<string, unknown>;
}

function idOf(value: unknown, field: string, where: SourceLocation): string {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw lineError(where, `"${field}" must be a non-empty string or a number.`);
}

async function resolveQrelsFile(dir: string, split: string | undefined): Promise<string> {
  const candidates = split
    ? [join(dir, 'qrels', `${split}.tsv`)]
    : [join(dir, 'qrels.tsv'), join(dir, 'qrels', 'test.tsv')];
  for (const file of candidates) if (await isFile(file)) return file;
  throw new ReembedError('NOT_FOUND', `No judgments in ${dir}: looked for ${candidates.join(', ')}.`, {
    details: { dir, candidates },
  });
}

/** Loads a BEIR-layout directory (see the module doc). */
export async function loadBeirGoldenSet(dir: string, options: LoadGoldenOptions = {}): Promise<GoldenSet> {
  const builder = new GoldenSetBuilder(options.name ?? basename(dir));
  const queriesFile = join(dir, 'queries.jsonl');
  await forEachLine(queriesFile, (line, lineNumber) => {
    if (line.trim() === '') return;
    const where = { file: queriesFile, line: lineNumber };
    const obj = parseJsonObject(line, where);
    if (typeof obj.text !== 'string') throw lineError(where, '"text" must be a string.');
    builder.addQuery(idOf(obj._id, '_id', where), obj.text, where);
  });

  const qrelsFile = await resolveQrelsFile(dir, options.split);
  let judgments = 0;
  let firstContentLine = true;
  await forEachLine(qrelsFile, (line, lineNumber) => {
    if (line.trim() === '') return;
    const where = { file: qrelsFile, line: lineNumber };
    const isFirst = firstContentLine;
    firstContentLine = false;
    const row = parseQrelsLine(line, where, isFirst);
    if (row === null) return;
    builder.addJudgment(row.queryId, row.docId, row.grade, where);
    judgments++;
  });
  if (judgments === 0) {
    throw new ReembedError(
      'INVALID_INPUT',
      `${qrelsFile} holds no judgment lines; expected "query-id<TAB>corpus-id<TAB>score".`,
      {
        details: { file: qrelsFile },
      },
    );
  }

  let knownDocIds = options.knownDocIds;
  if (options.checkCorpus) knownDocIds = await readCorpusIds(join(dir, 'corpus.jsonl'));
  return builder.build(knownDocIds ? { knownDocIds } : {});
}

/** One qrels row; `null` for the header line. BEIR (3 columns, tab-separated) or TREC (4 columns). */
function parseQrelsLine(
  line: string,
  where: SourceLocation,
  mayBeHeader: boolean,
): { queryId: string; docId: string; grade: number } | null {
  let fields = line.split('\t').map((f) => f.trim());
  if (fields.length === 1) fields = line.trim().split(/\s+/);
  let queryId: string;
  let docId: string;
  let gradeText: string;
  if (fields.length === 3) [queryId, docId, gradeText] = fields as [string, string, string];
  else if (fields.length === 4) [queryId, , docId, gradeText] = fields as [string, string, string, string];
  else {
    throw lineError(
      where,
      `expected 3 columns (query-id, corpus-id, score) or 4 (TREC), found ${fields.length}.`,
    );
  }
  const grade = gradeText.trim() === '' ? Number.NaN : Number(gradeText);
  if (!Number.isFinite(grade)) {
    if (mayBeHeader) return null;
    throw lineError(where, `score "${gradeText}" is not a number.`);
  }
  if (queryId === '' || docId === '') throw lineError(where, 'empty query id or corpus id.');
  return { queryId, docId, grade };
}

/** Loads the simple JSONL format (see the module doc). */
export async function loadJsonlGoldenSet(file: string, options: LoadGoldenOptions = {}): Promise<GoldenSet> {
  const builder = new GoldenSetBuilder(options.name ?? basename(file, extname(file)));
  let lines = 0;
  await forEachLine(file, (line, lineNumber) => {
    if (line.trim() === '') return;
    lines++;
    const where = { file, line: lineNumber };
    const obj = parseJsonObject(line, where);
    const id = obj.id === undefined ? String(lineNumber) : idOf(obj.id, 'id', where);
    if (typeof obj.query !== 'string') throw lineError(where, '"query" must be a string.');
    builder.addQuery(id, obj.query, where);
    const relevant = obj.relevant;
    const entries: [string, number][] = [];
    if (Array.isArray(relevant)) {
      for (const docId of relevant) entries.push([idOf(docId, 'relevant[]', where), 1]);
    } else if (typeof relevant === 'object' && relevant !== null) {
      for (const [docId, grade] of Object.entries(relevant)) {
        if (typeof grade !== 'number') throw lineError(where, `grade of "${docId}" must be a number.`);
        entries.push([docId, grade]);
      }
    } else {
      throw lineError(where, '"relevant" must be a list of doc ids or an object of doc id → grade.');
    }
    if (entries.length === 0)
      throw lineError(where, `query "${id}" has no relevant documents; judge at least one.`);
    for (const [docId, grade] of entries) builder.addJudgment(id, docId, grade, where);
  });
  if (lines === 0)
    throw new ReembedError('INVALID_INPUT', `${file} is empty; expected one JSON object per line.`, {
      details: { file },
    });
  return builder.build(options.knownDocIds ? { knownDocIds: options.knownDocIds } : {});
}

/** The `_id`s of a BEIR `corpus.jsonl`, streamed (only the ids are kept). */
export async function readCorpusIds(file: string): Promise<Set<string>> {
  const ids = new Set<string>();
  await forEachLine(file, (line, lineNumber) => {
    if (line.trim() === '') return;
    const where = { file, line: lineNumber };
    ids.add(idOf(parseJsonObject(line, where)._id, '_id', where));
  });
  return ids;
}
