import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fx from '../../testing/fixtures.js';
import { openSqliteBackend, type SqliteBackend } from './backend.js';

/** The store's batched head lookups, its `prevalidated` write option and the reader-thread scan path. */
const tempFile = fx.tempFiles('reembed-sqlite-write-');

const space = fx.testSpace('write-space');
const ns = fx.descriptorOf('docs', space);
const random = fx.prng(7);
let backend: SqliteBackend;

beforeEach(async () => {
  backend = await openSqliteBackend({ path: tempFile() });
  await backend.store.createNamespace(ns);
});
afterEach(async () => backend.close());

describe('SqliteVectorStore writes', () => {
  it('applies the versions of one call in order, also for a source named twice', async () => {
    const v = (): Float32Array => fx.randomVector(random);
    const result = await backend.store.write(ns.name, space.fingerprint, [
      fx.sourceWrite({ id: 'a', version: 2, vectors: [v()] }),
      fx.sourceWrite({ id: 'a', version: 1, vectors: [v()] }),
      fx.sourceWrite({ id: 'a', version: 3, vectors: [v(), v()] }),
      fx.sourceWrite({ id: 'b', version: 1, vectors: [v()] }),
    ]);
    expect(result).toEqual({ written: 3, skipped: 1, records: 4 });
    const heads = await backend.store.heads(ns.name, ['a', 'b', 'missing', 'a']);
    expect([...heads.keys()].sort()).toEqual(['a', 'b']);
    expect(heads.get('a')).toMatchObject({ sourceVersion: 3, deleted: false });
    expect((await backend.store.stats(ns.name)).records).toBe(3);
    const deleted = await backend.store.delete(ns.name, [
      { sourceId: 'b', sourceVersion: 2 },
      { sourceId: 'b', sourceVersion: 2 },
    ]);
    expect(deleted).toMatchObject({ written: 1, skipped: 1 });
  });

  it('looks heads up in batches, including ids JSON would not carry unchanged', async () => {
    const ids = Array.from({ length: 2_100 }, (_, i) => `doc-${i}`);
    ids.push('lone-\ud800', 'pair-\ud83d\ude00', 'quote"back\\slash');
    const writes = ids.map((id, i) =>
      fx.sourceWrite({ id, version: i + 1, vectors: [fx.randomVector(random)] }),
    );
    await backend.store.write(ns.name, space.fingerprint, writes);
    const heads = await backend.store.heads(ns.name, ids);
    expect(heads.size).toBe(ids.length);
    for (const [i, id] of ids.entries()) expect(heads.get(id)?.sourceVersion).toBe(i + 1);
    const again = await backend.store.write(ns.name, space.fingerprint, writes);
    expect(again).toMatchObject({ written: 0, skipped: ids.length });
  });

  it('prevalidated skips re-reading components but still checks type, length and space', async () => {
    const nan = fx.randomVector(random);
    nan[3] = Number.NaN;
    // The option is the caller's promise: the store does not read the components again.
    await backend.store.write(
      ns.name,
      space.fingerprint,
      [fx.sourceWrite({ id: 'x', version: 1, vectors: [nan] })],
      {
        prevalidated: true,
      },
    );
    await fx.expectCode(
      backend.store.write(ns.name, space.fingerprint, [
        fx.sourceWrite({ id: 'y', version: 1, vectors: [nan] }),
      ]),
      'INVALID_VECTOR',
    );
    await fx.expectCode(
      backend.store.write(
        ns.name,
        space.fingerprint,
        [fx.sourceWrite({ id: 'z', version: 1, vectors: [new Float32Array(fx.DIM + 1)] })],
        { prevalidated: true },
      ),
      'DIMENSION_MISMATCH',
    );
    const plain = Array.from(fx.randomVector(random)) as unknown as Float32Array;
    plain[0] = Number.POSITIVE_INFINITY;
    await fx.expectCode(
      backend.store.write(
        ns.name,
        space.fingerprint,
        [fx.sourceWrite({ id: 'p', version: 1, vectors: [plain] })],
        {
          prevalidated: true,
        },
      ),
      'INVALID_VECTOR',
    );
    await fx.expectCode(
      backend.store.write(
        ns.name,
        fx.testSpace('other').fingerprint,
        [fx.sourceWrite({ id: 'q', version: 1, vectors: [fx.randomVector(random)] })],
        { prevalidated: true },
      ),
      'SPACE_MISMATCH',
    );
  });
});

describe('SqliteSourceRepository reader thread recipe', () => {
  it('opens the same file for another connection, and none for an in-memory database', async () => {
    await backend.catalog.createCollection('docs', 'test');
    await backend.sources.upsert('docs', [
      { id: 'a', text: 'alpha' },
      { id: 'b', text: 'beta', metadata: { k: 1 }, tenant: 't' },
      { id: 'c', text: 'gamma' },
    ]);
    await backend.sources.delete('docs', ['c']);
    const recipe = backend.sources.threadRecipe();
    expect(recipe).not.toBeNull();
    const module = (await import(recipe?.module as string)) as Record<string, (args: unknown) => unknown>;
    const reader = module[recipe?.exportName as string]?.(recipe?.args) as {
      scan: typeof backend.sources.scan;
      checkpoint(): void;
      close(): void;
    };
    const options = { limit: 10, includeDeleted: true };
    expect(await reader.scan('docs', options)).toEqual(await backend.sources.scan('docs', options));
    expect((await reader.scan('docs', { limit: 10 })).map((d) => d.id)).toEqual(['a', 'b']);
    reader.checkpoint();
    reader.close();
    const memory = await openSqliteBackend({ path: ':memory:' });
    expect(memory.sources.threadRecipe()).toBeNull();
    expect(memory.sources.readerThreads()).toBeNull();
    expect(backend.sources.readerThreads()).not.toBeNull();
    await memory.close();
  });
});
