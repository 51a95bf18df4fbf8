import { renameSync, writeFileSync } from 'node:fs';
import { ReembedError } from '../core/errors.js';
import { bytesRevision, readModelFile } from './common.js';
import { LSA_SCALINGS, type LsaFitInfo, type LsaModel, type LsaScaling } from './lsa.js';

/**
 * The LSA model file: `RLSA` magic, uint32 format version, uint32 header length, a JSON header (terms,
 * dimension, scaling, fit info; space-padded to 4 bytes), then little-endian float32 arrays idf[terms],
 * sigma[dimension], components[terms × dimension]. Compact, memory-copy fast to load, and hashable: the
 * sha256 of the file (first 16 hex) is the model's identity and the space's `revision`.
 */
const MAGIC = 'RLSA';
const FORMAT_VERSION = 1;

interface LsaHeader {
  readonly kind: 'lsa-model';
  readonly dimension: number;
  readonly scaling: LsaScaling;
  readonly fit: LsaFitInfo;
  readonly terms: readonly string[];
}

/** Serialises a model to bytes (deterministic: the same model gives the same bytes). */
export function encodeLsaModel(model: LsaModel): Buffer {
  const header: LsaHeader = {
    kind: 'lsa-model',
    dimension: model.dimension,
    scaling: model.scaling,
    fit: model.fit,
    terms: model.terms,
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 4) * 4;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(FORMAT_VERSION, 4);
  prefix.writeUInt32LE(json.length, 8);
  return Buffer.concat([
    prefix,
    json,
    floatBytes(model.idf),
    floatBytes(model.sigma),
    floatBytes(model.components),
  ]);
}

/**
 * Writes the model file (atomically: temp file then rename) and returns its revision
 * (sha256, first 16 hex digits) — use it as the space's `revision` (`lsaSpace` does).
 */
export function saveLsaModel(model: LsaModel, path: string): string {
  const bytes = encodeLsaModel(model);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return bytesRevision(bytes);
}

export interface LoadedLsaModel {
  readonly model: LsaModel;
  /** sha256 of the file, first 16 hex digits. */
  readonly revision: string;
}

/** Reads a model file written by `saveLsaModel`; throws `INVALID_INPUT` naming the problem otherwise. */
export function loadLsaModel(path: string): LoadedLsaModel {
  const bytes = readModelFile(path, (reason) => `Cannot read LSA model file ${path}: ${reason}.`);
  return { model: decodeLsaModel(bytes, path), revision: bytesRevision(bytes) };
}

export function decodeLsaModel(bytes: Uint8Array, path = '(bytes)'): LsaModel {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): ReembedError =>
    new ReembedError(
      'INVALID_INPUT',
      `${path} is not a valid LSA model file: ${why}. Refit it with fitLsa().`,
      {
        details: { path },
      },
    );
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== MAGIC) throw bad('missing RLSA magic');
  const version = buf.readUInt32LE(4);
  if (version !== FORMAT_VERSION)
    throw bad(`format version ${version}, this reembed reads ${FORMAT_VERSION}`);
  const headerLength = buf.readUInt32LE(8);
  if (12 + headerLength > buf.length) throw bad('truncated header');
  let header: LsaHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength)) as LsaHeader;
  } catch {
    throw bad('unreadable header');
  }
  const { dimension, terms, scaling } = header;
  if (header.kind !== 'lsa-model' || !Number.isInteger(dimension) || !Array.isArray(terms)) {
    throw bad('unexpected header');
  }
  if (!LSA_SCALINGS.includes(scaling)) throw bad(`unknown scaling "${scaling}"`);
  const m = terms.length;
  let offset = 12 + headerLength;
  const expected = offset + 4 * (m + dimension + m * dimension);
  if (buf.length !== expected) throw bad(`size ${buf.length} bytes, expected ${expected}`);
  const take = (count: number): Float32Array => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(offset + 4 * i);
    offset += 4 * count;
    return out;
  };
  const idf = take(m);
  const sigma = take(dimension);
  const components = takeBulk(buf, offset, m * dimension);
  return Object.freeze({
    kind: 'lsa-model' as const,
    dimension,
    terms: Object.freeze([...terms]),
    idf,
    sigma,
    components,
    scaling,
    fit: Object.freeze({ ...header.fit }),
  });
}

function floatBytes(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 4);
  if (isLittleEndian) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  } else {
    for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i] as number, i * 4);
  }
  return out;
}

function takeBulk(buf: Buffer, offset: number, count: number): Float32Array {
  if (!isLittleEndian) {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(offset + 4 * i);
    return out;
  }
  // Copy into a fresh, aligned buffer: the file buffer may be pooled or unaligned.
  const copy = new Uint8Array(count * 4);
  copy.set(buf.subarray(offset, offset + count * 4));
  return new Float32Array(copy.buffer);
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
