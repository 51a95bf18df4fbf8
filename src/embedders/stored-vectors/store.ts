import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ReembedError } from '../../core/errors.js';
import { fingerprintOf } from '../../core/space.js';
import { type ParsedManifest, readManifest, type StoredSet } from './manifest.js';
import { loadSourceTexts, type SourceTexts } from './source-texts.js';

export { vectorById, vectorByText } from './lookup.js';

/**
 * A stored-vectors folder, loaded once per process and shared: every file checked against the sha256
 * and size its manifest records (a corrupted or replaced file is refused with `INTEGRITY_FAILED`), rows
 * checked finite (and of unit length when the manifest says normalised), then served by id or by text.
 */
export interface VectorSet {
  readonly ids: readonly string[];
  readonly rowOf: ReadonlyMap<string, number>;
  /** rows × dimension, row-major. */
  readonly vectors: Float32Array;
}

export interface StoredVectors {
  readonly kind: 'stored-vectors';
  readonly dir: string;
  readonly manifest: ParsedManifest;
  /** Fingerprint of the space the vectors belong to (`manifest.spec`). */
  readonly fingerprint: string;
  readonly dimension: number;
  readonly sets: Readonly<Partial<Record<StoredSet, VectorSet>>>;
  readonly texts: SourceTexts;
}

export interface LoadStoredVectorsOptions {
  /** Folder holding the source corpus.jsonl / queries.jsonl (default: the vectors folder and its parents). */
  readonly sourceDir?: string;
}

const cache = new Map<string, { stamp: string; loaded: Promise<StoredVectors> }>();

/**
 * Loads (or returns the already loaded) vectors of `dir`. The files are stat'ed on every call, so a file
 * changed in place is loaded and verified again rather than served from memory.
 *
 * @example
 * const stored = await loadStoredVectors('../shared/datasets/scifact/embeddings/minilm-l6-v2');
 * vectorById(stored, '4983', 'corpus'); // Float32Array(384)
 */
export async function loadStoredVectors(
  dir: string,
  options: LoadStoredVectorsOptions = {},
): Promise<StoredVectors> {
  const absolute = resolve(dir);
  const sourceDir = options.sourceDir === undefined ? undefined : resolve(options.sourceDir);
  const key = `${absolute}\0${sourceDir ?? ''}`;
  const stamp = await stampOf(absolute);
  const hit = cache.get(key);
  if (hit && hit.stamp === stamp) return hit.loaded;
  const loaded = load(absolute, sourceDir);
  cache.set(key, { stamp, loaded });
  loaded.catch(() => {
    if (cache.get(key)?.loaded === loaded) cache.delete(key);
  });
  return loaded;
}

async function stampOf(dir: string): Promise<string> {
  const names = ['MANIFEST.json', 'corpus.f32', 'corpus.ids', 'queries.f32', 'queries.ids'];
  const stats = await Promise.all(names.map((n) => stat(join(dir, n)).catch(() => null)));
  return stats.map((s) => (s ? `${s.size}:${s.mtimeMs}` : '-')).join('|');
}

async function load(dir: string, sourceDir: string | undefined): Promise<StoredVectors> {
  const manifest = readManifest(dir);
  const dimension = manifest.manifest.dimension;
  const sets: Partial<Record<StoredSet, VectorSet>> = {};
  for (const set of manifest.sets) sets[set] = await loadSet(manifest, set);
  const texts = await loadSourceTexts(dir, manifest.manifest, manifest.sets, sourceDir);
  for (const set of manifest.sets) {
    const rows = sets[set]?.rowOf;
    for (const id of texts.byHash[set].values()) {
      if (!rows?.has(id)) {
        throw new ReembedError(
          'INVALID_INPUT',
          `${texts.origin[set]} has id "${id}" but ${set}.ids does not: the source and the vectors disagree.`,
          { details: { dir, set, id } },
        );
      }
    }
  }
  return Object.freeze({
    kind: 'stored-vectors' as const,
    dir,
    manifest,
    fingerprint: fingerprintOf(manifest.spec),
    dimension,
    sets: Object.freeze(sets),
    texts,
  });
}

async function verifiedFile(manifest: ParsedManifest, name: string): Promise<Buffer> {
  const path = join(manifest.dir, name);
  const recorded = manifest.manifest.files[name];
  const bytes = await readFile(path).catch((cause: Error) => {
    throw new ReembedError(
      'NOT_FOUND',
      `Stored vectors file ${path} cannot be read (${cause.message}); the manifest lists it.`,
      { details: { path }, cause },
    );
  });
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (!recorded || bytes.length !== recorded.bytes || actual !== recorded.sha256) {
    throw new ReembedError(
      'INTEGRITY_FAILED',
      `Stored vectors file ${path} is corrupted or was replaced: ${bytes.length} bytes with sha256 ${actual}, ` +
        `but MANIFEST.json records ${recorded?.bytes} bytes with sha256 ${recorded?.sha256}. ` +
        'Restore the file from where the vectors were published; nothing was loaded from this folder.',
      {
        details: {
          path,
          expectedSha256: recorded?.sha256,
          actualSha256: actual,
          expectedBytes: recorded?.bytes,
          actualBytes: bytes.length,
        },
      },
    );
  }
  return bytes;
}

async function loadSet(manifest: ParsedManifest, set: StoredSet): Promise<VectorSet> {
  const dim = manifest.manifest.dimension;
  const raw = await verifiedFile(manifest, `${set}.f32`);
  const idBytes = await verifiedFile(manifest, `${set}.ids`);
  const bad = (why: string): ReembedError =>
    new ReembedError('INVALID_INPUT', `${join(manifest.dir, `${set}.f32`)}: ${why}.`, {
      details: { dir: manifest.dir, set },
    });
  if (raw.length % (4 * dim) !== 0)
    throw bad(`${raw.length} bytes is not a whole number of ${dim}-float rows`);
  const rows = raw.length / (4 * dim);
  const text = idBytes.toString('utf8');
  const ids = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').map((l) => l.replace(/\r$/, ''));
  if (text === '') ids.length = 0;
  if (ids.length !== rows) throw bad(`${rows} rows but ${set}.ids has ${ids.length} ids`);
  const rowOf = new Map<string, number>();
  ids.forEach((id, row) => {
    if (id === '') throw bad(`${set}.ids line ${row + 1} is empty`);
    if (rowOf.has(id)) throw bad(`id "${id}" appears twice in ${set}.ids`);
    rowOf.set(id, row);
  });
  const vectors = floatsOf(raw);
  checkRows(vectors, dim, manifest.manifest.normalised, bad);
  return Object.freeze({ ids: Object.freeze(ids), rowOf, vectors });
}

function checkRows(
  vectors: Float32Array,
  dim: number,
  normalised: boolean,
  bad: (why: string) => ReembedError,
): void {
  for (let row = 0, o = 0; o < vectors.length; row++, o += dim) {
    let sum = 0;
    for (let c = 0; c < dim; c++) sum += (vectors[o + c] as number) * (vectors[o + c] as number);
    if (!Number.isFinite(sum)) throw bad(`row ${row} has a non-finite value`);
    if (normalised && Math.abs(Math.sqrt(sum) - 1) > 1e-3) {
      throw bad(
        `row ${row} has length ${Math.sqrt(sum).toFixed(6)}, but the manifest says "normalised": true`,
      );
    }
  }
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function floatsOf(bytes: Buffer): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  if (isLittleEndian) new Uint8Array(out.buffer).set(bytes);
  else for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(4 * i);
  return out;
}
