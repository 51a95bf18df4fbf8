import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ReembedError } from '../../core/errors.js';
import { withTitle } from '../../corpus/document.js';
import { textKey } from './lookup.js';
import type { StoredManifest, StoredSet } from './manifest.js';

export { textKey } from './lookup.js';

/**
 * The texts the stored vectors were computed from, recovered from the BEIR source files the manifest
 * names (`source_files_sha256`: corpus.jsonl, queries.jsonl) — looked for in `sourceDir`, else in the
 * vectors folder and its two parents (the layout <dataset>/embeddings/<model>/), and used only when
 * their sha256 is the recorded one (other texts would map to the wrong vectors).
 *
 * Each held text maps by its sha256 to the row of its id. A document maps twice, by two texts of the same
 * source line: the text the manifest says was embedded (`title + ". " + text`), and the text `reembed
 * ingest` makes of that line (`withTitle`: `title. text`, one period when the title already ends in one),
 * so a backfill of an ingested BEIR corpus finds every document's stored vector.
 */
export interface SourceTexts {
  /** sha256(text) → id, per set. */
  readonly byHash: Readonly<Record<StoredSet, ReadonlyMap<string, string>>>;
  /** Where each set's texts came from, or why there are none. */
  readonly origin: Readonly<Record<StoredSet, string>>;
}

const SOURCE_FILE: Record<StoredSet, string> = { corpus: 'corpus.jsonl', queries: 'queries.jsonl' };

/** The manifest's document rule: `title + ". " + text` when the title is a non-empty string, else text. */
export function manifestDocumentText(title: unknown, text: string): string {
  return typeof title === 'string' && title !== '' ? `${title}. ${text}` : text;
}

type DocumentRule = (title: unknown, text: string) => string;

/**
 * The document rules reembed can replay: `title + ". " + text …` (BEIR's dense retrievers; the default
 * when the manifest states none) and `text` (the body alone). Undefined for any other rule.
 */
export function documentRuleOf(manifest: StoredManifest): DocumentRule | undefined {
  const rule = manifest.text_rules?.document;
  if (rule === undefined || rule.startsWith('title + ". " + text')) return manifestDocumentText;
  if (rule.trim() === 'text') return (_title, text) => text;
  return undefined;
}

export async function loadSourceTexts(
  dir: string,
  manifest: StoredManifest,
  sets: readonly StoredSet[],
  sourceDir: string | undefined,
): Promise<SourceTexts> {
  const byHash: Record<StoredSet, Map<string, string>> = { corpus: new Map(), queries: new Map() };
  const origin: Record<StoredSet, string> = { corpus: 'not held', queries: 'not held' };
  const recorded = manifest.source_files_sha256 ?? {};
  const candidates = sourceDir ? [sourceDir] : [dir, dirname(dir), dirname(dirname(dir))];
  const rule = documentRuleOf(manifest);
  for (const set of sets) {
    const name = SOURCE_FILE[set];
    if (set === 'corpus' && !rule) {
      origin[set] =
        `reembed cannot replay the document rule "${manifest.text_rules?.document}"; use "title + ". " + text" or "text"`;
      continue;
    }
    const expected = recorded[name];
    if (!expected) {
      origin[set] = `the manifest records no sha256 for ${name} under "source_files_sha256"`;
      continue;
    }
    const found = await findSource(candidates, name, expected);
    if (!found.bytes) {
      if (sourceDir && found.mismatch) {
        throw new ReembedError(
          'INTEGRITY_FAILED',
          `${found.mismatch} is not the ${name} the stored vectors were computed from (sha256 differs from the manifest's). ` +
            'Give the source folder the vectors were computed from, or recompute the vectors for these texts.',
          { details: { path: found.mismatch, expected } },
        );
      }
      origin[set] = found.mismatch
        ? `${found.mismatch} differs from the ${name} the vectors were computed from (sha256)`
        : `no ${name} with the recorded sha256 in ${candidates.join(', ')}`;
      continue;
    }
    origin[set] = found.path;
    indexLines(found.bytes.toString('utf8'), set, byHash[set], found.path, rule ?? manifestDocumentText);
  }
  return { byHash, origin };
}

async function findSource(
  dirs: readonly string[],
  name: string,
  expected: string,
): Promise<{ path: string; bytes?: Buffer; mismatch?: string }> {
  let mismatch: string | undefined;
  for (const d of dirs) {
    const path = join(d, name);
    const bytes = await readFile(path).catch(() => null);
    if (!bytes) continue;
    if (createHash('sha256').update(bytes).digest('hex') === expected) return { path, bytes };
    mismatch ??= path;
  }
  return { path: '', ...(mismatch ? { mismatch } : {}) };
}

function indexLines(
  content: string,
  set: StoredSet,
  out: Map<string, string>,
  path: string,
  rule: DocumentRule,
): void {
  let lineNo = 0;
  for (const line of content.split('\n')) {
    lineNo++;
    if (line.trim() === '') continue;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new ReembedError('INVALID_INPUT', `${path}:${lineNo}: not valid JSON.`, {
        details: { path, line: lineNo },
      });
    }
    const rawId = row._id ?? row.id;
    const id = typeof rawId === 'number' ? String(rawId) : rawId;
    const text = typeof row.text === 'string' ? row.text : '';
    if (typeof id !== 'string' || id === '') continue;
    if (set === 'queries') {
      if (text !== '') out.set(textKey(text), id);
      continue;
    }
    const embedded = rule(row.title, text);
    if (embedded !== '') out.set(textKey(embedded), id);
    const ingested = withTitle(typeof row.title === 'string' ? row.title : '', text);
    if (ingested.trim() !== '' && ingested !== embedded) out.set(textKey(ingested), id);
  }
}
