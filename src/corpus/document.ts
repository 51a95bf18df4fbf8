import { ReembedError } from '../core/errors.js';
import type { SourceInput } from '../core/records.js';
import { MAX_SOURCE_ID_LENGTH } from '../core/source-input.js';

/** Where a corpus line came from, for error messages (`file:line`). */
export interface LineLocation {
  readonly file: string;
  readonly line: number;
}

/** `INVALID_INPUT` naming the file and line, so the user can open the file at the right place. */
export function lineError(
  where: LineLocation,
  message: string,
  details: Record<string, unknown> = {},
): ReembedError {
  return new ReembedError('INVALID_INPUT', `${where.file}:${where.line}: ${message}`, {
    details: { file: where.file, line: where.line, ...details },
  });
}

/**
 * Joins a BEIR title and body the way BEIR's dense retrievers see a document: `title. text`. A title
 * that already ends in sentence punctuation is joined with a space only (SciFact titles end with ".").
 */
export function withTitle(title: string, text: string): string {
  const t = title.trim();
  if (t === '') return text;
  if (text.trim() === '') return t;
  return /[.!?:;]$/.test(t) ? `${t} ${text}` : `${t}. ${text}`;
}

/**
 * Turns one parsed corpus line into a source document. Accepts `{ id | _id, text, title?, metadata?,
 * tenant? }` (BEIR's `corpus.jsonl` and reembed's own JSONL); unknown fields are ignored. The document
 * text is `withTitle(title, text)`, and it must not be empty.
 */
export function corpusDocument(value: unknown, where: LineLocation): SourceInput {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw lineError(where, 'expected a JSON object such as {"id": "doc-1", "text": "..."}.', {
      field: 'document',
    });
  }
  const raw = value as Record<string, unknown>;
  const id = idOf(raw.id ?? raw._id, where);
  const text = raw.text ?? '';
  if (typeof text !== 'string')
    throw lineError(where, `"text" of document "${id}" must be a string.`, { field: 'text' });
  const title = raw.title ?? '';
  if (typeof title !== 'string')
    throw lineError(where, `"title" of document "${id}" must be a string.`, { field: 'title' });
  const full = withTitle(title, text);
  if (full.trim() === '') {
    throw lineError(where, `document "${id}" has empty text; give it text (or a title) or remove the line.`, {
      field: 'text',
      id,
    });
  }
  const metadata = raw.metadata ?? {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw lineError(where, `"metadata" of document "${id}" must be a JSON object.`, { field: 'metadata' });
  }
  const tenant = raw.tenant ?? null;
  if (tenant !== null && (typeof tenant !== 'string' || tenant === '')) {
    throw lineError(where, `"tenant" of document "${id}" must be a non-empty string or null.`, {
      field: 'tenant',
    });
  }
  return { id, text: full, metadata: metadata as Record<string, unknown>, tenant: tenant as string | null };
}

function idOf(value: unknown, where: LineLocation): string {
  const id = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof id !== 'string' || id === '') {
    throw lineError(where, 'the document has no id: give it a non-empty "id" (or BEIR "_id").', {
      field: 'id',
    });
  }
  if (id.length > MAX_SOURCE_ID_LENGTH) {
    throw lineError(where, `the id is longer than ${MAX_SOURCE_ID_LENGTH} characters.`, { field: 'id' });
  }
  return id;
}

/** Parses one JSONL line; a syntax error becomes `INVALID_INPUT` at that line. */
export function parseJsonLine(line: string, where: LineLocation): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    throw lineError(
      where,
      `not valid JSON (${(error as Error).message}); each line must hold one JSON object.`,
      {
        field: 'json',
      },
    );
  }
}
