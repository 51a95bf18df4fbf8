import { describe, expect, it } from 'vitest';
import { goldenSetOf } from '../testing/fixtures.js';
import { ReembedError } from './errors.js';
import { GoldenSetBuilder, isGoldenSet, unknownDocIds } from './golden.js';

function caught(fn: () => unknown): ReembedError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ReembedError) return e;
    throw e;
  }
  throw new Error('expected a ReembedError');
}

const loc = (line: number) => ({ file: 'q.tsv', line });

describe('GoldenSetBuilder', () => {
  it('builds a frozen set of evaluable queries and counts what it skipped', () => {
    const g = goldenSetOf(
      'mini',
      { q1: 'first', q2: 'no judgments', q3: 'only non-relevant' },
      { q1: { d1: 2, d2: 0 }, q3: { d1: 0 }, q9: { d1: 1, d2: 1 } },
    );
    expect(isGoldenSet(g)).toBe(true);
    expect(Object.isFrozen(g) && Object.isFrozen(g.queries) && Object.isFrozen(g.qrels)).toBe(true);
    expect(g.queries).toEqual([{ id: 'q1', text: 'first' }]);
    expect({ ...g.qrels.q1 }).toEqual({ d1: 2, d2: 0 });
    expect(g.skipped).toEqual({ noJudgments: 1, noRelevant: 1, judgmentsWithoutQuery: 2 });
    expect(g.judgments).toBe(2);
    expect(g.digest).toMatch(/^gs_[0-9a-f]{16}$/);
  });

  it('the digest depends on content, not on insertion order', () => {
    const make = (order: 'ab' | 'ba', grade = 1) => {
      const b = new GoldenSetBuilder('x');
      b.addQuery('q1', 't');
      const pairs: [string, number][] =
        order === 'ab'
          ? [
              ['a', grade],
              ['b', 1],
            ]
          : [
              ['b', 1],
              ['a', grade],
            ];
      for (const [d, g] of pairs) b.addJudgment('q1', d, g);
      return b.build().digest;
    };
    expect(make('ab')).toBe(make('ba'));
    expect(make('ab', 2)).not.toBe(make('ab'));
  });

  it('rejects a duplicate query id naming both lines', () => {
    const b = new GoldenSetBuilder('x');
    b.addQuery('q1', 'a', loc(1));
    const e = caught(() => b.addQuery('q1', 'b', loc(4)));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('q.tsv:4');
    expect(e.message).toContain('first at q.tsv:1');
    expect(e.details.line).toBe(4);
  });

  it('rejects a duplicate judgment line, an empty text and a non-finite grade', () => {
    const b = new GoldenSetBuilder('x');
    b.addJudgment('q1', 'd1', 1, loc(2));
    expect(caught(() => b.addJudgment('q1', 'd1', 1, loc(7))).message).toMatch(
      /q\.tsv:7: duplicate judgment.*q\.tsv:2/,
    );
    expect(caught(() => b.addQuery('q2', '   ', loc(3))).message).toMatch(
      /q\.tsv:3: query "q2" has empty text/,
    );
    expect(caught(() => b.addJudgment('q1', 'd2', Number.NaN, loc(8))).message).toMatch(/q\.tsv:8: grade/);
  });

  it('names unknown doc ids with their lines (first five)', () => {
    const b = new GoldenSetBuilder('x');
    b.addQuery('q1', 't');
    b.addJudgment('q1', 'known', 1, loc(2));
    for (let i = 0; i < 7; i++) b.addJudgment('q1', `ghost${i}`, 1, loc(3 + i));
    const e = caught(() => b.build({ knownDocIds: new Set(['known']) }));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('7 doc id(s)');
    expect(e.message).toContain('"ghost0" (q.tsv:3)');
    expect(e.message).toContain('"ghost4" (q.tsv:7)');
    expect(e.message).not.toContain('ghost5');
    expect(b.build({ knownDocIds: { has: () => true } }).queries).toHaveLength(1);
  });

  it('refuses a set with nothing to evaluate', () => {
    const b = new GoldenSetBuilder('empty');
    b.addQuery('q1', 't');
    b.addJudgment('other', 'd', 1);
    expect(caught(() => b.build()).message).toMatch(/no query to evaluate/);
  });

  it('unknownDocIds checks a built set against a collection', () => {
    const b = new GoldenSetBuilder('x');
    b.addQuery('q1', 't');
    b.addJudgment('q1', 'a', 1);
    b.addJudgment('q1', 'b', 1);
    expect(unknownDocIds(b.build(), new Set(['a']))).toEqual(['b']);
  });
});
