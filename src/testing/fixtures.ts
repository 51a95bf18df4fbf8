import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { type ErrorCode, ReembedError } from '../core/errors.js';
import { type GoldenSet, GoldenSetBuilder } from '../core/golden.js';
import { seededRandom } from '../core/random.js';
import type { SourceWrite } from '../core/records.js';
import { defineSpace, type Metric, type Space } from '../core/space.js';
import type { Clock } from '../ports/clock.js';
import type { NamespaceDescriptor } from '../ports/vector-store.js';

/**
 * Shared fixtures of the conformance suites: real spaces (so fingerprints are real), seeded vectors,
 * and an assertion on reembed's typed errors.
 */
export const DIM = 8;

export function testSpace(
  name: string,
  options: { dimension?: number; metric?: Metric; model?: string } = {},
): Space {
  return defineSpace(name, {
    provider: 'conformance',
    model: options.model ?? name,
    dimension: options.dimension ?? DIM,
    metric: options.metric ?? 'cosine',
    normalization: options.metric === 'cosine' || options.metric === undefined ? 'l2' : 'none',
  });
}

export function descriptorOf(collection: string, space: Space): NamespaceDescriptor {
  return {
    name: `${collection}@${space.name}`,
    fingerprint: space.fingerprint,
    spaceName: space.name,
    dimension: space.spec.dimension,
    metric: space.spec.metric,
  };
}

/** Deterministic PRNG (mulberry32), so failures reproduce. */
export const prng = seededRandom;

export function randomVector(random: () => number, dimension = DIM): Float32Array {
  const v = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) v[i] = random() * 2 - 1;
  return v;
}

/** A one-hot-ish vector: `axis` dominates, so tests can predict the nearest record. */
export function axisVector(axis: number, dimension = DIM, scale = 1): Float32Array {
  const v = new Float32Array(dimension).fill(0.01);
  v[axis % dimension] = scale;
  return v;
}

export interface WriteSpec {
  readonly id: string;
  readonly version: number;
  readonly vectors: readonly Float32Array[];
  readonly tenant?: string | null;
  readonly metadata?: Record<string, unknown>;
  readonly hash?: string;
}

/** A `SourceWrite` whose chunks are `${id}#${i}` with text `${id} chunk ${i} v${version}`. */
export function sourceWrite(spec: WriteSpec): SourceWrite {
  return {
    sourceId: spec.id,
    sourceVersion: spec.version,
    contentHash: spec.hash ?? `hash-${spec.id}-v${spec.version}`,
    tenant: spec.tenant ?? null,
    metadata: spec.metadata ?? {},
    chunks: spec.vectors.map((vector, index) => ({
      chunkId: `${spec.id}#${index}`,
      index,
      text: `${spec.id} chunk ${index} v${spec.version}`,
      vector,
    })),
  };
}

/** Awaits a promise that must reject with a `ReembedError` of `code`, and returns the error. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<ReembedError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a ${code} error`).toBeInstanceOf(ReembedError);
  expect((caught as ReembedError).code).toBe(code);
  return caught as ReembedError;
}

/** Brute-force reference scores: higher is better (cosine, dot, −squared l2), in double precision. */
export function referenceScore(metric: Metric, query: Float32Array, vector: Float32Array): number {
  let dot = 0;
  let qq = 0;
  let vv = 0;
  let l2 = 0;
  for (let i = 0; i < query.length; i++) {
    const a = query[i] as number;
    const b = vector[i] as number;
    dot += a * b;
    qq += a * a;
    vv += b * b;
    l2 += (a - b) * (a - b);
  }
  if (metric === 'dot') return dot;
  if (metric === 'l2') return -l2;
  return qq === 0 || vv === 0 ? 0 : dot / Math.sqrt(qq * vv);
}

/**
 * A clock that only moves when slept on: `sleep(ms)` records `ms` in `sleeps` and advances `now` at once
 * (yielding one turn of the event loop), so retry and backoff schedules run instantly and can be read back.
 */
export function fakeClock(start = Date.UTC(2030, 0, 1)): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(now),
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/**
 * A temp folder removed after the calling test file, and a fresh path in it per call
 * (`const tempFile = tempFiles('reembed-ann-'); openSqliteBackend({ path: tempFile() })`).
 */
export function tempFiles(prefix: string, extension = '.db'): () => string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let counter = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => join(dir, `t${++counter}${extension}`);
}

/**
 * A golden set from literal tables, through the builder (queries in the order listed, judgments in
 * insertion order): `goldenSetOf('mini', { q1: 'alpha' }, { q1: { a: 1 } })`.
 */
export function goldenSetOf(
  name: string,
  queries: Readonly<Record<string, string>>,
  qrels: Readonly<Record<string, Readonly<Record<string, number>>>>,
): GoldenSet {
  const b = new GoldenSetBuilder(name);
  for (const [id, text] of Object.entries(queries)) b.addQuery(id, text);
  for (const [queryId, docs] of Object.entries(qrels))
    for (const [docId, grade] of Object.entries(docs)) b.addJudgment(queryId, docId, grade);
  return b.build();
}
