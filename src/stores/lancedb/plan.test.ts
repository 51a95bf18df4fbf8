import { describe, expect, it } from 'vitest';
import { axisVector, sourceWrite } from '../../testing/fixtures.js';
import { type PlanItem, planWrite, type StoredSource } from './plan.js';
import { chunkKey, headKey } from './schema.js';

const write = (id: string, version: number, chunks: number): PlanItem => {
  const w = sourceWrite({ id, version, vectors: Array.from({ length: chunks }, (_, i) => axisVector(i)) });
  return { op: 'write', checked: { write: w, vectors: w.chunks.map((c) => c.vector) } };
};
const stored = (id: string, version: number, chunks: number, deleted = false): [string, StoredSource] => [
  id,
  {
    head: { sourceId: id, sourceVersion: version, contentHash: deleted ? null : 'h', deleted },
    chunkKeys: Array.from({ length: chunks }, (_, i) => chunkKey(id, `${id}#${i}`)),
  },
];

describe('planWrite', () => {
  it('applies the same source twice in call order and materialises only the last applied item', () => {
    const plan = planWrite([write('a', 2, 3), write('a', 1, 1), write('a', 4, 1)], new Map(), 'fp', 'now');
    expect(plan).toMatchObject({ written: 2, skipped: 1, records: 4, retired: 0 });
    expect(plan.rows.map((r) => [r.kind, r.key, r.sourceVersion])).toEqual([
      ['head', headKey('a'), 4],
      ['chunk', chunkKey('a', 'a#0'), 4],
    ]);
    expect(plan.versions).toEqual(new Map([['a', 4]]));
  });

  it('retires stored chunks the new version lacks, and counts removed records for deletes', () => {
    const state = new Map([stored('a', 1, 3), stored('b', 1, 2), stored('t', 9, 0, true)]);
    const plan = planWrite(
      [write('a', 2, 1), { op: 'delete', item: { sourceId: 'b', sourceVersion: 5 } }, write('t', 8, 1)],
      state,
      'fp',
      'now',
    );
    expect(plan).toMatchObject({ written: 2, skipped: 1, retired: 4 });
    expect(plan.rows.filter((r) => r.kind === 'retired').map((r) => r.key)).toEqual([
      chunkKey('a', 'a#1'),
      chunkKey('a', 'a#2'),
      chunkKey('b', 'b#0'),
      chunkKey('b', 'b#1'),
    ]);
    const tombstone = plan.rows.find((r) => r.kind === 'head' && r.sourceId === 'b');
    expect(tombstone).toMatchObject({ deleted: true, contentHash: null, sourceVersion: 5, vector: null });
    expect(plan.rows.every((r) => (r.kind === 'chunk') === (r.vector !== null))).toBe(true);
  });
});
