import { createHash } from 'node:crypto';
import type { InputType } from '../../ports/embedder.js';
import type { StoredSet } from './manifest.js';
import type { StoredVectors } from './store.js';

/**
 * Looking vectors up in a loaded stored-vectors folder, apart from loading one (`store.ts`: files, sha256
 * checks, source texts), so what only reads a folder does not load the loader.
 */

/** The key of a text in `SourceTexts.byHash`: its sha256, base64. */
export function textKey(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

/** A copy of the stored vector of `id` in `set`, or undefined when the folder does not hold it. */
export function vectorById(stored: StoredVectors, id: string, set: StoredSet): Float32Array | undefined {
  const s = stored.sets[set];
  const row = s?.rowOf.get(id);
  if (s === undefined || row === undefined) return undefined;
  return s.vectors.slice(row * stored.dimension, (row + 1) * stored.dimension);
}

/**
 * A copy of the stored vector computed from exactly `text` (see `SourceTexts`), looked up first in the
 * set of `inputType` (queries for queries, corpus for documents), then — when the space gives queries and
 * documents the same prefix, so one text has one vector whichever side it came from — in the other.
 */
export function vectorByText(
  stored: StoredVectors,
  text: string,
  inputType: InputType,
): Float32Array | undefined {
  const key = textKey(text);
  const own: StoredSet = inputType === 'query' ? 'queries' : 'corpus';
  const prefixes = stored.manifest.spec.inputType;
  const order: StoredSet[] =
    prefixes.query === prefixes.document ? [own, own === 'queries' ? 'corpus' : 'queries'] : [own];
  for (const set of order) {
    const id = stored.texts.byHash[set].get(key);
    if (id !== undefined) return vectorById(stored, id, set);
  }
  return undefined;
}
