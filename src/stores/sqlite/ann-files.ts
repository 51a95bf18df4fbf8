import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../ports/clock.js';
import { type AnnParams, sameParams } from './ann-config.js';
import { AnnIndex } from './ann-index.js';
import { KeyList } from './key-list.js';
import { STORE_SQL as SQL } from './sql.js';
import type { StatementCache } from './statements.js';
import type { MetaRow } from './store-rows.js';

interface AnnRow {
  namespace: string;
  file: string;
  fingerprint: string;
  incarnation: string;
  generation: number;
  high_key: number;
  removed: number;
  count: number;
  bytes: number;
  params: string;
  keys: Uint8Array;
  saved_at: string;
}

/** Files this old that no row points at are leftovers of a crash (a younger one may be another process's save in flight). */
const ORPHAN_AGE_MS = 10 * 60_000;

/**
 * Persisted ANN indexes: one immutable file per save in a directory beside the SQLite file, and one
 * `ann_indexes` row per namespace naming the file and the snapshot it reflects (incarnation, generation,
 * high key, the keys it holds). A save writes a new uniquely named file, fsyncs and renames it into place,
 * and only then commits the row; the file the row replaced is deleted afterwards. A crash at any point
 * leaves either the old row and file, or the new ones, plus at worst an unreferenced file that a later
 * save sweeps away. A file is trusted only when its row matches the namespace's fingerprint, incarnation
 * and index parameters and its size matches; anything else is rebuilt from SQLite.
 */
export class AnnFiles {
  readonly dir: string | null;
  readonly #sql: StatementCache;
  readonly #clock: Clock;
  #swept = false;

  constructor(dir: string | null, sql: StatementCache, clock: Clock) {
    this.dir = dir;
    this.#sql = sql;
    this.#clock = clock;
  }

  /**
   * The persisted index of a namespace, loaded, or null when there is none usable (absent, another
   * fingerprint or incarnation, other parameters, missing or torn file). Call inside a read transaction.
   */
  load(meta: MetaRow, params: AnnParams, expansionSearch: number): AnnIndex | null {
    if (this.dir === null) return null;
    const row = this.#sql.get(SQL.annRow).get(meta.name) as AnnRow | undefined;
    if (!row || row.fingerprint !== meta.fingerprint || row.incarnation !== meta.created_at) return null;
    if (row.generation > meta.generation) return null;
    let saved: AnnParams;
    try {
      saved = JSON.parse(row.params) as AnnParams;
    } catch {
      return null;
    }
    if (!sameParams(saved, params)) return null;
    const path = join(this.dir, row.file);
    try {
      if (statSync(path).size !== row.bytes || row.keys.byteLength !== row.count * 8) return null;
      const keys = new KeyList(decodeKeys(row.keys));
      const snapshot = {
        incarnation: row.incarnation,
        generation: row.generation,
        highKey: row.high_key,
        removed: row.removed,
      };
      const index = AnnIndex.load(path, params, snapshot, expansionSearch, keys);
      return index.size === row.count ? index : null;
    } catch {
      return null;
    }
  }

  /**
   * Writes the index to a new file and points the namespace's row at it, unless the namespace changed
   * identity meanwhile or another process already saved a newer snapshot. Returns whether the row now
   * names this save.
   */
  save(meta: MetaRow, index: AnnIndex): boolean {
    if (this.dir === null) return false;
    mkdirSync(this.dir, { recursive: true });
    if (!this.#swept) this.#sweepOrphans();
    const file = `${fileStem(meta.name)}-${randomBytes(8).toString('hex')}.usearch`;
    const path = join(this.dir, file);
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      index.save(tmp);
      syncFile(tmp);
      renameSync(tmp, path);
      syncFile(this.dir);
    } catch (error) {
      removeQuietly(tmp);
      throw error;
    }
    const bytes = statSync(path).size;
    const snapshot = index.snapshot;
    const replaced = this.#sql.write('record an ANN index file', () => {
      const current = this.#sql.get(SQL.meta).get(meta.name) as MetaRow | undefined;
      if (!current || current.fingerprint !== meta.fingerprint || current.created_at !== snapshot.incarnation)
        return { saved: false, old: null };
      const held = this.#sql.get(SQL.annRow).get(meta.name) as AnnRow | undefined;
      if (held && held.incarnation === snapshot.incarnation && held.generation > snapshot.generation)
        return { saved: false, old: null };
      this.#sql
        .get(SQL.upsertAnnRow)
        .run(
          meta.name,
          file,
          meta.fingerprint,
          snapshot.incarnation,
          snapshot.generation,
          snapshot.highKey,
          snapshot.removed,
          index.size,
          bytes,
          JSON.stringify(index.params),
          encodeKeys(index.keys()),
          this.#clock.now().toISOString(),
        );
      return { saved: true, old: held?.file ?? null };
    });
    if (!replaced.saved) {
      removeQuietly(path);
      return false;
    }
    if (replaced.old && replaced.old !== file) removeQuietly(join(this.dir, replaced.old));
    return true;
  }

  /** Deletes the row of a dropped namespace (inside the caller's write transaction); returns its file. */
  dropRow(namespace: string): string | null {
    const row = this.#sql.get(SQL.dropAnn).get(namespace) as { file: string } | undefined;
    return row?.file ?? null;
  }

  /** Forgets a file the store found unusable, so nobody tries it again. */
  discard(namespace: string): void {
    const file = this.#sql.write('forget an ANN index file', () => this.dropRow(namespace));
    this.removeFile(file);
  }

  removeFile(file: string | null): void {
    if (this.dir !== null && file) removeQuietly(join(this.dir, file));
  }

  #sweepOrphans(): void {
    this.#swept = true;
    if (this.dir === null || !existsSync(this.dir)) return;
    const referenced = new Set((this.#sql.get(SQL.annFiles).all() as { file: string }[]).map((r) => r.file));
    const cutoff = Date.now() - ORPHAN_AGE_MS;
    for (const name of readdirSync(this.dir)) {
      if (!name.includes('.usearch') || referenced.has(name)) continue;
      const path = join(this.dir, name);
      try {
        if (statSync(path).mtimeMs < cutoff) unlinkSync(path);
      } catch {
        // Gone already, or not ours to remove: nothing to do.
      }
    }
  }
}

/** A readable, collision-free file name prefix for a namespace (names may hold any characters). */
function fileStem(namespace: string): string {
  const readable = namespace.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 48);
  const hash = createHash('sha256').update(namespace).digest('hex').slice(0, 8);
  return `${readable}-${hash}`;
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function encodeKeys(keys: Float64Array): Buffer {
  return Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength);
}

function decodeKeys(bytes: Uint8Array): Float64Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float64Array(copy.buffer);
}
