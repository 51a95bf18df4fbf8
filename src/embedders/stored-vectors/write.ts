import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../../core/canonical.js';
import { ReembedError } from '../../core/errors.js';
import type { SpaceSpec } from '../../core/space.js';
import { MANIFEST_FILE, type StoredSet } from './manifest.js';

/** One stored row: the id, the text the vector was computed from, and the vector. */
export interface StoredRow {
  readonly id: string;
  /** BEIR `title`, for documents whose text was built as `title + ". " + text`. */
  readonly title?: string;
  readonly text: string;
  readonly vector: Float32Array | readonly number[];
}

export interface WriteStoredVectorsInput {
  /** The space the vectors belong to (recorded as the manifest's `space`: the folder then has its fingerprint). */
  readonly space: SpaceSpec;
  readonly corpus?: readonly StoredRow[];
  readonly queries?: readonly StoredRow[];
  /** Free-form provenance kept in the manifest (how the vectors were computed, when, by whom). */
  readonly notes?: Readonly<Record<string, unknown>>;
}

const SOURCE_FILE: Record<StoredSet, string> = { corpus: 'corpus.jsonl', queries: 'queries.jsonl' };

/**
 * Writes a stored-vectors folder in the layout `loadStoredVectors` reads: `<set>.f32` (little-endian
 * float32 rows), `<set>.ids`, the texts as BEIR `<set>.jsonl`, and MANIFEST.json with every file's size
 * and sha256 and the space spec. The way for a team to export embeddings it already has.
 *
 * @example
 * writeStoredVectors('vectors/', { space: space.spec, corpus: rows.map((r) => ({ id: r.id, text: r.text, vector: r.embedding })) });
 */
export function writeStoredVectors(dir: string, input: WriteStoredVectorsInput): void {
  const dim = input.space.dimension;
  mkdirSync(dir, { recursive: true });
  const files: Record<string, { bytes: number; sha256: string }> = {};
  const sources: Record<string, string> = {};
  const put = (name: string, bytes: Buffer): string => {
    writeFileSync(join(dir, name), bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    files[name] = { bytes: bytes.length, sha256 };
    return sha256;
  };
  for (const set of ['corpus', 'queries'] as const) {
    const rows = input[set];
    if (!rows) continue;
    const floats = Buffer.alloc(rows.length * dim * 4);
    rows.forEach((row, r) => {
      if (row.vector.length !== dim) {
        throw new ReembedError(
          'DIMENSION_MISMATCH',
          `${set} row "${row.id}" has ${row.vector.length} values, the space ${dim}.`,
          {
            details: { set, id: row.id, expected: dim, actual: row.vector.length },
          },
        );
      }
      for (let c = 0; c < dim; c++) floats.writeFloatLE(row.vector[c] as number, (r * dim + c) * 4);
    });
    put(`${set}.f32`, floats);
    put(`${set}.ids`, Buffer.from(rows.map((r) => `${r.id}\n`).join(''), 'utf8'));
    const lines = rows.map(
      (r) =>
        `${JSON.stringify({ _id: r.id, ...(r.title !== undefined ? { title: r.title } : {}), text: r.text })}\n`,
    );
    const jsonl = Buffer.from(lines.join(''), 'utf8');
    writeFileSync(join(dir, SOURCE_FILE[set]), jsonl);
    sources[SOURCE_FILE[set]] = createHash('sha256').update(jsonl).digest('hex');
  }
  const manifest = {
    model: input.space.model,
    dimension: dim,
    dtype: 'float32 little-endian, row-major, no header',
    metric: input.space.metric,
    normalised: input.space.normalization === 'l2',
    space: JSON.parse(canonicalJson(input.space)) as unknown,
    text_rules: {
      document: 'title + ". " + text when title is a non-empty string, else text',
      query: 'the query text field',
    },
    files,
    source_files_sha256: sources,
    ...(input.notes ? { notes: input.notes } : {}),
  };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
}
