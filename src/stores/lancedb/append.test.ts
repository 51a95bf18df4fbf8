import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SourceWrite } from '../../core/records.js';
import * as fx from '../../testing/fixtures.js';
import type { LanceTableLike } from './lance-types.js';
import { openLanceDbStore } from './open.js';
import { type PlanItem, planWrite } from './plan.js';
import { type ReadRow, readSourceState, redundantRows } from './read.js';
import { DESCRIPTOR_TABLE, recordsSchema } from './schema.js';
import type { LanceDbVectorStore } from './store.js';
import { commitPlan } from './versioned-commit.js';

const root = mkdtempSync(join(tmpdir(), 'reembed-lance-append-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const space = fx.testSpace('lance-append');
const ns = fx.descriptorOf('docs', space);
const fp = space.fingerprint;

const row = (rowId: number, key: string, kind: string, sourceId: string, sourceVersion: number): ReadRow => ({
  rowId: BigInt(rowId),
  key,
  kind,
  sourceId,
  sourceVersion,
});

describe('redundantRows', () => {
  it('finds nothing in a consistent namespace', () => {
    expect(redundantRows([row(1, 'a', 'head', 'a', 2), row(2, 'a#0', 'chunk', 'a', 2)])).toEqual([]);
  });

  it('removes rows older than the newest head (a tombstone too) and extra copies, keeping the lowest row id', () => {
    const rows = [
      row(1, 'a', 'head', 'a', 3),
      row(9, 'a', 'head', 'a', 1),
      row(10, 'a#0', 'chunk', 'a', 1),
      row(5, 'b', 'head', 'b', 1),
      row(2, 'b', 'head', 'b', 1),
      row(6, 'b#0', 'chunk', 'b', 1),
      row(3, 'b#0', 'chunk', 'b', 1),
    ];
    expect(redundantRows(rows)).toEqual([
      "source_id = 'a' AND source_version < 3",
      "_rowid = 5 AND key = 'b' AND source_version = 1",
      "_rowid = 6 AND key = 'b#0' AND source_version = 1",
    ]);
  });
});

/**
 * A store on a fresh directory under `root` with the namespace created, and its records table opened
 * through LanceDB's own client; `run` gets both, and both are closed after it.
 */
async function withNamespace(
  dir: string,
  run: (store: LanceDbVectorStore, table: LanceTableLike) => Promise<void>,
): Promise<void> {
  const uri = join(root, dir);
  const store = await openLanceDbStore({ uri });
  await store.createNamespace(ns);
  const lancedb = await import('@lancedb/lancedb');
  const db = await lancedb.connect(uri, { readConsistencyInterval: 0 });
  try {
    const [d] = await (await db.openTable(DESCRIPTOR_TABLE)).query().where(`name = '${ns.name}'`).toArray();
    const table = (await db.openTable(String(d?.table_name))) as unknown as LanceTableLike;
    await run(store, table);
  } finally {
    db.close();
    await store.close();
  }
}

async function keysOf(table: LanceTableLike): Promise<string[]> {
  const result = await table.query().where("kind IN ('head', 'chunk')").select(['key']).toArrow();
  return result
    .toArray()
    .map((r) => `${r.key}`)
    .sort();
}

/** commitPlan of `writes` on `table`, as the store runs it. */
async function commit(table: LanceTableLike, writes: SourceWrite[]) {
  const arrow = await import('apache-arrow');
  const { rowsToArrow } = await import('./batch.js');
  const items: PlanItem[] = writes.map((write) => ({
    op: 'write',
    checked: { write, vectors: write.chunks.map((c) => c.vector) },
  }));
  return commitPlan(
    table,
    writes.map((w) => w.sourceId),
    (state) => planWrite(items, state, fp, new Date().toISOString()),
    (plan) => rowsToArrow(arrow, recordsSchema(arrow, fx.DIM), fx.DIM, plan.rows),
  );
}

const v = (id: string, version: number, axis = 0) =>
  fx.sourceWrite({ id, version, vectors: [fx.axisVector(axis)] });

describe('append path of a versioned write (LanceDB)', () => {
  it('appends into a fresh namespace, and a retried call after the commit changes nothing', async () => {
    await withNamespace('retry', async (_, table) => {
      expect(await commit(table, [v('a', 1), v('b', 1)])).toEqual({ written: 2, skipped: 0, records: 2 });
      const version = await table.version();
      // The same batch again, as a resume after a crash before its checkpoint repeats it: nothing new.
      expect(await commit(table, [v('a', 1), v('b', 1)])).toEqual({ written: 0, skipped: 2, records: 0 });
      expect(await table.version()).toBe(version);
      expect(await keysOf(table)).toEqual(['["a","a#0"]', '["a"]', '["b","b#0"]', '["b"]']);
    });
  });

  it('heals an append that raced another process: the newest version wins, a tombstone stays, one copy per key', async () => {
    await withNamespace('race', async (other, table) => {
      // Between this call's read (nothing stored) and its append, another process deletes `a` at v5,
      // writes `b` at v3 and `c` at v1 (the same version this call appends).
      const racing = new Proxy(table, {
        get: (target, prop, receiver) =>
          prop === 'add'
            ? async (data: unknown) => {
                await other.delete(ns.name, [{ sourceId: 'a', sourceVersion: 5 }]);
                await other.write(ns.name, fp, [v('b', 3, 1), v('c', 1, 2)]);
                return target.add(data as never);
              }
            : (Reflect.get(target, prop, receiver) as unknown),
      }) as LanceTableLike;
      const result = await commit(racing, [v('a', 1), v('b', 1), v('c', 1, 2)]);
      expect(result).toEqual({ written: 1, skipped: 2, records: 1 });
      expect(await keysOf(table)).toEqual(['["a"]', '["b","b#0"]', '["b"]', '["c","c#0"]', '["c"]']);
      const heads = await other.heads(ns.name, ['a', 'b', 'c']);
      expect([...heads.values()].map((h) => [h.sourceId, h.sourceVersion, h.deleted])).toEqual([
        ['a', 5, true],
        ['b', 3, false],
        ['c', 1, false],
      ]);
      const hits = await other.search(ns.name, { vector: fx.axisVector(0), fingerprint: fp, k: 10 });
      expect(hits.map((h) => `${h.chunkId}@${h.provenance.sourceVersion}`).sort()).toEqual([
        'b#0@3',
        'c#0@1',
      ]);
    });
  });

  it('heals a raced append whose heal a crash interrupted, on the next call that reads those sources', async () => {
    await withNamespace('crash', async (other, table) => {
      const crashing = new Proxy(table, {
        get: (target, prop, receiver) => {
          if (prop === 'add')
            return async (data: unknown) => {
              await other.delete(ns.name, [{ sourceId: 'a', sourceVersion: 5 }]);
              return target.add(data as never);
            };
          if (prop === 'delete') return () => Promise.reject(new Error('simulated crash'));
          return Reflect.get(target, prop, receiver) as unknown;
        },
      }) as LanceTableLike;
      await expect(commit(crashing, [v('a', 1)])).rejects.toThrow('simulated crash');
      expect((await readSourceState(table, ['a'])).redundant).toEqual([
        "source_id = 'a' AND source_version < 5",
      ]);
      // The retried batch (or any write of `a`) heals before it plans; the tombstone holds.
      expect(await commit(table, [v('a', 1)])).toEqual({ written: 0, skipped: 1, records: 0 });
      expect(await keysOf(table)).toEqual(['["a"]']);
      expect((await other.heads(ns.name, ['a'])).get('a')).toMatchObject({ sourceVersion: 5, deleted: true });
    });
  });
});
