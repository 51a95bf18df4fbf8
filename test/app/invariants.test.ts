import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reembed } from '../../src/app/reembed.js';
import { isReembedError } from '../../src/core/errors.js';
import { DOCS, type tempApp, twoSpaceApp, V1, V2 } from './helpers.js';

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
const v1 = V1;
const v2 = V2; // same dimension, different geometry

beforeEach(async () => {
  ctx = await twoSpaceApp();
  app = ctx.app;
});
afterEach(async () => ctx.cleanup());

async function expectCode(promise: Promise<unknown>, code: string): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isReembedError(error) ? error.code : error).toBe(code);
  return error;
}

describe('invariant 1: a namespace never holds records of two fingerprints', () => {
  it('refuses a same-dimension vector of another space, naming both spaces, writing nothing', async () => {
    const embedder = await app.embedders.get(v2);
    const [vector] = await embedder.embed(['a foreign vector'], { inputType: 'document' });
    const before = await app.backend.store.stats('docs@v1');
    const error = await expectCode(
      app.backend.store.write('docs@v1', v2.fingerprint, [
        {
          sourceId: 'x',
          sourceVersion: 99,
          contentHash: 'h',
          tenant: null,
          metadata: {},
          chunks: [{ chunkId: 'x#0', index: 0, text: 't', vector: vector as Float32Array }],
        },
      ]),
      'SPACE_MISMATCH',
    );
    expect(String((error as Error).message)).toContain(v1.fingerprint);
    expect(String((error as Error).message)).toContain(v2.fingerprint);
    const after = await app.backend.store.stats('docs@v1');
    expect(after).toEqual(before);
    expect(Object.keys(after.fingerprints)).toEqual([v1.fingerprint]);
  });

  it('refuses a wrong-length vector with DIMENSION_MISMATCH', async () => {
    await expectCode(
      app.backend.store.write('docs@v1', v1.fingerprint, [
        {
          sourceId: 'x',
          sourceVersion: 99,
          contentHash: 'h',
          tenant: null,
          metadata: {},
          chunks: [{ chunkId: 'x#0', index: 0, text: 't', vector: new Float32Array(63) }],
        },
      ]),
      'DIMENSION_MISMATCH',
    );
  });
});

describe('invariant 2: a query vector is only compared with records of its own fingerprint', () => {
  it('refuses a query vector declared in another space of the same dimension', async () => {
    const embedder = await app.embedders.get(v2);
    const [vector] = await embedder.embed(['embedding spaces'], { inputType: 'query' });
    await expectCode(
      app.search('docs', { vector: vector as Float32Array, space: 'v2', k: 3 }),
      'SPACE_MISMATCH',
    );
  });

  it('accepts a vector of its own space and traces the read', async () => {
    const embedder = await app.embedders.get(v1);
    const [vector] = await embedder.embed(['embedding spaces comparable'], { inputType: 'query' });
    const { hits, trace } = await app.search('docs', { vector: vector as Float32Array, space: 'v1', k: 2 });
    expect(hits[0]?.sourceId).toBe('a');
    expect(trace.reads).toHaveLength(1);
    expect(trace.reads[0]?.fingerprint).toBe(v1.fingerprint);
    expect(trace.fingerprints).toEqual([v1.fingerprint]);
    expect(trace.mixedVersion).toBe(false);
  });

  it('a vector query must declare its space', async () => {
    await expectCode(app.search('docs', { vector: new Float32Array(64), k: 2 }), 'INVALID_INPUT');
  });
});

describe('invariant 3: staleness keys on (content hash, fingerprint), never content alone', () => {
  it('unchanged content is not rewritten; changed content regenerates every writable namespace', async () => {
    const again = await app.ingest('docs', DOCS);
    expect(again.changed).toBe(0);
    await app.createNamespace('docs', v2, 'active', 'docs@v1');
    const changed = await app.ingest('docs', [{ id: 'a', text: 'Completely new text about fusion.' }]);
    expect(changed.changed).toBe(1);
    expect(Object.keys(changed.namespaces).sort()).toEqual(['docs@v1', 'docs@v2']);
    const [m1, m2] = await app.status('docs');
    expect(m1?.coverage).toMatchObject({ live: 4, current: 4, stale: 0 });
    // Same content hashes, new space: the v2 namespace holds only what was embedded in v2.
    expect(m2?.coverage).toMatchObject({ live: 4, current: 1 });
  });

  it('a delete reaches every writable namespace and leaves a tombstone', async () => {
    await app.createNamespace('docs', v2, 'active', 'docs@v1');
    await app.ingest('docs', [{ id: 'd', text: 'new text for d so both namespaces hold it' }]);
    const result = await app.delete('docs', ['d']);
    expect(result.deleted).toBe(1);
    for (const ns of ['docs@v1', 'docs@v2']) {
      const heads = await app.backend.store.heads(ns, ['d']);
      expect(heads.get('d')?.deleted).toBe(true);
    }
    const { hits } = await app.search('docs', { text: 'tombstone deleted document backfill', k: 4 });
    expect(hits.map((h) => h.sourceId)).not.toContain('d');
  });
});

describe('bad input writes nothing partial', () => {
  it('rejects a batch with an empty text and writes none of it', async () => {
    await expectCode(
      app.ingest('docs', [
        { id: 'e', text: 'fine' },
        { id: 'f', text: '   ' },
      ]),
      'INVALID_INPUT',
    );
    expect(await app.backend.sources.get('docs', 'e')).toBeNull();
    const stats = await app.backend.store.stats('docs@v1');
    expect(stats.sources).toBe(4);
  });

  it('unknown alias and collection are NOT_FOUND', async () => {
    await expectCode(app.search('nope', { text: 'x' }), 'NOT_FOUND');
    await expectCode(app.ingest('nope', DOCS), 'NOT_FOUND');
  });
});

describe('query', () => {
  it('filters by tenant and carries provenance', async () => {
    const { hits, trace } = await app.search('docs', {
      text: 'fusion rankings',
      k: 4,
      filter: { tenant: 't1' },
    });
    expect(hits.map((h) => h.sourceId)).toEqual(['c']);
    expect(hits[0]?.provenance).toMatchObject({ fingerprint: v1.fingerprint, sourceId: 'c', chunkId: 'c#0' });
    expect(trace).toMatchObject({ alias: 'docs', routing: 'single', k: 4, filter: { tenant: 't1' } });
  });
});
