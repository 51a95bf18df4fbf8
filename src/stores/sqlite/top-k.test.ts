import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopK } from './top-k.js';

describe('TopK', () => {
  it('keeps the k highest scores, best first, for any stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 })),
        fc.integer({ min: 0, max: 20 }),
        (scores, k) => {
          const top = new TopK(k);
          for (const [row, s] of scores.entries()) top.push(s, row);
          const expected = [...scores].sort((a, b) => b - a).slice(0, k);
          const got = top.sorted();
          expect(got.scores).toEqual(expected);
          for (const [i, row] of got.rows.entries()) expect(scores[row]).toBe(got.scores[i]);
        },
      ),
      { seed: 11, numRuns: 200 },
    );
  });
});
